/*
 * Fixture for the dispatcher tests (dispatch.c, smtp.c, sms.c): the store
 * fixture (SQLite, or PostgreSQL with INVITO_TEST_PG) plus a configuration
 * with defaults, and helpers to queue messages and read their rows back.
 * DQ_NOW is a fixed clock; passes are run at DQ_NOW, DQ_NOW + backoff, ...
 */
#ifndef INVITO_TEST_DISPATCH_FIXTURE_H
#define INVITO_TEST_DISPATCH_FIXTURE_H

#include "../store/fixture.h"

#include "comms/dispatch.h"
#include "comms/outbox.h"
#include "comms/transport.h"
#include "config.h"
#include "lib/log.h"

#define DQ_NOW ((int64_t)1894003200) /* 2030-01-07T08:00:00Z */

static FX_UNUSED struct config dq_cfg;

static inline void dq_set(const char *key, const char *value)
{
	char err[256];
	cr_assert_eq(config_set(&dq_cfg, key, value, err, sizeof(err)), 0, "%s: %s", key, err);
}

static inline void dq_setup(void)
{
	fx_setup();
	cr_assert_eq(config_load(&dq_cfg, "/dev/null"), 0);
	dq_set("transport", "log");
	dq_set("rate_email_per_sec", "0");
	dq_set("rate_sms_per_sec", "0");
	dq_set("smtp_from", "noreply@clinic.example");
	log_set_level(LOG_WARN);
}

static inline void dq_teardown(void)
{
	config_free(&dq_cfg);
	fx_teardown();
}

/* Queues one message of org created at DQ_NOW - 10; returns its id. */
static inline int64_t dq_add(int64_t org, const char *channel, const char *to, const char *subject,
                             const char *body)
{
	int64_t id = 0;
	cr_assert_eq(comms_outbox_add(fx_conn, org, 0, "invitation", channel, to, subject, body,
	                              NULL, DQ_NOW - 10, &id),
	             0);
	cr_assert_gt(id, 0);
	return id;
}

/* An integer column of message id. */
static inline int64_t dq_int(int64_t id, const char *col)
{
	char sql[128];
	int64_t v = 0;
	snprintf(sql, sizeof(sql), "SELECT %s FROM messages WHERE id = ?", col);
	cr_assert_eq(store_scalar(fx_conn, &v, sql, "i", id), 0);
	return v;
}

/* A text column of message id, in fx_arena ("" for NULL). */
static inline const char *dq_text(int64_t id, const char *col)
{
	char sql[128];
	struct store_stmt *s = NULL;
	snprintf(sql, sizeof(sql), "SELECT %s FROM messages WHERE id = ?", col);
	cr_assert_eq(store_query(fx_conn, &s, sql, "i", id), 0);
	cr_assert_eq(store_step(s), 1);
	const char *v = store_col_dup(s, 0, fx_arena);
	store_done(s);
	return v != NULL ? v : "";
}

/* How many messages are in state. */
static inline int64_t dq_count(const char *state)
{
	int64_t n = 0;
	cr_assert_eq(
	    store_scalar(fx_conn, &n, "SELECT COUNT(*) FROM messages WHERE state = ?", "t", state),
	    0);
	return n;
}

static inline struct comms_dispatcher *dq_dispatcher(void)
{
	struct comms_dispatcher *d = NULL;
	cr_assert_eq(comms_dispatcher_create(&d, fx_store, &dq_cfg), 0);
	return d;
}

#endif
