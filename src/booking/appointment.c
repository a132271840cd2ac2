/*
 * booking/appointment: taking a seat, cancelling, rescheduling.
 *
 * Each operation is one transaction whose only guard against a concurrent
 * booking is in SQL: `UPDATE slots SET booked = booked + 1 WHERE id = ? AND
 * booked < capacity` changes one row or none. On SQLite writers are
 * serialised by BEGIN IMMEDIATE; on PostgreSQL under READ COMMITTED the
 * UPDATE waits for a concurrent writer of the row and re-checks the
 * condition on the committed version, so the last seat is taken once.
 * It must never create an appointment whose seat it did not win, nor give
 * back a seat twice (status moves from 'booked' with a conditional UPDATE).
 */
#include "booking/internal.h"

#include "lib/arena.h"

#include <string.h>

/* A slot as booking needs it. */
struct slot_info {
	int64_t org_id, service_id, start_at, end_at, price_cents;
	int kind, payment, active, online;
};

/* The slot if the actor may see it; BOOKING_NOTFOUND otherwise (patients: bookable only). */
static int slot_get(struct store_conn *c, const struct booking_actor *who, int64_t slot_id,
                    struct slot_info *out)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	if (bk_sql(sql,
	           "SELECT s.org_id, s.service_id, s.start_at, s.end_at, v.kind, v.payment, "
	           "v.price_cents, v.active, v.online_booking FROM slots s "
	           "JOIN services v ON v.id = s.service_id JOIN organisations o ON o.id = s.org_id "
	           "WHERE s.id = ? AND ",
	           bk_scope_sql(who), NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = store_bind(s, "i", slot_id)) != 0 || (rc = bk_bind_scope(s, who)) != 0)
		goto out;
	rc = store_step(s);
	if (rc == 1) {
		out->org_id = store_col_int(s, 0);
		out->service_id = store_col_int(s, 1);
		out->start_at = store_col_int(s, 2);
		out->end_at = store_col_int(s, 3);
		out->kind = bk_enum(bk_kind_text, 2, store_col_text(s, 4), BOOKING_IN_PERSON);
		out->payment = bk_enum(bk_payment_text, 3, store_col_text(s, 5), BOOKING_PAY_NONE);
		out->price_cents = store_col_int(s, 6);
		out->active = (int)store_col_int(s, 7);
		out->online = (int)store_col_int(s, 8);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
out:
	store_done(s);
	rc = bk_err(rc);
	if (rc == 0 && bk_actor_kind(who) == BK_PATIENT && (!out->active || !out->online))
		rc = BOOKING_NOTFOUND;
	return rc;
}

/*
 * 0 when the actor may book for patient_id: a patient for themselves or a
 * family member they manage (BOOKING_FORBIDDEN for anyone else on the
 * portal); staff for a patient of an organisation they manage.
 */
static int patient_check(struct store_conn *c, const struct booking_actor *who, int64_t patient_id)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	int rc;
	if (bk_sql(sql,
	           "SELECT p.id, p.managed_by FROM patients p JOIN organisations o "
	           "ON o.id = p.org_id WHERE p.id = ? AND ",
	           bk_scope_sql(who), NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = store_bind(s, "i", patient_id)) != 0 || (rc = bk_bind_scope(s, who)) != 0)
		goto out;
	rc = store_step(s);
	if (rc == 1) {
		int64_t manager = store_col_is_null(s, 1) ? 0 : store_col_int(s, 1);
		rc = 0;
		if (bk_actor_kind(who) == BK_PATIENT && patient_id != who->patient_id &&
		    manager != who->patient_id)
			rc = BOOKING_FORBIDDEN;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
out:
	store_done(s);
	return rc == BOOKING_FORBIDDEN ? rc : bk_err(rc);
}

/* Takes one seat of slot_id: 0, BOOKING_TAKEN when full, or an error. */
static int seat_take(struct store_conn *c, int64_t slot_id)
{
	int64_t changes = 0;
	int rc = store_exec(
	    c, &changes, "UPDATE slots SET booked = booked + 1 WHERE id = ? AND booked < capacity",
	    "i", slot_id);
	if (rc != 0)
		return bk_err(rc);
	return changes == 1 ? 0 : BOOKING_TAKEN;
}

static int seat_free(struct store_conn *c, int64_t slot_id)
{
	if (slot_id <= 0)
		return 0;
	return bk_err(store_exec(c, NULL,
	                         "UPDATE slots SET booked = booked - 1 WHERE id = ? AND booked > 0",
	                         "i", slot_id));
}

/* Offline booking at a free time: the service must be the place's own or its customer's. */
static int free_time_check(struct store_conn *c, const struct booking_actor *who,
                           const struct booking_request *r, struct slot_info *si)
{
	struct store_stmt *s = NULL;
	memset(si, 0, sizeof(*si));
	if (r->service_id <= 0 || r->org_id <= 0 || r->start_at <= 0)
		return BOOKING_INVALID;
	int rc = store_query(c, &s,
	                     "SELECT v.duration_min, v.kind, v.payment, v.price_cents "
	                     "FROM services v JOIN organisations o ON o.id = ? "
	                     "WHERE v.id = ? AND (v.org_id = o.id OR v.org_id = o.parent_id) "
	                     "AND (o.id = ? OR o.parent_id = ?)",
	                     "iiii", r->org_id, r->service_id, who->staff_org, who->staff_org);
	if (rc != 0)
		return bk_err(rc);
	rc = store_step(s);
	if (rc == 1) {
		int64_t minutes = r->duration_min > 0 ? r->duration_min : store_col_int(s, 0);
		si->org_id = r->org_id;
		si->service_id = r->service_id;
		si->start_at = r->start_at;
		si->end_at = r->start_at + minutes * 60;
		si->kind = bk_enum(bk_kind_text, 2, store_col_text(s, 1), BOOKING_IN_PERSON);
		si->payment = bk_enum(bk_payment_text, 3, store_col_text(s, 2), BOOKING_PAY_NONE);
		si->price_cents = store_col_int(s, 3);
		si->active = si->online = 1;
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return bk_err(rc);
}

int booking_take_slot(struct store_conn *c, const struct booking_actor *who,
                      const struct booking_request *r, struct booking_appointment *out)
{
	struct slot_info si;
	int kind = bk_actor_kind(who);
	int rc, began = 0;
	memset(out, 0, sizeof(*out));
	if (kind == 0)
		return BOOKING_NOTFOUND;
	if (r->patient_id <= 0 || (r->slot_id <= 0 && kind != BK_STAFF))
		return BOOKING_INVALID;
	if ((rc = store_begin(c)) != 0)
		return bk_err(rc);
	began = 1;
	if ((rc = patient_check(c, who, r->patient_id)) != 0)
		goto out;
	rc = r->slot_id > 0 ? slot_get(c, who, r->slot_id, &si) : free_time_check(c, who, r, &si);
	if (rc != 0)
		goto out;
	if (r->slot_id > 0 && si.start_at <= r->now) {
		rc = BOOKING_PAST;
		goto out;
	}
	out->patient_id = r->patient_id;
	out->org_id = si.org_id;
	out->service_id = si.service_id;
	out->slot_id = r->slot_id > 0 ? r->slot_id : 0;
	out->start_at = si.start_at;
	out->end_at = si.end_at;
	out->status = BOOKING_BOOKED;
	out->kind = si.kind;
	out->payment = si.payment;
	out->amount_cents = si.price_cents;
	if (kind == BK_PATIENT) {
		out->via = BOOKING_VIA_ONLINE;
	} else {
		out->via = r->import ? BOOKING_VIA_IMPORT : BOOKING_VIA_OFFLINE;
		out->created_by_staff = who->staff_id;
		if (r->kind >= 0)
			out->kind = r->kind;
		if (r->payment >= 0)
			out->payment = r->payment;
		if (r->amount_cents >= 0)
			out->amount_cents = r->amount_cents;
		if (out->kind > BOOKING_VIDEO || out->payment > BOOKING_PAY_MANDATORY ||
		    (out->payment == BOOKING_PAY_MANDATORY && out->amount_cents <= 0)) {
			rc = BOOKING_INVALID;
			goto out;
		}
	}
	if (out->payment == BOOKING_PAY_NONE)
		out->amount_cents = 0;
	if (r->slot_id > 0 && (rc = seat_take(c, r->slot_id)) != 0)
		goto out;
	rc = store_insert(
	    c, &out->id,
	    "INSERT INTO appointments (patient_id, org_id, service_id, slot_id, "
	    "start_at, end_at, kind, booked_via, payment, amount_cents, status, "
	    "created_by_staff, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, 'booked', ?, ?, ?) RETURNING id",
	    "iiiIiitttiIii", out->patient_id, out->org_id, out->service_id, out->slot_id,
	    out->start_at, out->end_at, bk_kind_text[out->kind], bk_via_text[out->via],
	    bk_payment_text[out->payment], out->amount_cents, out->created_by_staff, r->now,
	    r->now);
	if ((rc = bk_err(rc)) != 0)
		goto out;
	rc = bk_err(store_commit(c));
	began = rc != 0;
out:
	if (began)
		store_rollback(c);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* The appointment if the actor may see it: staff in scope; a patient their own and family's. */
static int appt_get(struct store_conn *c, const struct booking_actor *who, int64_t id,
                    struct booking_appointment *out, struct arena *a)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	int patient = bk_actor_kind(who) == BK_PATIENT;
	int rc;
	memset(out, 0, sizeof(*out));
	if (bk_actor_kind(who) == 0)
		return BOOKING_NOTFOUND;
	if (bk_sql(sql, "SELECT " BK_APPT_COLS BK_APPT_FROM "WHERE a.id = ? AND ",
	           bk_scope_sql(who), patient ? " AND (p.id = ? OR p.managed_by = ?)" : "",
	           NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = store_bind(s, "i", id)) != 0 || (rc = bk_bind_scope(s, who)) != 0)
		goto out;
	if (patient && (rc = store_bind(s, "ii", who->patient_id, who->patient_id)) != 0)
		goto out;
	rc = store_step(s);
	if (rc == 1) {
		bk_appt_row(s, out, a);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
out:
	store_done(s);
	return bk_err(rc);
}

int booking_appointment_get(struct store_conn *c, const struct booking_actor *who, int64_t id,
                            struct booking_appointment *out, struct arena *a)
{
	return appt_get(c, who, id, out, a);
}

/* May the actor still change appointment ap at now? */
static int change_allowed(struct store_conn *c, const struct booking_actor *who,
                          const struct booking_appointment *ap, int64_t now)
{
	if (ap->status != BOOKING_BOOKED)
		return BOOKING_STATE;
	if (ap->start_at <= now)
		return BOOKING_PAST;
	if (bk_actor_kind(who) != BK_PATIENT)
		return 0; /* staff handle phone calls up to the start */
	int hours = BOOKING_CUTOFF_HOURS_DEFAULT;
	int rc = booking_cutoff_hours(c, ap->org_id, &hours);
	if (rc != 0)
		return rc;
	return now <= ap->start_at - (int64_t)hours * 3600 ? 0 : BOOKING_CUTOFF;
}

int booking_cancel(struct store_conn *c, const struct booking_actor *who, int64_t appointment_id,
                   int64_t now)
{
	struct booking_appointment ap;
	int64_t changes = 0;
	int rc;
	if ((rc = store_begin(c)) != 0)
		return bk_err(rc);
	if ((rc = appt_get(c, who, appointment_id, &ap, NULL)) != 0)
		goto out;
	if ((rc = change_allowed(c, who, &ap, now)) != 0)
		goto out;
	rc = bk_err(store_exec(c, &changes,
	                       "UPDATE appointments SET status = 'cancelled', updated_at = ? "
	                       "WHERE id = ? AND status = 'booked'",
	                       "ii", now, appointment_id));
	if (rc == 0 && changes != 1)
		rc = BOOKING_STATE; /* cancelled by someone else meanwhile */
	if (rc == 0)
		rc = seat_free(c, ap.slot_id);
	if (rc == 0)
		rc = bk_err(store_commit(c));
out:
	if (rc != 0)
		store_rollback(c);
	return rc;
}

int booking_reschedule(struct store_conn *c, const struct booking_actor *who,
                       int64_t appointment_id, int64_t new_slot_id, int64_t now,
                       struct booking_appointment *out)
{
	struct booking_appointment ap;
	struct slot_info si;
	int64_t changes = 0;
	int rc;
	if ((rc = store_begin(c)) != 0)
		return bk_err(rc);
	if ((rc = appt_get(c, who, appointment_id, &ap, NULL)) != 0)
		goto out;
	if ((rc = change_allowed(c, who, &ap, now)) != 0)
		goto out;
	if ((rc = slot_get(c, who, new_slot_id, &si)) != 0)
		goto out;
	if (si.service_id != ap.service_id || new_slot_id == ap.slot_id) {
		rc = BOOKING_INVALID;
		goto out;
	}
	if (si.start_at <= now) {
		rc = BOOKING_PAST;
		goto out;
	}
	if ((rc = seat_take(c, new_slot_id)) != 0)
		goto out;
	/* A new time means a new reminder. */
	rc = bk_err(store_exec(c, &changes,
	                       "UPDATE appointments SET slot_id = ?, org_id = ?, start_at = ?, "
	                       "end_at = ?, reminder_sent_at = NULL, updated_at = ? "
	                       "WHERE id = ? AND status = 'booked'",
	                       "iiiiii", new_slot_id, si.org_id, si.start_at, si.end_at, now,
	                       appointment_id));
	if (rc == 0 && changes != 1)
		rc = BOOKING_STATE;
	if (rc == 0)
		rc = seat_free(c, ap.slot_id);
	if (rc == 0)
		rc = bk_err(store_commit(c));
	if (rc == 0 && out != NULL) {
		*out = ap;
		out->slot_id = new_slot_id;
		out->org_id = si.org_id;
		out->start_at = si.start_at;
		out->end_at = si.end_at;
	}
out:
	if (rc != 0)
		store_rollback(c);
	return rc;
}
