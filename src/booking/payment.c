/*
 * booking/payment: the hooks other modules build payment on: whether an
 * appointment calls for "request payment in advance", recording a payment
 * idempotently, and the staff list of video consultations still unpaid.
 * It must never send a message or talk to a provider: comms and pay do.
 */
#include "booking/internal.h"

#include "lib/arena.h"

#include <string.h>

int booking_needs_payment_request(const struct booking_appointment *a)
{
	return a != NULL && a->status == BOOKING_BOOKED && a->kind == BOOKING_VIDEO &&
	       a->payment == BOOKING_PAY_MANDATORY && a->via != BOOKING_VIA_ONLINE &&
	       a->paid_at == 0;
}

int booking_mark_paid(struct store_conn *c, int64_t appointment_id, const char *provider,
                      const char *provider_ref, int64_t now, int *changed)
{
	struct store_stmt *s = NULL;
	int64_t amount = 0, changes = 0;
	int rc;
	if (changed != NULL)
		*changed = 0;
	if (provider == NULL || provider[0] == '\0' || provider_ref == NULL ||
	    provider_ref[0] == '\0')
		return BOOKING_INVALID;
	if ((rc = store_begin(c)) != 0)
		return bk_err(rc);
	rc = bk_err(store_scalar(c, &amount, "SELECT amount_cents FROM appointments WHERE id = ?",
	                         "i", appointment_id));
	if (rc != 0)
		goto out;
	/* The payment row: insert once; a pending one (created at checkout) succeeds. */
	rc = bk_err(
	    store_exec(c, NULL,
	               "INSERT INTO payments (appointment_id, provider, provider_ref, state, "
	               "amount_cents, created_at, updated_at) VALUES (?, ?, ?, 'succeeded', "
	               "?, ?, ?) ON CONFLICT (provider_ref) DO NOTHING",
	               "ittiii", appointment_id, provider, provider_ref, amount, now, now));
	if (rc != 0)
		goto out;
	if ((rc = store_query(c, &s,
	                      "SELECT appointment_id, state FROM payments WHERE provider_ref = ?",
	                      "t", provider_ref)) != 0) {
		rc = bk_err(rc);
		goto out;
	}
	rc = store_step(s);
	int64_t owner = rc == 1 ? store_col_int(s, 0) : 0;
	const char *state = rc == 1 ? store_col_text(s, 1) : NULL;
	int succeeded = state != NULL && strcmp(state, "succeeded") == 0;
	store_done(s);
	if (rc < 0) {
		rc = bk_err(rc);
		goto out;
	}
	if (owner != appointment_id) {
		rc = BOOKING_INVALID; /* someone else's payment reference */
		goto out;
	}
	if (!succeeded) {
		rc = bk_err(store_exec(c, NULL,
		                       "UPDATE payments SET state = 'succeeded', updated_at = ? "
		                       "WHERE provider_ref = ? AND state <> 'succeeded'",
		                       "it", now, provider_ref));
		if (rc != 0)
			goto out;
	}
	rc = bk_err(store_exec(c, &changes,
	                       "UPDATE appointments SET paid_at = ?, updated_at = ? "
	                       "WHERE id = ? AND paid_at IS NULL",
	                       "iii", now, now, appointment_id));
	if (rc != 0)
		goto out;
	rc = bk_err(store_commit(c));
	if (rc == 0 && changed != NULL)
		*changed = changes == 1;
out:
	if (rc != 0)
		store_rollback(c);
	return rc;
}

#define UNPAID_MAX 500

int booking_unpaid_video(struct store_conn *c, const struct booking_actor *who, int hours,
                         int64_t now, struct booking_appointment **rows, int *n, struct arena *a)
{
	struct store_stmt *s = NULL;
	*rows = NULL;
	*n = 0;
	if (bk_actor_kind(who) != BK_STAFF)
		return BOOKING_NOTFOUND;
	if (hours < 0 || hours > 24 * 366)
		return BOOKING_INVALID;
	int rc =
	    store_query(c, &s,
	                "SELECT " BK_APPT_COLS BK_APPT_FROM
	                "WHERE a.kind = 'video' AND a.payment = 'mandatory' AND "
	                "a.paid_at IS NULL AND a.status = 'booked' AND a.start_at > ? AND "
	                "a.start_at <= ? AND (o.id = ? OR o.parent_id = ?) "
	                "ORDER BY a.start_at, a.id LIMIT 500",
	                "iiii", now, now + (int64_t)hours * 3600, who->staff_org, who->staff_org);
	if (rc != 0)
		return bk_err(rc);
	struct booking_appointment *v = arena_alloc(a, sizeof(*v) * UNPAID_MAX);
	while ((rc = store_step(s)) == 1 && *n < UNPAID_MAX)
		bk_appt_row(s, &v[(*n)++], a);
	if (rc >= 0) {
		rc = 0;
		*rows = v;
	}
	store_done(s);
	return bk_err(rc);
}
