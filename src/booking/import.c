/*
 * booking/import: one appointment from the clinic's own system (a CSV row of
 * `invito import appointments`, a JSON body of POST /api/v1/appointments).
 *
 * Every value arrives as text and is checked here, once, for both doors:
 * each refusal names its field and says why in plain English. Lookups are
 * confined to the importing organisation and its members (the same scope as
 * its staff), so another clinic's patient or service is simply unknown.
 * The external_ref makes a re-import idempotent: the row is looked up first
 * and, when present, only a cancellation is applied. Importers of one
 * organisation queue on its row and look again inside the transaction, and
 * the INSERT is ON CONFLICT DO NOTHING: two importers racing on one ref, even
 * at two of its places, write one row.
 * It must never send a message (callers queue the payment request) nor
 * change an imported appointment other than to cancel it.
 */
#include "booking/internal.h"

#include "booking/tz.h"
#include "lib/arena.h"
#include "lib/money.h"
#include "lib/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define REF_MAX 100

/* The place an appointment is imported at. */
struct place {
	int64_t id, parent_id;
	char *timezone;
};

struct service_info {
	int64_t id, price_cents;
	int duration_min, kind, payment;
};

static int bad(struct booking_import_result *res, const char *field, const char *reason)
{
	res->field = field;
	res->reason = reason;
	return BOOKING_INVALID;
}

static const char *given(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static int all_digits(const char *s)
{
	if (*s == '\0' || strlen(s) > 18)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int has_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Reads n digits at *p into *v; 0 or -1. */
static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/*
 * "YYYY-MM-DDTHH:MM[:SS]" (a space for the T is fine) as a wall time of zone,
 * or with "Z" / "+HH:MM" / "-HH:MM" as that instant. 0 and *utc; -1 when
 * malformed or not a real date; TZ_ERR_GAP when the wall time does not exist.
 * The repeated autumn hour is its first occurrence.
 */
static int parse_when(const char *s, const char *zone, int64_t *utc)
{
	struct tz_local l;
	int sec = 0, off = 0, has_off = 0;
	int64_t days = 0;
	memset(&l, 0, sizeof(l));
	if (strlen(s) < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':')
		return -1;
	char date[11];
	memcpy(date, s, 10);
	date[10] = '\0';
	if (tz_parse_date(date, &days) != 0)
		return -1;
	tz_civil_from_days(days, &l.year, &l.month, &l.day);
	const char *p = s + 11;
	if (digits(&p, 2, &l.hour) != 0 || *p++ != ':' || digits(&p, 2, &l.minute) != 0)
		return -1;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec) != 0)
			return -1;
	}
	if (*p == 'Z') {
		has_off = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh = 0, om = 0;
		if (digits(&p, 2, &oh) != 0 || *p++ != ':' || digits(&p, 2, &om) != 0 || oh > 14 ||
		    om > 59)
			return -1;
		has_off = 1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0' || l.hour > 23 || l.minute > 59 || sec > 59)
		return -1;
	l.second = sec;
	if (has_off) {
		*utc = days * 86400 + l.hour * 3600 + l.minute * 60 + sec - off;
		return 0;
	}
	int rc = tz_local_to_utc(zone, &l, utc);
	if (rc == TZ_ERR_GAP)
		return TZ_ERR_GAP;
	return rc < 0 ? -1 : 0;
}

/* The appointment of ref in org_id's scope: 0 and *id, *status, *slot; or STORE_NOTFOUND. */
static int existing(struct store_conn *c, int64_t org_id, const char *ref, int64_t *id, int *status,
                    int64_t *slot)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT a.id, a.status, COALESCE(a.slot_id, 0) FROM appointments a "
	                     "JOIN organisations o ON o.id = a.org_id WHERE a.external_ref = ? "
	                     "AND (o.id = ? OR o.parent_id = ?) ORDER BY a.id LIMIT 1",
	                     "tii", ref, org_id, org_id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		*id = store_col_int(s, 0);
		*status = bk_enum(bk_status_text, 3, store_col_text(s, 1), BOOKING_DONE);
		*slot = store_col_int(s, 2);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

static int audit(struct store_conn *c, int64_t org_id, const char *action, int64_t id,
                 const struct booking_import_source *src, const char *ref, struct arena *a)
{
	const char *detail = src->api_key_id > 0
	                         ? arena_printf(a, "via=%s api_key=%" PRId64 " ref=%s", src->via,
	                                        src->api_key_id, ref)
	                         : arena_printf(a, "via=%s ref=%s", src->via, ref);
	return store_audit(c, org_id, "system", 0, action, "appointment", id, src->ip, detail);
}

/* Cancels a booked imported appointment (seat given back), in one transaction. */
static int cancel_existing(struct store_conn *c, int64_t org_id, int64_t id, int64_t slot,
                           const struct booking_import_source *src, const char *ref, int64_t now,
                           int *changed, struct arena *a)
{
	int64_t n = 0;
	*changed = 0;
	int rc = store_begin(c);
	if (rc != 0)
		return bk_err(rc);
	rc = store_exec(c, &n,
	                "UPDATE appointments SET status = 'cancelled', updated_at = ? WHERE id = ? "
	                "AND status = 'booked'",
	                "ii", now, id);
	if (rc == 0 && n == 1 && slot > 0)
		rc = store_exec(c, NULL,
		                "UPDATE slots SET booked = booked - 1 WHERE id = ? AND booked > 0",
		                "i", slot);
	if (rc == 0 && n == 1)
		rc = audit(c, org_id, "appointment.cancel", id, src, ref, a);
	if (rc == 0)
		rc = store_commit(c);
	if (rc != 0) {
		store_rollback(c);
		return bk_err(rc);
	}
	*changed = n == 1;
	return 0;
}

/* ref is imported already as appointment id: left as it is, unless the row cancels it. */
static int present(struct store_conn *c, int64_t org_id, int64_t id, int status, int64_t slot,
                   int cancelled, const struct booking_import_source *src, const char *ref,
                   int64_t now, struct booking_import_result *res, struct arena *a)
{
	int changed = 0, rc;
	res->appt.id = id;
	res->outcome = BOOKING_IMPORT_PRESENT;
	if (cancelled && status == BOOKING_BOOKED) {
		if ((rc = cancel_existing(c, org_id, id, slot, src, ref, now, &changed, a)) != 0)
			return rc;
		if (changed)
			res->outcome = BOOKING_IMPORT_CANCELLED;
	}
	return 0;
}

/* The place: org_id itself, or the member named by id or exact name. */
static int find_place(struct store_conn *c, int64_t org_id, const char *member, struct place *out,
                      struct booking_import_result *res, struct arena *a)
{
	struct store_stmt *s = NULL;
	int64_t want = 0;
	int rc, n = 0;
	if (member == NULL)
		want = org_id;
	else if (all_digits(member) && parse_i64(member, 1, INT64_MAX, &want) != 0)
		return bad(res, "member", "unknown member");
	if (want > 0)
		rc = store_query(
		    c, &s,
		    "SELECT o.id, COALESCE(o.parent_id, 0), o.timezone FROM organisations "
		    "o WHERE o.id = ? AND (o.id = ? OR o.parent_id = ?)",
		    "iii", want, org_id, org_id);
	else
		rc = store_query(
		    c, &s,
		    "SELECT o.id, COALESCE(o.parent_id, 0), o.timezone FROM organisations "
		    "o WHERE o.name = ? AND (o.id = ? OR o.parent_id = ?) LIMIT 2",
		    "tii", member, org_id, org_id);
	if (rc != 0)
		return bk_err(rc);
	while ((rc = store_step(s)) == 1) {
		if (n++ > 0)
			continue;
		out->id = store_col_int(s, 0);
		out->parent_id = store_col_int(s, 1);
		out->timezone = store_col_dup(s, 2, a);
	}
	store_done(s);
	if (rc < 0)
		return bk_err(rc);
	if (n == 0)
		return bad(res, "member", "unknown member");
	if (n > 1)
		return bad(res, "member", "several members have this name: give its id");
	return 0;
}

/* The service, by id or exact name: the place's own or its customer's. */
static int find_service(struct store_conn *c, const struct place *pl, const char *service,
                        struct service_info *out, struct booking_import_result *res)
{
	struct store_stmt *s = NULL;
	int64_t id = 0;
	int rc, n = 0;
	if (all_digits(service) && parse_i64(service, 1, INT64_MAX, &id) != 0)
		return bad(res, "service", "unknown service");
	if (id > 0)
		rc =
		    store_query(c, &s,
		                "SELECT id, duration_min, kind, payment, price_cents FROM services "
		                "WHERE id = ? AND (org_id = ? OR org_id = ?)",
		                "iii", id, pl->id, pl->parent_id);
	else
		rc =
		    store_query(c, &s,
		                "SELECT id, duration_min, kind, payment, price_cents FROM services "
		                "WHERE name = ? AND (org_id = ? OR org_id = ?) ORDER BY id LIMIT 2",
		                "tii", service, pl->id, pl->parent_id);
	if (rc != 0)
		return bk_err(rc);
	while ((rc = store_step(s)) == 1) {
		if (n++ > 0)
			continue;
		out->id = store_col_int(s, 0);
		out->duration_min = (int)store_col_int(s, 1);
		out->kind = bk_enum(bk_kind_text, 2, store_col_text(s, 2), BOOKING_IN_PERSON);
		out->payment = bk_enum(bk_payment_text, 3, store_col_text(s, 3), BOOKING_PAY_NONE);
		out->price_cents = store_col_int(s, 4);
	}
	store_done(s);
	if (rc < 0)
		return bk_err(rc);
	if (n == 0)
		return bad(res, "service", "unknown service");
	if (n > 1)
		return bad(res, "service", "several services have this name: give its id");
	return 0;
}

static int find_patient(struct store_conn *c, int64_t org_id, const char *ref, int64_t *id,
                        struct booking_import_result *res)
{
	int rc = store_scalar(c, id,
	                      "SELECT p.id FROM patients p JOIN organisations o ON o.id = p.org_id "
	                      "WHERE p.external_ref = ? AND (o.id = ? OR o.parent_id = ?) "
	                      "ORDER BY p.id LIMIT 1",
	                      "tii", ref, org_id, org_id);
	if (rc == STORE_NOTFOUND)
		return bad(res, "patient", "unknown patient");
	return bk_err(rc);
}

/* Fills out from row (everything but the id); BOOKING_INVALID names the field. */
static int check_row(struct store_conn *c, int64_t org_id, const struct booking_import_row *row,
                     struct booking_appointment *out, struct booking_import_result *res,
                     struct arena *a)
{
	struct place pl = {0};
	struct service_info sv = {0};
	int rc;
	if (given(row->patient) == NULL)
		return bad(res, "patient", "missing patient");
	if (given(row->service) == NULL)
		return bad(res, "service", "missing service");
	if (given(row->start) == NULL)
		return bad(res, "start", "missing start");
	if ((rc = find_place(c, org_id, given(row->member), &pl, res, a)) != 0)
		return rc;
	if ((rc = find_patient(c, org_id, row->patient, &out->patient_id, res)) != 0)
		return rc;
	if ((rc = find_service(c, &pl, row->service, &sv, res)) != 0)
		return rc;
	out->org_id = pl.id;
	out->service_id = sv.id;

	rc = parse_when(row->start, pl.timezone, &out->start_at);
	if (rc == TZ_ERR_GAP)
		return bad(res, "start",
		           "bad date: this local time does not exist (the clocks go "
		           "forward)");
	if (rc != 0)
		return bad(res, "start", "bad date: expected YYYY-MM-DDTHH:MM, local time");
	const char *dur = given(row->duration_min), *end = given(row->end);
	int64_t minutes = sv.duration_min, end_at = 0;
	if (dur != NULL && parse_i64(dur, 1, 1440, &minutes) != 0)
		return bad(res, "duration_min", "duration_min is not a number of minutes (1-1440)");
	if (end != NULL) {
		rc = parse_when(end, pl.timezone, &end_at);
		if (rc == TZ_ERR_GAP)
			return bad(res, "end",
			           "bad date: this local time does not exist (the clocks "
			           "go forward)");
		if (rc != 0)
			return bad(res, "end", "bad date: expected YYYY-MM-DDTHH:MM, local time");
		if (end_at <= out->start_at)
			return bad(res, "end", "end before start");
		if (end_at - out->start_at > 1440 * 60)
			return bad(res, "end", "longer than a day");
		if (dur != NULL && end_at - out->start_at != minutes * 60)
			return bad(res, "end", "end and duration_min disagree");
	} else {
		end_at = out->start_at + minutes * 60;
	}
	out->end_at = end_at;

	/* ints, not the enums: an enum of small values may be unsigned */
	int kind = sv.kind, pay = sv.payment;
	if (given(row->kind) != NULL && (kind = bk_enum(bk_kind_text, 2, row->kind, -1)) < 0)
		return bad(res, "kind", "kind must be in_person or video");
	if (given(row->payment) != NULL &&
	    (pay = bk_enum(bk_payment_text, 3, row->payment, -1)) < 0)
		return bad(res, "payment", "payment must be none, optional or mandatory");
	out->kind = kind;
	out->payment = pay;
	out->amount_cents = sv.price_cents;
	if (given(row->amount) != NULL && money_parse(row->amount, &out->amount_cents) != 0)
		return bad(res, "amount", "amount is not a number (e.g. 45.00)");
	if (out->payment == BOOKING_PAY_NONE)
		out->amount_cents = 0;
	else if (out->amount_cents <= 0)
		return bad(res, "amount", "amount must be more than 0 when a payment is asked");
	out->via = BOOKING_VIA_IMPORT;
	return 0;
}

/* A seat of the service's slot at that time when one is free: its id, else 0. */
static int take_seat(struct store_conn *c, const struct booking_appointment *ap, int64_t *slot)
{
	int64_t id = 0, n = 0;
	*slot = 0;
	int rc = store_scalar(c, &id,
	                      "SELECT id FROM slots WHERE service_id = ? AND org_id = ? AND "
	                      "start_at = ?",
	                      "iii", ap->service_id, ap->org_id, ap->start_at);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = store_exec(c, &n,
		                "UPDATE slots SET booked = booked + 1 WHERE id = ? AND booked < "
		                "capacity",
		                "i", id);
	if (rc == 0 && n == 1)
		*slot = id;
	return rc;
}

int booking_import(struct store_conn *c, int64_t org_id, const struct booking_import_row *row,
                   const struct booking_import_source *src, int64_t now,
                   struct booking_import_result *res, struct arena *a)
{
	struct booking_appointment *ap = &res->appt;
	const char *ref = given(row->external_ref);
	int64_t id = 0, slot = 0;
	int status = 0, cancelled = 0;
	memset(res, 0, sizeof(*res));

	if (ref == NULL)
		return bad(res, "external_ref", "missing external_ref");
	if (strlen(ref) > REF_MAX)
		return bad(res, "external_ref", "external_ref is longer than 100 bytes");
	if (has_controls(ref))
		return bad(res, "external_ref", "external_ref contains control characters");
	if (given(row->status) != NULL &&
	    (status = bk_enum(bk_status_text, 2, row->status, -1)) < 0)
		return bad(res, "status", "status must be booked or cancelled");
	cancelled = status == BOOKING_CANCELLED;

	int rc = existing(c, org_id, ref, &id, &status, &slot);
	if (rc == 0)
		return present(c, org_id, id, status, slot, cancelled, src, ref, now, res, a);
	if (rc != STORE_NOTFOUND)
		return bk_err(rc);

	if ((rc = check_row(c, org_id, row, ap, res, a)) != 0) {
		memset(ap, 0, sizeof(*ap));
		return rc;
	}
	ap->status = cancelled ? BOOKING_CANCELLED : BOOKING_BOOKED;
	if ((rc = store_begin(c)) != 0)
		return bk_err(rc);
	/* The unique key is per place, the idempotency per importing organisation: two
	 * importers of one ref at two of its places would both pass the check above and
	 * both insert. They queue here (the organisation's row, as a bulk invite does),
	 * and the second finds the first's row on its second look. */
	rc = store_exec(c, NULL, "UPDATE organisations SET id = id WHERE id = ?", "i", org_id);
	if (rc == 0 && (rc = existing(c, org_id, ref, &id, &status, &slot)) == 0)
		rc = STORE_CONFLICT;
	else if (rc == STORE_NOTFOUND)
		rc = 0;
	if (rc == 0 && !cancelled)
		rc = take_seat(c, ap, &ap->slot_id);
	if (rc == 0)
		rc = store_insert(
		    c, &ap->id,
		    "INSERT INTO appointments (patient_id, org_id, service_id, slot_id, "
		    "start_at, end_at, kind, booked_via, payment, amount_cents, status, "
		    "external_ref, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
		    "'import', ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, external_ref) DO "
		    "NOTHING RETURNING id",
		    "iiiIiittittii", ap->patient_id, ap->org_id, ap->service_id, ap->slot_id,
		    ap->start_at, ap->end_at, bk_kind_text[ap->kind], bk_payment_text[ap->payment],
		    ap->amount_cents, bk_status_text[ap->status], ref, now, now);
	if (rc == STORE_CONFLICT) {
		/* another importer wrote this ref a moment ago: that row is the one */
		store_rollback(c);
		memset(ap, 0, sizeof(*ap));
		if ((rc = existing(c, org_id, ref, &id, &status, &slot)) != 0)
			return bk_err(rc);
		return present(c, org_id, id, status, slot, cancelled, src, ref, now, res, a);
	}
	if (rc == 0)
		rc = audit(c, org_id, "appointment.import", ap->id, src, ref, a);
	if (rc == 0)
		rc = store_commit(c);
	if (rc != 0) {
		store_rollback(c);
		memset(ap, 0, sizeof(*ap));
		return bk_err(rc);
	}
	res->outcome = BOOKING_IMPORT_CREATED;
	return 0;
}
