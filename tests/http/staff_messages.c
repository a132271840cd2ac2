/*
 * HTTP tests of the staff "Messages" page (src/staff/messages.c): the list
 * confined to the organisation, the state filter, keyset pages, bodies shown
 * escaped, the admin's Retry (CSRF, admin only, dead messages only, another
 * organisation's message a 404), and, on whatever database the suite runs
 * (PostgreSQL under `make http-pg`), two dispatchers draining one outbox:
 * every message sent exactly once.
 */
#include "harness.h"

#include "comms/dispatch.h"
#include "comms/outbox.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

TestSuite(staff_messages, .init = h_start, .fini = h_stop, .timeout = 60);

static int64_t add(int org, const char *channel, const char *body)
{
	struct store_conn *c = h_db();
	int64_t id = 0;
	cr_assert_eq(
	    comms_outbox_add(c, H.org[org].org_id, 0, "invitation", channel,
	                     strcmp(channel, "sms") == 0 ? "+393331234567" : "p@example.it",
	                     strcmp(channel, "sms") == 0 ? NULL : "Subject", body, NULL, 1000, &id),
	    0);
	store_release(c);
	return id;
}

static void set_state(int64_t id, const char *state)
{
	struct store_conn *c = h_db();
	cr_assert_eq(store_exec(c, NULL,
	                        "UPDATE messages SET state = ?, attempts = 6, last_error = "
	                        "'SMTP 550: RCPT failed' WHERE id = ?",
	                        "ti", state, id),
	             0);
	store_release(c);
}

static const char *state_of(int64_t id)
{
	static char st[16];
	struct store_conn *c = h_db();
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(c, &s, "SELECT state FROM messages WHERE id = ?", "i", id), 0);
	cr_assert_eq(store_step(s), 1);
	snprintf(st, sizeof(st), "%s", store_col_text(s, 0));
	store_done(s);
	store_release(c);
	return st;
}

Test(staff_messages, needs_sign_in)
{
	struct h_client *c = h_client();
	struct h_resp r;
	h_get(c, "/staff/messages", &r);
	cr_assert_eq(r.status, 303);
	h_resp_free(&r);
}

Test(staff_messages, lists_own_messages_escaped)
{
	int64_t mine = add(0, "email", "Ciao <script>alert(1)</script> http://x/i/1");
	add(1, "sms", "other clinic's text");
	set_state(mine, "dead");
	struct h_client *c = h_client();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/messages", &r), 200);
	cr_assert(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	cr_assert(strstr(r.body, "<script>alert") == NULL);
	cr_assert(strstr(r.body, "other clinic") == NULL);
	cr_assert(strstr(r.body, "SMTP 550: RCPT failed") != NULL);
	cr_assert(strstr(r.body, "p@example.it") != NULL);
	char action[64];
	snprintf(action, sizeof(action), "/staff/messages/%lld/retry", (long long)mine);
	cr_assert(strstr(r.body, action) != NULL);
	h_resp_free(&r);
}

Test(staff_messages, filter_and_pages)
{
	int64_t ids[60];
	for (int i = 0; i < 60; i++)
		ids[i] = add(0, "sms", "x");
	set_state(ids[3], "dead");
	struct h_client *c = h_client();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/messages?state=dead", &r), 200);
	cr_assert(strstr(r.body, "data-state=\"dead\"") != NULL);
	cr_assert(strstr(r.body, "data-state=\"queued\"") == NULL);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/messages", &r), 200);
	char next[96];
	snprintf(next, sizeof(next), "/staff/messages?before=%lld", (long long)ids[10]);
	cr_assert(strstr(r.body, next) != NULL, "page 1 links to the next");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, next, &r), 200);
	char last[32];
	snprintf(last, sizeof(last), "id=\"message-%lld\"", (long long)ids[0]);
	cr_assert(strstr(r.body, last) != NULL);
	cr_assert(strstr(r.body, "rel=\"next\"") == NULL);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/messages?before=abc", &r), 400);
	h_resp_free(&r);
}

Test(staff_messages, admin_retry)
{
	int64_t dead = add(0, "email", "x"), queued = add(0, "email", "y"),
	        other = add(1, "sms", "z");
	set_state(dead, "dead");
	set_state(other, "dead");
	struct h_client *c = h_client();
	struct h_resp r;
	char path[64];
	h_staff_signin(c, 0);
	snprintf(path, sizeof(path), "/staff/messages/%lld/retry", (long long)dead);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", "wrong", NULL), 403);
	h_resp_free(&r);
	cr_assert_str_eq(state_of(dead), "dead");
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	h_resp_free(&r);
	cr_assert_str_eq(state_of(dead), "queued");
	snprintf(path, sizeof(path), "/staff/messages/%lld/retry", (long long)queued);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert(strstr(h_header(&r, "Location"), "done=gone") != NULL);
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/staff/messages/%lld/retry", (long long)other);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 404);
	h_resp_free(&r);
	cr_assert_str_eq(state_of(other), "dead");
	/* a receptionist sees the page but cannot retry */
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL, "UPDATE staff_users SET role = 'reception' WHERE id = ?",
	                        "i", H.org[0].staff_id),
	             0);
	store_release(db);
	set_state(dead, "dead");
	snprintf(path, sizeof(path), "/staff/messages/%lld/retry", (long long)dead);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 403);
	h_resp_free(&r);
	cr_assert_str_eq(state_of(dead), "dead");
	cr_assert_eq(h_get(c, "/staff/messages", &r), 200);
	cr_assert(strstr(r.body, "/retry") == NULL);
	h_resp_free(&r);
}

Test(staff_messages, a_purged_text_is_said_and_cannot_be_retried)
{
	int64_t old = add(0, "email", "Your link: https://portal.example/i/secret-token-text");
	set_state(old, "dead");
	cr_assert_eq(comms_outbox_purge(H.store, 1000 + 31 * 86400, NULL), 0);
	struct h_client *c = h_client();
	struct h_resp r;
	char path[64];
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/messages", &r), 200);
	cr_assert(strstr(r.body, "secret-token-text") == NULL, "the text is gone");
	cr_assert(strstr(r.body, "Text removed") != NULL ||
	          strstr(r.body, "Testo rimosso") != NULL);
	cr_assert(strstr(r.body, "/retry") == NULL, "nothing to send again");
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/staff/messages/%lld/retry", (long long)old);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert(strstr(h_header(&r, "Location"), "done=gone") != NULL);
	h_resp_free(&r);
	cr_assert_str_eq(state_of(old), "dead");
}

/* --- two nodes on the suite's database ------------------------------------------------ */

struct node {
	struct store *st;
	struct comms_dispatcher *d;
	struct comms_dispatch_stats stats;
	pthread_barrier_t *go;
};

static void *node_run(void *arg)
{
	struct node *n = arg;
	pthread_barrier_wait(n->go);
	while (comms_dispatch_pass(n->d, 2000, &n->stats) > 0)
		;
	return NULL;
}

Test(staff_messages, two_dispatchers_send_each_message_once, .timeout = 120)
{
	enum { N = 400 };
	struct store_conn *db = h_db();
	cr_assert_eq(store_begin(db), 0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(comms_outbox_add(db, H.org[i % 2].org_id, 0, "invitation",
		                              i % 3 ? "email" : "sms", "p@example.it", "S", "B",
		                              NULL, 1000, NULL),
		             0);
	cr_assert_eq(store_commit(db), 0);
	store_release(db);
	char err[128];
	cr_assert_eq(config_set(&H.cfg, "dispatch_batch", "20", err, sizeof(err)), 0);
	cr_assert_eq(config_set(&H.cfg, "rate_email_per_sec", "0", err, sizeof(err)), 0);
	cr_assert_eq(config_set(&H.cfg, "rate_sms_per_sec", "0", err, sizeof(err)), 0);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	struct node nodes[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].go = &go;
		cr_assert_eq(store_open(&nodes[i].st, H.cfg.database, 2), 0);
		cr_assert_eq(comms_dispatcher_create(&nodes[i].d, nodes[i].st, &H.cfg), 0);
		cr_assert_eq(pthread_create(&th[i], NULL, node_run, &nodes[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(nodes[0].stats.sent + nodes[1].stats.sent, N);
	int64_t ok = 0;
	db = h_db();
	cr_assert_eq(
	    store_scalar(db, &ok,
	                 "SELECT COUNT(*) FROM messages WHERE state = 'sent' AND attempts = 1", ""),
	    0);
	store_release(db);
	cr_assert_eq(ok, N);
	for (int i = 0; i < 2; i++) {
		comms_dispatcher_free(nodes[i].d);
		store_free(nodes[i].st);
	}
	pthread_barrier_destroy(&go);
}
