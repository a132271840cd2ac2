/*
 * pay/stripe_webhook: Stripe's webhook deliveries, the only thing that marks a
 * Stripe payment paid.
 *
 * Order matters: first the Stripe-Signature header is checked (HMAC-SHA256 of
 * "t.body" with the endpoint's secret, constant-time, timestamp within the
 * tolerance) and only then is the body parsed. A verified
 * checkout.session.completed with payment_status "paid" settles the payment
 * whose provider_ref is the session id, once: the event id is inserted into
 * payment_events (unique per provider, ON CONFLICT DO NOTHING) in the same
 * transaction, so a replay or a concurrent second delivery changes nothing.
 * Other event types are acknowledged and ignored.
 *
 * It must never parse or act on a body whose signature did not verify, never
 * log the header, the secret or the body, and never trust the amount in the
 * event over the one in our payments row.
 */
#include "pay/internal.h"

#include "lib/log.h"
#include "lib/util.h"
#include "store/store.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#define HEADER_MAX 8192 /* a real header is ~150 bytes; more is an attack or a mistake */
#define SIGS_MAX   8    /* v1 entries: Stripe sends several while a secret is rolled */
#define TS_DIGITS  18
#define ID_MAX     255

int pay_stripe_verify(const char *header, const char *body, size_t len, const char *secret,
                      int64_t tolerance, int64_t now)
{
	unsigned char sigs[SIGS_MAX][crypto_auth_hmacsha256_BYTES];
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	const char *ts = NULL;
	size_t tslen = 0;
	int nts = 0, nsig = 0;

	if (secret == NULL || *secret == '\0')
		return PAY_CONFIG;
	if (header == NULL || body == NULL || strnlen(header, HEADER_MAX + 1) > HEADER_MAX)
		return PAY_SIGNATURE;
	for (const char *p = header; *p != '\0';) {
		const char *end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		const char *k = p, *e = end;
		p = *end != '\0' ? end + 1 : end;
		while (k < e && *k == ' ')
			k++;
		while (e > k && e[-1] == ' ')
			e--;
		if (k == e)
			continue; /* "t=1,,v1=..." or a trailing comma */
		const char *eq = memchr(k, '=', (size_t)(e - k));
		if (eq == NULL)
			return PAY_SIGNATURE;
		const char *v = eq + 1;
		size_t klen = (size_t)(eq - k), vlen = (size_t)(e - v);
		if (klen == 1 && k[0] == 't') {
			nts++;
			ts = v;
			tslen = vlen;
		} else if (klen == 2 && memcmp(k, "v1", 2) == 0) {
			size_t bin = 0;
			const char *stop = NULL;
			if (nsig == SIGS_MAX)
				return PAY_SIGNATURE;
			/* A v1 that is not 64 hex digits cannot match: skip it, keep the others. */
			if (vlen == 2 * sizeof(mac) &&
			    sodium_hex2bin(sigs[nsig], sizeof(mac), v, vlen, NULL, &bin, &stop) ==
			        0 &&
			    bin == sizeof(mac) && stop == e)
				nsig++;
		}
		/* other schemes (v0, ...) are ignored, as Stripe's own libraries do */
	}
	if (nts != 1 || tslen == 0 || tslen > TS_DIGITS || nsig == 0)
		return PAY_SIGNATURE;
	int64_t t = 0;
	for (size_t i = 0; i < tslen; i++) {
		if (ts[i] < '0' || ts[i] > '9')
			return PAY_SIGNATURE;
		t = t * 10 + (ts[i] - '0');
	}

	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, tslen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	int match = 0;
	for (int i = 0; i < nsig; i++)
		match |= sodium_memcmp(mac, sigs[i], sizeof(mac)) == 0;
	if (!match)
		return PAY_SIGNATURE;
	if (now - t > tolerance || t - now > tolerance)
		return PAY_STALE;
	return PAY_OK;
}

/* What a checkout.session.completed event says; pointers into the JSON tree. */
struct event {
	const char *id, *type;
	const char *session, *payment_status, *currency;
	int64_t amount_total;
};

static int text_ok(const char *s)
{
	return s != NULL && *s != '\0' && strlen(s) <= ID_MAX;
}

static int parse_event(json_t *root, struct event *ev)
{
	if (!json_is_object(root))
		return PAY_INVALID;
	ev->id = json_string_value(json_object_get(root, "id"));
	ev->type = json_string_value(json_object_get(root, "type"));
	if (!text_ok(ev->id) || !text_ok(ev->type))
		return PAY_INVALID;
	if (strcmp(ev->type, "checkout.session.completed") != 0)
		return PAY_OK;
	json_t *obj = json_object_get(json_object_get(root, "data"), "object");
	json_t *amount = json_object_get(obj, "amount_total");
	ev->session = json_string_value(json_object_get(obj, "id"));
	ev->payment_status = json_string_value(json_object_get(obj, "payment_status"));
	ev->currency = json_string_value(json_object_get(obj, "currency"));
	if (!json_is_object(obj) || !text_ok(ev->session) || ev->payment_status == NULL)
		return PAY_INVALID;
	ev->amount_total = json_is_integer(amount) ? (int64_t)json_integer_value(amount) : -1;
	return PAY_OK;
}

/* The payment for the session: id, appointment, amount. PAY_NOTFOUND when not ours. */
static int find_payment(struct store_conn *c, const char *session, struct pay_result *out,
                        int64_t *amount)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT id, appointment_id, amount_cents FROM payments "
	                     "WHERE provider = 'stripe' AND provider_ref = ?",
	                     "t", session);
	if (rc != 0)
		return PAY_ERR;
	rc = store_step(s);
	if (rc == 1) {
		out->payment_id = store_col_int(s, 0);
		out->appointment_id = store_col_int(s, 1);
		*amount = store_col_int(s, 2);
		rc = PAY_OK;
	} else {
		rc = rc == 0 ? PAY_NOTFOUND : PAY_ERR;
	}
	store_done(s);
	return rc;
}

/* Inside the transaction: settles the event's payment once. */
static int settle_event(struct store_conn *c, const struct event *ev, int64_t now,
                        struct pay_result *out)
{
	int64_t amount = 0, inserted = 0;
	int changed = 0;
	int rc = find_payment(c, ev->session, out, &amount);
	if (rc == PAY_NOTFOUND) {
		/* A session of another integration on the same account: not ours to record. */
		log_warn("pay: stripe event %s is for an unknown session", ev->id);
		out->outcome = PAY_OUT_IGNORED;
		return PAY_NOTFOUND;
	}
	if (rc != 0)
		return rc;
	/* The event id first: a concurrent twin waits here for our commit, then inserts nothing. */
	if (store_exec(c, &inserted,
	               "INSERT INTO payment_events (provider, event_id, type, payment_id, "
	               "received_at) VALUES ('stripe', ?, ?, ?, ?) "
	               "ON CONFLICT (provider, event_id) DO NOTHING",
	               "ttii", ev->id, ev->type, out->payment_id, now) != 0)
		return PAY_ERR;
	if (inserted == 0) {
		out->outcome = PAY_OUT_DUPLICATE;
		return PAY_OK;
	}
	if (ev->amount_total != amount || ev->currency == NULL ||
	    strcasecmp(ev->currency, "eur") != 0) {
		/* Recorded but not paid: an operator must look at it. */
		log_error("pay: stripe event %s for payment %lld: amount or currency differs "
		          "from the checkout; not marked paid",
		          ev->id, (long long)out->payment_id);
		out->outcome = PAY_OUT_IGNORED;
		return PAY_OK;
	}
	if ((rc = pay_settle(c, out->payment_id, "stripe", now, &changed)) != 0)
		return rc;
	out->outcome = changed ? PAY_OUT_PAID : PAY_OUT_DUPLICATE;
	return PAY_OK;
}

int pay_stripe_webhook(struct pay *p, struct store_conn *c, const char *sig, const char *body,
                       size_t len, int64_t now, struct pay_result *out)
{
	struct event ev = {0};
	json_t *root = NULL;
	int rc = pay_stripe_verify(sig, body, len, p->webhook_secret, p->tolerance, now);
	if (rc != 0) {
		log_warn("pay: stripe webhook refused: %s", pay_strerror(rc));
		return rc;
	}
	json_error_t jerr;
	root = json_loadb(body, len, 0, &jerr);
	if ((rc = parse_event(root, &ev)) != 0) {
		log_warn("pay: stripe webhook: a signed body that is not an event we understand");
		goto out;
	}
	if (ev.session == NULL || strcmp(ev.payment_status, "paid") != 0) {
		/* Other types, and sessions paid later (async methods): nothing to do. */
		out->outcome = PAY_OUT_IGNORED;
		goto out;
	}
	if (store_begin(c) != 0) {
		rc = PAY_ERR;
		goto out;
	}
	rc = settle_event(c, &ev, now, out);
	if (rc == PAY_NOTFOUND) {
		store_rollback(c);
		rc = PAY_OK; /* acknowledged, or Stripe would resend it for days */
		goto out;
	}
	if (rc == 0 && store_commit(c) != 0)
		rc = PAY_ERR;
	if (rc != 0) {
		store_rollback(c);
		out->outcome = PAY_OUT_NONE;
		goto out;
	}
	if (out->outcome == PAY_OUT_PAID)
		log_info("pay: stripe event %s: payment %lld paid, appointment %lld", ev.id,
		         (long long)out->payment_id, (long long)out->appointment_id);
	else if (out->outcome == PAY_OUT_DUPLICATE)
		log_info("pay: stripe event %s: already processed", ev.id);
out:
	json_decref(root);
	return rc;
}
