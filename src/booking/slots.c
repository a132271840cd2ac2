/*
 * booking/slots: slots generated from opening hours, and the free-slot
 * search of the portal and the staff pages.
 *
 * Generation computes the wanted slots in C (local wall times of the
 * organisation's zone turned into UTC by booking/tz.h, never through the
 * process-wide TZ), then reconciles them with the stored ones in one
 * transaction. It must never delete or shrink below its bookings a slot
 * someone booked: the conditions live in the UPDATE/DELETE statements, so a
 * booking that commits meanwhile (PostgreSQL) is re-checked on the row.
 */
#include "booking/internal.h"
#include "booking/tz.h"

#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct want {
	int64_t start, end;
	int capacity;
};

struct have {
	int64_t id, start, end;
	int capacity, booked, used; /* used: an appointment refers to it */
};

static int want_cmp(const void *pa, const void *pb)
{
	const struct want *x = pa, *y = pb;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* UTC instant of local midnight starting day `days` (after the gap if there is one). */
static int midnight_utc(const char *zone, int64_t days, int64_t *utc)
{
	struct tz_local l = {0};
	tz_civil_from_days(days, &l.year, &l.month, &l.day);
	int rc = tz_local_to_utc(zone, &l, utc);
	return rc == TZ_ERR_GAP || rc >= 0 ? 0 : BOOKING_ZONE;
}

/* The wanted slots for days [d0, d1] into *out (malloc'd, sorted, unique); *n. */
static int plan(const char *zone, int64_t d0, int64_t d1, const struct booking_hours *h, int nh,
                struct want **out, int *n)
{
	size_t cap = 256, len = 0;
	struct want *w = malloc(cap * sizeof(*w));
	int rc = BOOKING_ERR;
	if (w == NULL)
		goto fail;
	for (int64_t d = d0; d <= d1; d++) {
		int wd = tz_weekday(d);
		struct tz_local l = {0};
		tz_civil_from_days(d, &l.year, &l.month, &l.day);
		for (int i = 0; i < nh; i++) {
			if (h[i].weekday != wd)
				continue;
			for (int m = h[i].start_min; m + h[i].slot_min <= h[i].end_min;
			     m += h[i].slot_min) {
				int64_t start = 0;
				l.hour = m / 60;
				l.minute = m % 60;
				int t = tz_local_to_utc(zone, &l, &start);
				if (t == TZ_ERR_GAP)
					continue; /* this wall time does not exist today */
				if (t < 0) {
					rc = BOOKING_ZONE;
					goto fail;
				}
				if (len == cap) {
					struct want *bigger = realloc(w, cap * 2 * sizeof(*w));
					if (bigger == NULL)
						goto fail;
					w = bigger;
					cap *= 2;
				}
				w[len++] = (struct want){start, start + (int64_t)h[i].slot_min * 60,
				                         h[i].capacity};
			}
		}
	}
	qsort(w, len, sizeof(*w), want_cmp);
	/* Two wall times on one instant cannot happen with non-overlapping hours; be sure. */
	size_t u = 0;
	for (size_t i = 0; i < len; i++)
		if (u == 0 || w[u - 1].start != w[i].start)
			w[u++] = w[i];
	*out = w;
	*n = (int)u;
	return 0;
fail:
	free(w);
	return rc;
}

/* The stored slots of (service, place) with start in [from, to), by start. */
static int load_have(struct store_conn *c, int64_t service_id, int64_t org_id, int64_t from,
                     int64_t to, struct have **out, int *n)
{
	struct store_stmt *s = NULL;
	size_t cap = 256, len = 0;
	struct have *h = malloc(cap * sizeof(*h));
	if (h == NULL)
		return BOOKING_ERR;
	int rc = store_query(c, &s,
	                     "SELECT s.id, s.start_at, s.end_at, s.capacity, s.booked, "
	                     "(SELECT COUNT(*) FROM appointments a WHERE a.slot_id = s.id) "
	                     "FROM slots s WHERE s.service_id = ? AND s.org_id = ? "
	                     "AND s.start_at >= ? AND s.start_at < ? ORDER BY s.start_at",
	                     "iiii", service_id, org_id, from, to);
	if (rc != 0)
		goto out;
	while ((rc = store_step(s)) == 1) {
		if (len == cap) {
			struct have *bigger = realloc(h, cap * 2 * sizeof(*h));
			if (bigger == NULL) {
				rc = STORE_ERR;
				break;
			}
			h = bigger;
			cap *= 2;
		}
		h[len++] = (struct have){store_col_int(s, 0),      store_col_int(s, 1),
		                         store_col_int(s, 2),      (int)store_col_int(s, 3),
		                         (int)store_col_int(s, 4), store_col_int(s, 5) > 0};
	}
out:
	store_done(s);
	if (rc < 0) {
		free(h);
		return bk_err(rc);
	}
	*out = h;
	*n = (int)len;
	return 0;
}

static int load_hours(struct store_conn *c, int64_t service_id, int64_t org_id,
                      struct booking_hours h[BOOKING_HOURS_MAX], int *n)
{
	struct store_stmt *s = NULL;
	*n = 0;
	int rc = store_query(c, &s,
	                     "SELECT weekday, start_min, end_min, slot_min, capacity FROM "
	                     "opening_hours WHERE service_id = ? AND org_id = ?",
	                     "ii", service_id, org_id);
	if (rc != 0)
		return bk_err(rc);
	while ((rc = store_step(s)) == 1 && *n < BOOKING_HOURS_MAX) {
		struct booking_hours *r = &h[(*n)++];
		r->weekday = (int)store_col_int(s, 0);
		r->start_min = (int)store_col_int(s, 1);
		r->end_min = (int)store_col_int(s, 2);
		r->slot_min = (int)store_col_int(s, 3);
		r->capacity = (int)store_col_int(s, 4);
	}
	store_done(s);
	return rc < 0 ? bk_err(rc) : 0;
}

int booking_slots_generate(struct store_conn *c, const struct booking_actor *who,
                           int64_t service_id, int64_t org_id, const char *from_date,
                           const char *to_date, struct booking_generate_result *res)
{
	struct booking_generate_result r = {0};
	struct booking_hours hours[BOOKING_HOURS_MAX];
	struct want *w = NULL;
	struct have *h = NULL;
	int nw = 0, nh = 0, nhours = 0, began = 0;
	int64_t d0, d1, from, to, one = 0;
	char zone[64];
	int rc;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (tz_parse_date(from_date, &d0) != 0 || tz_parse_date(to_date, &d1) != 0 || d1 < d0 ||
	    d1 - d0 >= BOOKING_GENERATE_MAX_DAYS)
		return BOOKING_INVALID;
	if (bk_actor_kind(who) != BK_STAFF)
		return BOOKING_NOTFOUND;
	/* The place must be the actor's and the service its own or its customer's. */
	rc = store_scalar(c, &one,
	                  "SELECT 1 FROM services v JOIN organisations o ON o.id = ? "
	                  "WHERE v.id = ? AND (v.org_id = o.id OR v.org_id = o.parent_id) "
	                  "AND (o.id = ? OR o.parent_id = ?)",
	                  "iiii", org_id, service_id, who->staff_org, who->staff_org);
	if (rc != 0)
		return bk_err(rc);
	{
		struct store_stmt *s = NULL;
		rc = store_query(c, &s, "SELECT timezone FROM organisations WHERE id = ?", "i",
		                 org_id);
		if (rc != 0)
			return bk_err(rc);
		rc = store_step(s);
		const char *tzname = rc == 1 ? store_col_text(s, 0) : NULL;
		snprintf(zone, sizeof(zone), "%s", tzname ? tzname : "");
		store_done(s);
		if (rc < 0)
			return bk_err(rc);
	}
	if (!tz_valid(zone))
		return BOOKING_ZONE;
	if (midnight_utc(zone, d0, &from) != 0 || midnight_utc(zone, d1 + 1, &to) != 0)
		return BOOKING_ZONE;

	if ((rc = store_begin(c)) != 0)
		return bk_err(rc);
	began = 1;
	if ((rc = load_hours(c, service_id, org_id, hours, &nhours)) != 0)
		goto out;
	if ((rc = plan(zone, d0, d1, hours, nhours, &w, &nw)) != 0)
		goto out;
	if ((rc = load_have(c, service_id, org_id, from, to, &h, &nh)) != 0)
		goto out;

	/* Merge the two sorted lists. */
	int i = 0, j = 0;
	while (rc == 0 && (i < nw || j < nh)) {
		int64_t changes = 0;
		if (j == nh || (i < nw && w[i].start < h[j].start)) {
			rc = store_exec(c, &changes,
			                "INSERT INTO slots (org_id, service_id, start_at, end_at, "
			                "capacity, booked) VALUES (?, ?, ?, ?, ?, 0) "
			                "ON CONFLICT (service_id, org_id, start_at) DO NOTHING",
			                "iiiii", org_id, service_id, w[i].start, w[i].end,
			                (int64_t)w[i].capacity);
			r.created += (int)changes;
			i++;
		} else if (i == nw || h[j].start < w[i].start) {
			if (h[j].booked == 0 && !h[j].used) {
				rc = store_exec(
				    c, &changes,
				    "DELETE FROM slots WHERE id = ? AND booked = 0 AND NOT "
				    "EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = ?)",
				    "ii", h[j].id, h[j].id);
			}
			if (changes == 1)
				r.removed++;
			else
				r.kept++;
			j++;
		} else {
			if (h[j].end != w[i].end || h[j].capacity != w[i].capacity) {
				/* Never below what is booked, whatever was booked meanwhile. */
				rc = store_exec(
				    c, &changes,
				    "UPDATE slots SET end_at = ?, capacity = CASE WHEN booked "
				    "> ? THEN booked ELSE ? END WHERE id = ?",
				    "iiii", w[i].end, (int64_t)w[i].capacity,
				    (int64_t)w[i].capacity, h[j].id);
				r.updated += (int)changes;
			}
			i++;
			j++;
		}
		rc = bk_err(rc);
	}
	if (rc == 0)
		rc = bk_err(store_commit(c));
	began = rc != 0;
out:
	if (began)
		store_rollback(c);
	free(w);
	free(h);
	if (rc == 0 && res != NULL)
		*res = r;
	return rc;
}

/* --- search ------------------------------------------------------------------ */

#define SLOT_COLS                                                                                  \
	"SELECT s.id, s.org_id, s.service_id, s.start_at, s.end_at, s.capacity, s.booked, "        \
	"v.name, o.name, o.timezone, v.kind, v.payment, v.price_cents "                            \
	"FROM slots s JOIN services v ON v.id = s.service_id "                                     \
	"JOIN organisations o ON o.id = s.org_id "

static void slot_row(struct store_stmt *s, struct booking_slot *out, struct arena *a)
{
	memset(out, 0, sizeof(*out));
	out->id = store_col_int(s, 0);
	out->org_id = store_col_int(s, 1);
	out->service_id = store_col_int(s, 2);
	out->start_at = store_col_int(s, 3);
	out->end_at = store_col_int(s, 4);
	out->capacity = (int)store_col_int(s, 5);
	out->booked = (int)store_col_int(s, 6);
	out->service_name = store_col_dup(s, 7, a);
	out->org_name = store_col_dup(s, 8, a);
	out->timezone = store_col_dup(s, 9, a);
	out->kind = bk_enum(bk_kind_text, 2, store_col_text(s, 10), BOOKING_IN_PERSON);
	out->payment = bk_enum(bk_payment_text, 3, store_col_text(s, 11), BOOKING_PAY_NONE);
	out->price_cents = store_col_int(s, 12);
}

int booking_slots_search(struct store_conn *c, const struct booking_actor *who,
                         const struct booking_search *q, struct booking_slot **rows, int *n,
                         int *more, struct arena *a)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	int rc;
	*rows = NULL;
	*n = 0;
	*more = 0;
	if (bk_actor_kind(who) == 0)
		return BOOKING_NOTFOUND;
	if (q->limit < 1 || q->limit > 200 || (q->to != 0 && q->to < q->from))
		return BOOKING_INVALID;
	int keyset = q->after_start != 0 || q->after_id != 0;
	int patient = bk_actor_kind(who) == BK_PATIENT;
	if (bk_sql(sql,
	           SLOT_COLS "WHERE s.booked < s.capacity AND s.start_at > ? AND s.start_at >= ?",
	           q->to != 0 ? " AND s.start_at < ?" : "",
	           q->service_id > 0 ? " AND s.service_id = ?" : "",
	           q->org_id > 0 ? " AND s.org_id = ?" : "", " AND v.active = 1",
	           patient ? " AND v.online_booking = 1" : "", " AND ", bk_scope_sql(who),
	           keyset ? " AND (s.start_at > ? OR (s.start_at = ? AND s.id > ?))" : "",
	           " ORDER BY s.start_at, s.id LIMIT ?", NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = store_bind(s, "ii", q->now, q->from)) != 0)
		goto out;
	if (q->to != 0 && (rc = store_bind(s, "i", q->to)) != 0)
		goto out;
	if (q->service_id > 0 && (rc = store_bind(s, "i", q->service_id)) != 0)
		goto out;
	if (q->org_id > 0 && (rc = store_bind(s, "i", q->org_id)) != 0)
		goto out;
	if ((rc = bk_bind_scope(s, who)) != 0)
		goto out;
	if (keyset && (rc = store_bind(s, "iii", q->after_start, q->after_start, q->after_id)) != 0)
		goto out;
	/* One row more than asked tells whether another page follows. */
	if ((rc = store_bind(s, "i", (int64_t)q->limit + 1)) != 0)
		goto out;
	struct booking_slot *v = arena_alloc(a, sizeof(*v) * (size_t)(q->limit + 1));
	while ((rc = store_step(s)) == 1) {
		if (*n == q->limit) {
			*more = 1;
			continue;
		}
		slot_row(s, &v[(*n)++], a);
	}
	if (rc == 0)
		*rows = v;
out:
	store_done(s);
	return bk_err(rc);
}

int booking_slots_next(struct store_conn *c, const struct booking_actor *who, int64_t slot_id,
                       int64_t now, int limit, struct booking_slot **rows, int *n, struct arena *a)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	struct booking_slot *lost = NULL;
	int rc, more = 0;
	*rows = NULL;
	*n = 0;
	if (bk_actor_kind(who) == 0)
		return BOOKING_NOTFOUND;
	if (limit < 1 || limit > 100)
		return BOOKING_INVALID;
	if (bk_sql(sql, SLOT_COLS "WHERE s.id = ? AND ", bk_scope_sql(who), NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = store_bind(s, "i", slot_id)) == 0 && (rc = bk_bind_scope(s, who)) == 0) {
		rc = store_step(s);
		if (rc == 1) {
			lost = arena_alloc(a, sizeof(*lost));
			slot_row(s, lost, a);
			rc = 0;
		} else if (rc == 0) {
			rc = STORE_NOTFOUND;
		}
	}
	store_done(s);
	if (rc != 0)
		return bk_err(rc);
	struct booking_search q = {
	    .service_id = lost->service_id,
	    .org_id = lost->org_id,
	    .from = lost->start_at > now ? lost->start_at : now,
	    .now = now,
	    .limit = limit,
	};
	struct booking_slot *all = NULL;
	int got = 0;
	/* One more than asked, in case the lost slot itself is still free and listed. */
	q.limit = limit + 1;
	if ((rc = booking_slots_search(c, who, &q, &all, &got, &more, a)) != 0)
		return rc;
	int k = 0;
	for (int i = 0; i < got && k < limit; i++)
		if (all[i].id != slot_id)
			all[k++] = all[i];
	*rows = all;
	*n = k;
	return 0;
}
