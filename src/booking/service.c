/*
 * booking/service: services (what can be booked) and their weekly opening
 * hours per place. Staff only for writes; every statement carries the
 * actor's scope, so another organisation's service reads as not found.
 * It must never let a member's staff touch their customer's or a sibling
 * member's rows.
 */
#include "booking/internal.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

#define SERVICE_COLS                                                                               \
	"SELECT v.id, v.org_id, v.name, v.duration_min, v.kind, v.payment, v.price_cents, "        \
	"v.online_booking, v.active, o.name FROM services v JOIN organisations o ON o.id = "       \
	"v.org_id WHERE "

static int service_valid(const struct booking_service *svc)
{
	if (svc->name == NULL || svc->name[0] == '\0' || strlen(svc->name) > 200)
		return BOOKING_INVALID;
	if (svc->duration_min <= 0 || svc->duration_min > 1440 || svc->price_cents < 0)
		return BOOKING_INVALID;
	if ((unsigned)svc->kind > BOOKING_VIDEO || (unsigned)svc->payment > BOOKING_PAY_MANDATORY)
		return BOOKING_INVALID;
	if (svc->payment == BOOKING_PAY_MANDATORY && svc->price_cents == 0)
		return BOOKING_INVALID;
	return 0;
}

int booking_service_create(struct store_conn *c, const struct booking_actor *who,
                           struct booking_service *svc)
{
	int rc;
	if (bk_actor_kind(who) != BK_STAFF)
		return BOOKING_NOTFOUND;
	if ((rc = service_valid(svc)) != 0)
		return rc;
	if ((rc = bk_org_visible(c, who, svc->org_id)) != 0)
		return rc;
	rc = store_insert(c, &svc->id,
	                  "INSERT INTO services (org_id, name, duration_min, kind, price_cents, "
	                  "payment, online_booking, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
	                  "RETURNING id",
	                  "itititii", svc->org_id, svc->name, (int64_t)svc->duration_min,
	                  bk_kind_text[svc->kind], svc->price_cents, bk_payment_text[svc->payment],
	                  (int64_t)(svc->online_booking != 0), (int64_t)(svc->active != 0));
	return bk_err(rc);
}

int booking_service_update(struct store_conn *c, const struct booking_actor *who,
                           const struct booking_service *svc)
{
	int64_t changes = 0;
	int rc;
	if (bk_actor_kind(who) != BK_STAFF)
		return BOOKING_NOTFOUND;
	if ((rc = service_valid(svc)) != 0)
		return rc;
	rc = store_exec(
	    c, &changes,
	    "UPDATE services SET name = ?, duration_min = ?, kind = ?, price_cents = ?, "
	    "payment = ?, online_booking = ?, active = ? WHERE id = ? AND org_id IN "
	    "(SELECT o.id FROM organisations o WHERE o.id = ? OR o.parent_id = ?)",
	    "tititiiiii", svc->name, (int64_t)svc->duration_min, bk_kind_text[svc->kind],
	    svc->price_cents, bk_payment_text[svc->payment], (int64_t)(svc->online_booking != 0),
	    (int64_t)(svc->active != 0), svc->id, who->staff_org, who->staff_org);
	if (rc != 0)
		return bk_err(rc);
	return changes == 1 ? 0 : BOOKING_NOTFOUND;
}

static void service_row(struct store_stmt *s, struct booking_service *out, struct arena *a)
{
	memset(out, 0, sizeof(*out));
	out->id = store_col_int(s, 0);
	out->org_id = store_col_int(s, 1);
	out->name = store_col_dup(s, 2, a);
	out->duration_min = (int)store_col_int(s, 3);
	out->kind = bk_enum(bk_kind_text, 2, store_col_text(s, 4), BOOKING_IN_PERSON);
	out->payment = bk_enum(bk_payment_text, 3, store_col_text(s, 5), BOOKING_PAY_NONE);
	out->price_cents = store_col_int(s, 6);
	out->online_booking = (int)store_col_int(s, 7);
	out->active = (int)store_col_int(s, 8);
	out->org_name = store_col_dup(s, 9, a);
}

/* Patients see only what they could book. */
static const char *patient_filter(const struct booking_actor *who)
{
	return bk_actor_kind(who) == BK_PATIENT ? " AND v.active = 1 AND v.online_booking = 1" : "";
}

int booking_service_get(struct store_conn *c, const struct booking_actor *who, int64_t id,
                        struct booking_service *out, struct arena *a)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	if (bk_actor_kind(who) == 0)
		return BOOKING_NOTFOUND;
	if (bk_sql(sql, SERVICE_COLS "v.id = ? AND ", bk_scope_sql(who), patient_filter(who),
	           NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = store_bind(s, "i", id)) != 0 || (rc = bk_bind_scope(s, who)) != 0)
		goto out;
	rc = store_step(s);
	if (rc == 1) {
		service_row(s, out, a);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
out:
	store_done(s);
	return bk_err(rc);
}

int booking_service_list(struct store_conn *c, const struct booking_actor *who, int64_t org_id,
                         struct booking_service **rows, int *n, struct arena *a)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	int rc, cap = 16;
	*rows = NULL;
	*n = 0;
	if (bk_actor_kind(who) == 0)
		return BOOKING_NOTFOUND;
	if (bk_sql(sql, SERVICE_COLS, bk_scope_sql(who), patient_filter(who),
	           org_id > 0 ? " AND v.org_id = ?" : "", " ORDER BY o.name, o.id, v.name, v.id",
	           NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = bk_bind_scope(s, who)) != 0)
		goto out;
	if (org_id > 0 && (rc = store_bind(s, "i", org_id)) != 0)
		goto out;
	struct booking_service *v = arena_alloc(a, sizeof(*v) * (size_t)cap);
	while ((rc = store_step(s)) == 1) {
		if (*n == cap) {
			struct booking_service *bigger =
			    arena_alloc(a, sizeof(*v) * (size_t)cap * 2);
			memcpy(bigger, v, sizeof(*v) * (size_t)cap);
			v = bigger;
			cap *= 2;
		}
		service_row(s, &v[(*n)++], a);
	}
	if (rc == 0)
		*rows = v;
out:
	store_done(s);
	return bk_err(rc);
}

/* --- opening hours ---------------------------------------------------------- */

/*
 * 0 when the staff actor manages place org_id and service_id belongs to that
 * place or to the customer the place is a member of.
 */
static int place_check(struct store_conn *c, const struct booking_actor *who, int64_t service_id,
                       int64_t org_id)
{
	int64_t one = 0;
	if (bk_actor_kind(who) != BK_STAFF)
		return BOOKING_NOTFOUND;
	int rc = store_scalar(c, &one,
	                      "SELECT 1 FROM services v JOIN organisations o ON o.id = ? "
	                      "WHERE v.id = ? AND (v.org_id = o.id OR v.org_id = o.parent_id) "
	                      "AND (o.id = ? OR o.parent_id = ?)",
	                      "iiii", org_id, service_id, who->staff_org, who->staff_org);
	return bk_err(rc);
}

static int hours_cmp(const void *pa, const void *pb)
{
	const struct booking_hours *x = pa, *y = pb;
	if (x->weekday != y->weekday)
		return x->weekday < y->weekday ? -1 : 1;
	return x->start_min < y->start_min ? -1 : x->start_min > y->start_min;
}

static int hours_valid(const struct booking_hours *hours, int n)
{
	if (n < 0 || n > BOOKING_HOURS_MAX || (n > 0 && hours == NULL))
		return BOOKING_INVALID;
	struct booking_hours sorted[BOOKING_HOURS_MAX];
	for (int i = 0; i < n; i++) {
		const struct booking_hours *h = &hours[i];
		if (h->weekday < 0 || h->weekday > 6 || h->start_min < 0 || h->end_min > 1440 ||
		    h->start_min >= h->end_min || h->slot_min <= 0 ||
		    h->slot_min > h->end_min - h->start_min || h->capacity < 1 ||
		    h->capacity > 1000)
			return BOOKING_INVALID;
		sorted[i] = *h;
	}
	qsort(sorted, (size_t)n, sizeof(sorted[0]), hours_cmp);
	for (int i = 1; i < n; i++)
		if (sorted[i].weekday == sorted[i - 1].weekday &&
		    sorted[i].start_min < sorted[i - 1].end_min)
			return BOOKING_INVALID;
	return 0;
}

int booking_hours_set(struct store_conn *c, const struct booking_actor *who, int64_t service_id,
                      int64_t org_id, const struct booking_hours *hours, int n)
{
	int rc;
	if ((rc = hours_valid(hours, n)) != 0)
		return rc;
	if ((rc = place_check(c, who, service_id, org_id)) != 0)
		return rc;
	if ((rc = store_begin(c)) != 0)
		return bk_err(rc);
	rc = store_exec(c, NULL, "DELETE FROM opening_hours WHERE service_id = ? AND org_id = ?",
	                "ii", service_id, org_id);
	for (int i = 0; rc == 0 && i < n; i++) {
		const struct booking_hours *h = &hours[i];
		rc = store_exec(
		    c, NULL,
		    "INSERT INTO opening_hours (org_id, service_id, weekday, start_min, "
		    "end_min, slot_min, capacity) VALUES (?, ?, ?, ?, ?, ?, ?)",
		    "iiiiiii", org_id, service_id, (int64_t)h->weekday, (int64_t)h->start_min,
		    (int64_t)h->end_min, (int64_t)h->slot_min, (int64_t)h->capacity);
	}
	if (rc == 0)
		rc = store_commit(c);
	if (rc != 0)
		store_rollback(c);
	return bk_err(rc);
}

int booking_hours_get(struct store_conn *c, const struct booking_actor *who, int64_t service_id,
                      int64_t org_id, struct booking_hours **rows, int *n, struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc;
	*rows = NULL;
	*n = 0;
	if ((rc = place_check(c, who, service_id, org_id)) != 0)
		return rc;
	rc =
	    store_query(c, &s,
	                "SELECT weekday, start_min, end_min, slot_min, capacity FROM opening_hours "
	                "WHERE service_id = ? AND org_id = ? ORDER BY weekday, start_min",
	                "ii", service_id, org_id);
	if (rc != 0)
		return bk_err(rc);
	struct booking_hours *h = arena_alloc(a, sizeof(*h) * BOOKING_HOURS_MAX);
	while ((rc = store_step(s)) == 1 && *n < BOOKING_HOURS_MAX) {
		struct booking_hours *r = &h[(*n)++];
		r->weekday = (int)store_col_int(s, 0);
		r->start_min = (int)store_col_int(s, 1);
		r->end_min = (int)store_col_int(s, 2);
		r->slot_min = (int)store_col_int(s, 3);
		r->capacity = (int)store_col_int(s, 4);
	}
	if (rc >= 0) {
		rc = 0;
		*rows = h;
	}
	store_done(s);
	return bk_err(rc);
}
