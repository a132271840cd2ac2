/*
 * pay/internal: what the provider files share with pay.c, and nothing the rest
 * of invito may use. A provider asks its service for a checkout and verifies
 * its callbacks; the bookkeeping in the store (payments rows, paid_at) is
 * pay.c's, so every provider settles a payment the same way.
 */
#ifndef INVITO_PAY_INTERNAL_H
#define INVITO_PAY_INTERNAL_H

#include "pay/pay.h"

#include <stddef.h>
#include <stdint.h>

struct pay {
	const struct pay_provider *prov;
	char *base_url;       /* cfg base_url: default portal base for return URLs */
	char *api_base;       /* stripe: "https://api.stripe.com", no trailing slash */
	char *secret_key;     /* stripe: "sk_..."; never logged */
	char *webhook_secret; /* stripe: "whsec_..."; never logged */
	int64_t tolerance;    /* stripe: seconds */
	long timeout_s;       /* HTTP calls to the provider */
};

/* What a provider needs to open a checkout; the row already exists, pending. */
struct pay_due {
	int64_t appointment_id, payment_id, amount_cents;
	const char *currency;    /* "EUR" */
	const char *description; /* the service's name, shown on the provider's page */
	const char *portal_base; /* base URL of the patient's portal, no trailing slash */
};

struct pay_provider {
	const char *name;
	int test_mode; /* labelled as a test on every page that shows it */
	/* Checks the settings at pay_create(); NULL when there are none. */
	int (*check)(const struct pay *p);
	/* Opens a checkout for due without touching the store: sets out->ref and
	 * out->url (arena), or returns a pay_err (out->error may say why). */
	int (*start_checkout)(struct pay *p, const struct pay_due *due, struct pay_checkout *out,
	                      struct arena *a);
	/* NULL when the provider has no webhooks. */
	int (*handle_webhook)(struct pay *p, struct store_conn *c, const char *sig,
	                      const char *body, size_t len, int64_t now, struct pay_result *out);
};

/* sandbox.c */
int pay_sandbox_start(struct pay *p, const struct pay_due *due, struct pay_checkout *out,
                      struct arena *a);

/* stripe.c */
int pay_stripe_check(const struct pay *p);
int pay_stripe_start(struct pay *p, const struct pay_due *due, struct pay_checkout *out,
                     struct arena *a);
/* stripe_webhook.c */
int pay_stripe_webhook(struct pay *p, struct store_conn *c, const char *sig, const char *body,
                       size_t len, int64_t now, struct pay_result *out);

/* pay.c */

/*
 * Inside a transaction the caller opened: moves payment_id from pending to
 * succeeded and, when that changed it, sets its appointment's paid_at (unless
 * already set) and writes an audit event. *changed is 1 when this call moved
 * the payment, 0 when it was not pending (another delivery got there first).
 */
int pay_settle(struct store_conn *c, int64_t payment_id, const char *provider, int64_t now,
               int *changed);
/* A store_err as a pay_err: STORE_NOTFOUND → PAY_NOTFOUND, others → PAY_ERR. */
int pay_from_store(int store_rc);
/* 32 lowercase hex characters from 16 random bytes, in a. */
char *pay_random_hex(struct arena *a);

#endif
