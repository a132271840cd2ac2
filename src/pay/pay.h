/*
 * pay: payment in advance for appointments, through one configured provider.
 *
 * Providers live in one static table (pay.c): `sandbox`, a test mode for the
 * demo and the tests whose checkout page (/pay/sandbox/{ref}) lets the patient
 * choose "complete" or "fail"; and `stripe`, which creates a Checkout Session
 * through Stripe's HTTP API and learns of the payment only from a signed
 * webhook. Each checkout attempt is one row of `payments` (state pending,
 * then succeeded or failed; "paid" is 'succeeded'); an appointment is paid
 * when appointments.paid_at is set, in the same transaction that makes its
 * payment row succeed. Amounts are integer cents, currency EUR.
 *
 * Concurrency: a webhook event may arrive twice at once on two nodes. The
 * event id goes into payment_events (unique per provider) and the payment
 * moves out of 'pending' with a conditional UPDATE, so exactly one delivery
 * changes anything, on SQLite and on PostgreSQL.
 *
 * It must never log or return the secret key, the webhook secret, the
 * Authorization header or card data; it never marks anything paid from a
 * browser redirect (Stripe's success_url) or from an unverified webhook; and it
 * never holds a database transaction open while talking to the provider.
 */
#ifndef INVITO_PAY_H
#define INVITO_PAY_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct config;
struct store_conn;
struct pay;

enum pay_err {
	PAY_OK = 0,
	PAY_ERR = -1,         /* internal failure (database, memory); logged */
	PAY_INVALID = -2,     /* bad argument, or a webhook body that is not a valid event */
	PAY_NOTFOUND = -3,    /* no such appointment or payment */
	PAY_NOTHING_DUE = -4, /* no payment on this appointment, already paid, or not booked */
	PAY_PROVIDER = -5,    /* the provider refused the checkout or could not be reached */
	PAY_SIGNATURE = -6,   /* webhook signature missing, malformed or wrong */
	PAY_STALE = -7,       /* webhook signature timestamp outside the tolerance */
	PAY_DISABLED = -8,    /* the call belongs to a provider that is not the configured one */
	PAY_STATE = -9,       /* the payment is no longer pending (completed after failing, ...) */
	PAY_CONFIG = -10,     /* the provider's settings are missing or bad */
};
/* English text for err, safe to log; never contains a secret. */
const char *pay_strerror(int err);

/*
 * The HTTP status a webhook endpoint answers for pay_webhook()'s rc: 200 for
 * 0 (also for replays and ignored events: the provider must stop resending),
 * 400 for a forged, stale or malformed delivery, 404 when no provider takes
 * webhooks, 500 otherwise (the provider retries later).
 */
int pay_webhook_status(int rc);

/* --- the configured provider ---------------------------------------- */

/*
 * Reads payment_provider and, for stripe, stripe_api_base, stripe_secret_key,
 * stripe_webhook_secret and stripe_tolerance from cfg (and base_url), copying
 * what it keeps. Returns 0 and *out (free with pay_free), or PAY_CONFIG with
 * one log line naming the missing setting (never its value). Thread-safe
 * after creation: one struct pay serves every request.
 */
int pay_create(struct pay **out, const struct config *cfg);
/* Accepts NULL; wipes the secrets it copied. */
void pay_free(struct pay *p);
/* "sandbox" or "stripe". */
const char *pay_provider_name(const struct pay *p);
/* 1 when the provider is the sandbox: pages must label it as a test mode. */
int pay_is_test_mode(const struct pay *p);

/* --- checkout ------------------------------------------------------------- */

struct pay_checkout {
	int64_t payment_id;   /* the new payments row */
	int64_t amount_cents; /* what is charged, from the appointment */
	char *ref;            /* provider_ref: sandbox ref or Stripe session id (arena) */
	char *url;            /* where to send the patient: "/pay/sandbox/{ref}" or https://... */
	char *error;          /* on PAY_PROVIDER: the provider's error type/code, or NULL (arena) */
};

/*
 * Starts one checkout attempt for appointment_id: checks that something is
 * due (payment optional or mandatory, amount > 0, booked, not paid), inserts
 * a pending payments row, asks the provider for a checkout and records its
 * ref. portal_base is the base URL of the patient's portal, for Stripe's
 * success and cancel URLs (NULL: cfg base_url). The caller has checked that
 * the signed-in patient may pay this appointment; c must have no transaction
 * open. On PAY_PROVIDER the attempt's row is marked failed and nothing is
 * paid. Returns 0 and *out (strings in a), or a negative pay_err.
 */
int pay_checkout_start(struct pay *p, struct store_conn *c, int64_t appointment_id,
                       const char *portal_base, int64_t now, struct pay_checkout *out,
                       struct arena *a);

/* --- results: webhooks and the sandbox ------------------------------------ */

enum pay_outcome {
	PAY_OUT_NONE = 0,
	PAY_OUT_PAID,      /* this call marked the payment succeeded (and the appointment paid) */
	PAY_OUT_FAILED,    /* this call marked the payment failed */
	PAY_OUT_DUPLICATE, /* already done by an earlier or concurrent call: nothing changed */
	PAY_OUT_IGNORED,   /* a verified event that needs nothing (other type, unpaid, unknown) */
};

struct pay_result {
	enum pay_outcome outcome;
	int64_t payment_id, appointment_id; /* 0 when no payment was involved */
};

/*
 * Handles one webhook delivery for the configured provider: signature is the
 * provider's signature header (Stripe-Signature), body the raw request body
 * exactly as received (len bytes), now the current time. Verifies the
 * signature before reading the body; on a paid checkout it marks the payment
 * succeeded and the appointment paid in one transaction, once per event and
 * once per payment. c must have no transaction open. Returns 0 and *out, or
 * a negative pay_err; answer with pay_webhook_status(rc).
 */
int pay_webhook(struct pay *p, struct store_conn *c, const char *signature, const char *body,
                size_t len, int64_t now, struct pay_result *out);

/*
 * Stripe-Signature check, exported for tests: header "t=TS,v1=HEX[,v1=HEX...]"
 * (other schemes ignored), HMAC-SHA256 of "TS.body" keyed with secret,
 * compared in constant time with every v1. 0 when one matches and
 * |now - TS| <= tolerance; PAY_SIGNATURE when malformed or none match;
 * PAY_STALE when a signature matches but TS is too old or too far ahead;
 * PAY_CONFIG when secret is empty.
 */
int pay_stripe_verify(const char *header, const char *body, size_t len, const char *secret,
                      int64_t tolerance, int64_t now);

struct pay_payment {
	int64_t id, appointment_id, amount_cents, created_at, updated_at;
	char *provider, *ref, *state, *currency; /* state: pending, succeeded, failed, ... */
};

/*
 * The sandbox's page reads its payment by ref (PAY_NOTFOUND when unknown).
 * Complete and fail record the patient's choice: complete marks the payment
 * succeeded and the appointment paid in one transaction (PAY_OUT_PAID, or
 * PAY_OUT_DUPLICATE when it already was); fail marks it failed (PAY_OUT_FAILED
 * or PAY_OUT_DUPLICATE); the other choice after one was made is PAY_STATE.
 * All three are PAY_DISABLED unless the configured provider is the sandbox.
 * The caller has checked that the signed-in patient may pay this payment's
 * appointment. c must have no transaction open.
 */
int pay_sandbox_get(struct pay *p, struct store_conn *c, const char *ref, struct pay_payment *out,
                    struct arena *a);
int pay_sandbox_complete(struct pay *p, struct store_conn *c, const char *ref, int64_t now,
                         struct pay_result *out);
int pay_sandbox_fail(struct pay *p, struct store_conn *c, const char *ref, int64_t now,
                     struct pay_result *out);

#endif
