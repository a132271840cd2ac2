/*
 * pay/sandbox: the test-mode provider, for the demo and the tests. Its
 * checkout is a page of our own, /pay/sandbox/{ref}, where the patient chooses
 * "complete" or "fail"; the choice is recorded here. No money moves.
 *
 * It must never be reachable when another provider is configured: every call
 * here answers PAY_DISABLED then, so a leftover sandbox ref cannot mark a real
 * appointment paid in production.
 */
#include "pay/internal.h"

#include "lib/arena.h"
#include "lib/log.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* "sbx_" and 32 hex characters. */
#define REF_PREFIX "sbx_"
#define REF_LEN    36

int pay_sandbox_start(struct pay *p, const struct pay_due *due, struct pay_checkout *out,
                      struct arena *a)
{
	(void)p;
	(void)due;
	out->ref = arena_printf(a, REF_PREFIX "%s", pay_random_hex(a));
	/* A portal path: the portal's own host serves it. */
	out->url = arena_printf(a, "/pay/sandbox/%s", out->ref);
	return PAY_OK;
}

/* Refs are ours: anything else is not found before it reaches SQL. */
static int ref_ok(const char *ref)
{
	if (ref == NULL || strlen(ref) != REF_LEN || strncmp(ref, REF_PREFIX, 4) != 0)
		return 0;
	for (const char *s = ref + 4; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int enabled(const struct pay *p)
{
	return strcmp(p->prov->name, "sandbox") == 0;
}

int pay_sandbox_get(struct pay *p, struct store_conn *c, const char *ref, struct pay_payment *out,
                    struct arena *a)
{
	memset(out, 0, sizeof(*out));
	if (!enabled(p))
		return PAY_DISABLED;
	if (!ref_ok(ref))
		return PAY_NOTFOUND;
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT id, appointment_id, amount_cents, created_at, updated_at, "
	                     "provider, provider_ref, state, currency FROM payments "
	                     "WHERE provider = 'sandbox' AND provider_ref = ?",
	                     "t", ref);
	if (rc != 0)
		return PAY_ERR;
	rc = store_step(s);
	if (rc == 1) {
		out->id = store_col_int(s, 0);
		out->appointment_id = store_col_int(s, 1);
		out->amount_cents = store_col_int(s, 2);
		out->created_at = store_col_int(s, 3);
		out->updated_at = store_col_int(s, 4);
		out->provider = store_col_dup(s, 5, a);
		out->ref = store_col_dup(s, 6, a);
		out->state = store_col_dup(s, 7, a);
		out->currency = store_col_dup(s, 8, a);
		rc = PAY_OK;
	} else {
		rc = rc == 0 ? PAY_NOTFOUND : PAY_ERR;
	}
	store_done(s);
	return rc;
}

/* The payment's id, appointment and state (into st, size n), inside the transaction. */
static int lookup(struct store_conn *c, const char *ref, struct pay_result *out, char *st, size_t n)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT id, appointment_id, state FROM payments "
	                     "WHERE provider = 'sandbox' AND provider_ref = ?",
	                     "t", ref);
	if (rc != 0)
		return PAY_ERR;
	rc = store_step(s);
	if (rc == 1) {
		const char *state = store_col_text(s, 2);
		out->payment_id = store_col_int(s, 0);
		out->appointment_id = store_col_int(s, 1);
		snprintf(st, n, "%s", state != NULL ? state : "");
		rc = PAY_OK;
	} else {
		rc = rc == 0 ? PAY_NOTFOUND : PAY_ERR;
	}
	store_done(s);
	return rc;
}

/* complete: 1 to mark it succeeded, 0 to mark it failed. */
static int decide(struct pay *p, struct store_conn *c, const char *ref, int64_t now, int complete,
                  struct pay_result *out)
{
	char state[32] = "";
	int changed = 0;
	memset(out, 0, sizeof(*out));
	if (!enabled(p))
		return PAY_DISABLED;
	if (!ref_ok(ref))
		return PAY_NOTFOUND;
	if (store_begin(c) != 0)
		return PAY_ERR;
	int rc = lookup(c, ref, out, state, sizeof(state));
	if (rc != 0)
		goto out;
	if (complete) {
		rc = pay_settle(c, out->payment_id, "sandbox", now, &changed);
	} else {
		int64_t n = 0;
		rc = store_exec(c, &n,
		                "UPDATE payments SET state = 'failed', updated_at = ? "
		                "WHERE id = ? AND state = 'pending'",
		                "ii", now, out->payment_id);
		rc = rc != 0 ? PAY_ERR : PAY_OK;
		changed = n > 0;
	}
	if (rc != 0)
		goto out;
	/* Not changed: read the state again, as committed by whoever changed it meanwhile
	 * (PostgreSQL's READ COMMITTED: our first read may predate their commit). */
	if (!changed && (rc = lookup(c, ref, out, state, sizeof(state))) != 0)
		goto out;
	if (changed)
		out->outcome = complete ? PAY_OUT_PAID : PAY_OUT_FAILED;
	else if (strcmp(state, complete ? "succeeded" : "failed") == 0)
		out->outcome = PAY_OUT_DUPLICATE;
	else
		rc = PAY_STATE;
	if (rc == 0 && store_commit(c) != 0)
		rc = PAY_ERR;
out:
	if (rc != 0) {
		store_rollback(c);
		out->outcome = PAY_OUT_NONE;
	} else if (changed) {
		log_info("pay: sandbox payment %lld %s", (long long)out->payment_id,
		         complete ? "completed" : "failed");
	}
	return rc;
}

int pay_sandbox_complete(struct pay *p, struct store_conn *c, const char *ref, int64_t now,
                         struct pay_result *out)
{
	return decide(p, c, ref, now, 1, out);
}

int pay_sandbox_fail(struct pay *p, struct store_conn *c, const char *ref, int64_t now,
                     struct pay_result *out)
{
	return decide(p, c, ref, now, 0, out);
}
