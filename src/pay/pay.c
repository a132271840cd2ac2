/*
 * pay: the provider table, the configured provider, and the bookkeeping every
 * provider shares: one payments row per checkout attempt, and settling a
 * payment (succeeded + appointments.paid_at) in one transaction with
 * conditional updates, so concurrent deliveries change it once.
 *
 * It must never hold a transaction open across a call to the provider, and
 * never write a secret into a log line, an error or the audit detail.
 */
#include "pay/internal.h"

#include "config.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "store/store.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct pay_provider providers[] = {
    {"sandbox", 1, NULL, pay_sandbox_start, NULL},
    {"stripe", 0, pay_stripe_check, pay_stripe_start, pay_stripe_webhook},
};

const char *pay_strerror(int err)
{
	switch (err) {
	case PAY_OK:
		return "success";
	case PAY_ERR:
		return "internal error";
	case PAY_INVALID:
		return "invalid request";
	case PAY_NOTFOUND:
		return "no such appointment or payment";
	case PAY_NOTHING_DUE:
		return "nothing to pay for this appointment";
	case PAY_PROVIDER:
		return "the payment provider refused the checkout or could not be reached";
	case PAY_SIGNATURE:
		return "webhook signature missing or wrong";
	case PAY_STALE:
		return "webhook signature timestamp outside the tolerance";
	case PAY_DISABLED:
		return "not available with the configured payment provider";
	case PAY_STATE:
		return "the payment is no longer pending";
	case PAY_CONFIG:
		return "payment settings missing or bad";
	}
	return "unknown error";
}

int pay_webhook_status(int rc)
{
	switch (rc) {
	case PAY_OK:
		return 200;
	case PAY_INVALID:
	case PAY_SIGNATURE:
	case PAY_STALE:
		return 400;
	case PAY_DISABLED:
		return 404;
	default:
		return 500;
	}
}

int pay_from_store(int store_rc)
{
	if (store_rc == STORE_OK)
		return PAY_OK;
	return store_rc == STORE_NOTFOUND ? PAY_NOTFOUND : PAY_ERR;
}

char *pay_random_hex(struct arena *a)
{
	unsigned char raw[16];
	char hex[2 * sizeof(raw) + 1];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	return arena_strdup(a, hex);
}

/* --- the configured provider ---------------------------------------- */

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;
static int libs_rc;

static void libs_init(void)
{
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		libs_rc = -1;
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

int pay_create(struct pay **out, const struct config *cfg)
{
	*out = NULL;
	if (pthread_once(&libs_once, libs_init) != 0 || libs_rc < 0) {
		log_error("pay: libsodium or libcurl failed to start");
		return PAY_ERR;
	}
	const struct pay_provider *prov = NULL;
	const char *name = cfg->payment_provider != NULL ? cfg->payment_provider : "sandbox";
	for (size_t i = 0; i < ARRAY_LEN(providers); i++)
		if (strcmp(providers[i].name, name) == 0)
			prov = &providers[i];
	if (prov == NULL) {
		log_error("pay: unknown payment_provider \"%s\"", name);
		return PAY_CONFIG;
	}
	struct pay *p = xcalloc(1, sizeof(*p));
	p->prov = prov;
	p->base_url = dup_or_empty(cfg->base_url);
	p->api_base = dup_or_empty(cfg->stripe_api_base);
	p->secret_key = dup_or_empty(cfg->stripe_secret_key);
	p->webhook_secret = dup_or_empty(cfg->stripe_webhook_secret);
	p->tolerance = cfg->stripe_tolerance > 0 ? cfg->stripe_tolerance : 300;
	p->timeout_s = 30;
	if (prov->check != NULL && prov->check(p) < 0) {
		pay_free(p);
		return PAY_CONFIG;
	}
	if (prov->test_mode)
		log_warn("pay: payment provider is the sandbox: a test mode, no money is taken");
	*out = p;
	return PAY_OK;
}

static void free_secret(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

void pay_free(struct pay *p)
{
	if (p == NULL)
		return;
	free(p->base_url);
	free(p->api_base);
	free_secret(p->secret_key);
	free_secret(p->webhook_secret);
	free(p);
}

const char *pay_provider_name(const struct pay *p)
{
	return p->prov->name;
}

int pay_is_test_mode(const struct pay *p)
{
	return p->prov->test_mode;
}

/* --- checkout ------------------------------------------------------------- */

/* Reads what is due on the appointment into due (strings in a). */
static int read_due(struct store_conn *c, int64_t appointment_id, struct pay_due *due,
                    struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT a.amount_cents, a.payment, a.status, a.paid_at, s.name "
	                     "FROM appointments a JOIN services s ON s.id = a.service_id "
	                     "WHERE a.id = ?",
	                     "i", appointment_id);
	if (rc != 0)
		return PAY_ERR;
	rc = store_step(s);
	if (rc < 0) {
		rc = PAY_ERR;
		goto out;
	}
	if (rc == 0) {
		rc = PAY_NOTFOUND;
		goto out;
	}
	const char *payment = store_col_text(s, 1), *status = store_col_text(s, 2);
	due->appointment_id = appointment_id;
	due->amount_cents = store_col_int(s, 0);
	due->currency = "EUR";
	due->description = store_col_dup(s, 4, a);
	if (payment == NULL || strcmp(payment, "none") == 0 || status == NULL ||
	    strcmp(status, "booked") != 0 || !store_col_is_null(s, 3) || due->amount_cents <= 0)
		rc = PAY_NOTHING_DUE;
	else
		rc = PAY_OK;
out:
	store_done(s);
	return rc;
}

int pay_checkout_start(struct pay *p, struct store_conn *c, int64_t appointment_id,
                       const char *portal_base, int64_t now, struct pay_checkout *out,
                       struct arena *a)
{
	struct pay_due due = {0};
	memset(out, 0, sizeof(*out));
	if (appointment_id <= 0)
		return PAY_INVALID;
	int rc = read_due(c, appointment_id, &due, a);
	if (rc != 0)
		return rc;
	due.portal_base = portal_base != NULL && *portal_base ? portal_base : p->base_url;

	/* The attempt's row first, on its own: the provider is called outside any transaction. */
	int src = store_insert(
	    c, &due.payment_id,
	    "INSERT INTO payments (appointment_id, provider, state, amount_cents, "
	    "currency, created_at, updated_at) "
	    "VALUES (?, ?, 'pending', ?, ?, ?, ?) RETURNING id",
	    "ititii", appointment_id, p->prov->name, due.amount_cents, due.currency, now, now);
	if (src == STORE_NOTFOUND) /* the appointment went away: foreign key */
		return PAY_NOTFOUND;
	if (src != 0)
		return PAY_ERR;
	out->payment_id = due.payment_id;
	out->amount_cents = due.amount_cents;

	rc = p->prov->start_checkout(p, &due, out, a);
	if (rc == 0)
		src = store_exec(
		    c, NULL, "UPDATE payments SET provider_ref = ?, updated_at = ? WHERE id = ?",
		    "tii", out->ref, now, due.payment_id);
	if (rc == 0 && src != 0)
		rc = PAY_ERR;
	if (rc != 0) {
		/* The attempt is over: failed, never paid. */
		store_exec(c, NULL,
		           "UPDATE payments SET state = 'failed', updated_at = ? "
		           "WHERE id = ? AND state = 'pending'",
		           "ii", now, due.payment_id);
		out->ref = NULL;
		out->url = NULL;
		log_warn("pay: checkout for appointment %lld (payment %lld, %s) failed: %s",
		         (long long)appointment_id, (long long)due.payment_id, p->prov->name,
		         pay_strerror(rc));
		return rc;
	}
	log_info("pay: checkout %lld started for appointment %lld with %s (%lld cents)",
	         (long long)due.payment_id, (long long)appointment_id, p->prov->name,
	         (long long)due.amount_cents);
	return PAY_OK;
}

/* --- settling --------------------------------------------------------------- */

int pay_settle(struct store_conn *c, int64_t payment_id, const char *provider, int64_t now,
               int *changed)
{
	int64_t n = 0, appt = 0, org = 0;
	*changed = 0;
	int rc = store_exec(c, &n,
	                    "UPDATE payments SET state = 'succeeded', updated_at = ? "
	                    "WHERE id = ? AND state = 'pending'",
	                    "ii", now, payment_id);
	if (rc != 0)
		return PAY_ERR;
	if (n == 0)
		return PAY_OK;
	*changed = 1;
	if (store_scalar(c, &appt, "SELECT appointment_id FROM payments WHERE id = ?", "i",
	                 payment_id) != 0 ||
	    store_scalar(c, &org, "SELECT org_id FROM appointments WHERE id = ?", "i", appt) != 0)
		return PAY_ERR;
	rc = store_exec(c, &n,
	                "UPDATE appointments SET paid_at = ?, updated_at = ? "
	                "WHERE id = ? AND paid_at IS NULL",
	                "iii", now, now, appt);
	if (rc != 0)
		return PAY_ERR;
	if (n == 0)
		/* Two attempts both paid (two provider pages left open): staff must refund one. */
		log_warn("pay: appointment %lld was already paid; payment %lld succeeded too",
		         (long long)appt, (long long)payment_id);
	char detail[96];
	snprintf(detail, sizeof(detail), "payment %lld by %s%s", (long long)payment_id, provider,
	         n == 0 ? " (already paid before)" : "");
	if (store_audit(c, org, "system", 0, "appointment.paid", "appointment", appt, NULL,
	                detail) != 0)
		return PAY_ERR;
	return PAY_OK;
}

/* --- webhooks --------------------------------------------------------------- */

int pay_webhook(struct pay *p, struct store_conn *c, const char *signature, const char *body,
                size_t len, int64_t now, struct pay_result *out)
{
	memset(out, 0, sizeof(*out));
	if (p->prov->handle_webhook == NULL)
		return PAY_DISABLED;
	if (body == NULL)
		return PAY_INVALID;
	return p->prov->handle_webhook(p, c, signature, body, len, now, out);
}
