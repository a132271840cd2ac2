/*
 * store/patients: patient records of one organisation, with the portal status
 * staff see (derived from accounts, invitations and managed_by, never stored).
 *
 * Every function takes the caller's org_id and confines its SQL to it: another
 * organisation's patient is STORE_NOTFOUND, exactly like a missing one.
 *
 * Status, first rule that holds: ACTIVE (an account with a password), FAMILY
 * (managed by another patient), INVITED (a pending invitation that has not
 * expired), NONE.
 *
 * Search (store_patient_list/count, filter->q), chosen by the shape of q:
 *  - contains '@': prefix of the e-mail (lower-cased);
 *  - only digits, spaces, + - . / ( ) with 3+ digits: prefix of the E.164
 *    mobile, tried as typed ("+39333..", "0039333.." too) and, when typed
 *    without an international prefix, after "+39" (the clinics' country);
 *  - anything else: names_key(q) is a prefix of search_key (names_key of
 *    "given family") or of search_key_fg (names_key of "family given"), so
 *    "ross", "mario ross", "rossi mar" and "d'ami" all find their patients,
 *    ignoring case, accents, spaces and apostrophes.
 * Prefixes are index ranges (key >= prefix AND key < prefix || U+10FFFF),
 * portable, read through `p.id IN (range UNION range)`; pages are keyset on
 * id within org_id. Timings at 100,000 patients: bench/patients_list.c.
 * It must never assemble SQL from input: fragments are constants, values bound.
 */
#include "store/store.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/util.h"

#include <string.h>

#define KEY_TOP    "\xF4\x8F\xBF\xBF" /* U+10FFFF: sorts after any continuation of a prefix */
#define ROWS_MAX   500                /* appointments/recalls/family rows returned at most */
#define DEFAULT_CC "+39"

#define HAS_PASSWORD                                                                               \
	"EXISTS (SELECT 1 FROM accounts a2 WHERE a2.patient_id = p.id AND a2.pw_hash IS NOT NULL)"
#define HAS_PENDING                                                                                \
	"EXISTS (SELECT 1 FROM invitations i2 WHERE i2.patient_id = p.id AND i2.state = "          \
	"'pending' "                                                                               \
	"AND i2.expires_at > ?)"

/* Bound: now (for the pending column). */
#define PATIENT_SELECT                                                                             \
	"SELECT p.id, p.org_id, p.given_name, p.family_name, p.birth_date, p.mobile, p.email, "    \
	"p.lang, p.external_ref, p.managed_by, p.created_at, p.updated_at, m.given_name, "         \
	"m.family_name, CASE WHEN a.pw_hash IS NULL THEN 0 ELSE 1 END, "                           \
	"CASE WHEN " HAS_PENDING " THEN 1 ELSE 0 END "                                             \
	"FROM patients p LEFT JOIN accounts a ON a.patient_id = p.id "                             \
	"LEFT JOIN patients m ON m.id = p.managed_by "

/* Indexed by enum store_portal_status; needs_now: the fragment binds `now` once. */
static const struct {
	const char *sql;
	int needs_now;
} status_sql[] = {
    [STORE_PS_NONE] = {" AND p.managed_by IS NULL AND NOT " HAS_PASSWORD " AND NOT " HAS_PENDING,
                       1},
    [STORE_PS_INVITED] = {" AND p.managed_by IS NULL AND NOT " HAS_PASSWORD " AND " HAS_PENDING, 1},
    [STORE_PS_ACTIVE] = {" AND " HAS_PASSWORD, 0},
    [STORE_PS_FAMILY] = {" AND p.managed_by IS NOT NULL AND NOT " HAS_PASSWORD, 0},
};

static void read_patient(struct store_stmt *s, struct store_patient *p, struct arena *a)
{
	memset(p, 0, sizeof(*p));
	p->id = store_col_int(s, 0);
	p->org_id = store_col_int(s, 1);
	p->given_name = store_col_dup(s, 2, a);
	p->family_name = store_col_dup(s, 3, a);
	p->birth_date = store_col_dup(s, 4, a);
	p->mobile = store_col_dup(s, 5, a);
	p->email = store_col_dup(s, 6, a);
	p->lang = store_col_dup(s, 7, a);
	p->external_ref = store_col_dup(s, 8, a);
	p->managed_by = store_col_int(s, 9);
	p->created_at = store_col_int(s, 10);
	p->updated_at = store_col_int(s, 11);
	if (!store_col_is_null(s, 12))
		p->managed_by_name =
		    arena_printf(a, "%s %s", store_col_text(s, 12),
		                 store_col_text(s, 13) ? store_col_text(s, 13) : "");
	p->has_password = store_col_int(s, 14) != 0;
	int pending = store_col_int(s, 15) != 0;
	if (p->has_password)
		p->status = STORE_PS_ACTIVE;
	else if (p->managed_by != 0)
		p->status = STORE_PS_FAMILY;
	else if (pending)
		p->status = STORE_PS_INVITED;
	else
		p->status = STORE_PS_NONE;
}

int store_patient_get(struct store_conn *c, int64_t org_id, int64_t id, struct store_patient *out,
                      struct arena *a)
{
	memset(out, 0, sizeof(*out));
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s, PATIENT_SELECT "WHERE p.id = ? AND p.org_id = ?", "iii",
	                     now_utc(), id, org_id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		read_patient(s, out, a);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

/* ---- writing ----------------------------------------------------------- */

struct keys {
	char *family, *search, *search_fg, *email;
};

/* The derived columns of p; STORE_INVALID for missing names or invalid UTF-8. */
static int make_keys(const struct store_patient *p, struct keys *k, struct arena *a)
{
	if (p->given_name == NULL || p->family_name == NULL)
		return STORE_INVALID;
	k->family = names_key(p->family_name, a);
	k->search = names_key(arena_printf(a, "%s %s", p->given_name, p->family_name), a);
	k->search_fg = names_key(arena_printf(a, "%s %s", p->family_name, p->given_name), a);
	if (k->family == NULL || k->search == NULL || k->search_fg == NULL)
		return STORE_INVALID;
	k->email = NULL;
	if (p->email != NULL && *p->email != '\0') {
		k->email = arena_strdup(a, p->email);
		for (char *e = k->email; *e; e++)
			if (*e >= 'A' && *e <= 'Z')
				*e = (char)(*e - 'A' + 'a');
	}
	return 0;
}

/*
 * A family member's manager must be a patient of the same organisation that
 * is not itself managed, and a patient that manages others cannot become
 * managed: one level only, so "the managing account" is always well defined.
 */
static int check_manager(struct store_conn *c, int64_t org_id, int64_t self, int64_t manager)
{
	if (manager == 0)
		return 0;
	if (manager == self)
		return STORE_INVALID;
	int64_t v = 0;
	int rc = store_scalar(c, &v,
	                      "SELECT CASE WHEN managed_by IS NULL THEN 0 ELSE 1 END FROM patients "
	                      "WHERE id = ? AND org_id = ?",
	                      "ii", manager, org_id);
	if (rc == STORE_NOTFOUND || (rc == 0 && v != 0))
		return STORE_INVALID;
	if (rc != 0 || self == 0)
		return rc;
	rc = store_scalar(c, &v, "SELECT COUNT(*) FROM patients WHERE managed_by = ?", "i", self);
	if (rc == 0 && v != 0)
		rc = STORE_INVALID;
	return rc;
}

int store_patient_add(struct store_conn *c, struct store_patient *p)
{
	int rc = -1;
	struct arena *a = arena_create();
	struct keys k;
	if ((rc = make_keys(p, &k, a)) != 0)
		goto out;
	if ((rc = check_manager(c, p->org_id, 0, p->managed_by)) != 0)
		goto out;
	int64_t now = now_utc();
	rc = store_insert(
	    c, &p->id,
	    "INSERT INTO patients (org_id, given_name, family_name, family_key, "
	    "search_key, search_key_fg, birth_date, mobile, email, lang, external_ref, "
	    "managed_by, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    "ittttttttttIii", p->org_id, p->given_name, p->family_name, k.family, k.search,
	    k.search_fg, p->birth_date, p->mobile, k.email, p->lang ? p->lang : "it",
	    p->external_ref, p->managed_by, now, now);
	if (rc == 0)
		p->created_at = p->updated_at = now;
out:
	arena_free(a);
	return rc;
}

int store_patient_update(struct store_conn *c, const struct store_patient *p)
{
	int rc = -1;
	struct arena *a = arena_create();
	struct keys k;
	if ((rc = make_keys(p, &k, a)) != 0)
		goto out;
	if ((rc = check_manager(c, p->org_id, p->id, p->managed_by)) != 0)
		goto out;
	int64_t changed = 0;
	rc = store_exec(c, &changed,
	                "UPDATE patients SET given_name = ?, family_name = ?, family_key = ?, "
	                "search_key = ?, search_key_fg = ?, birth_date = ?, mobile = ?, email = ?, "
	                "lang = ?, external_ref = ?, managed_by = ?, updated_at = ? "
	                "WHERE id = ? AND org_id = ?",
	                "ttttttttttIiii", p->given_name, p->family_name, k.family, k.search,
	                k.search_fg, p->birth_date, p->mobile, k.email, p->lang ? p->lang : "it",
	                p->external_ref, p->managed_by, now_utc(), p->id, p->org_id);
	if (rc == 0 && changed == 0)
		rc = STORE_NOTFOUND;
out:
	arena_free(a);
	return rc;
}

int store_patient_by_ref(struct store_conn *c, int64_t org_id, const char *external_ref,
                         int64_t *id)
{
	if (external_ref == NULL || *external_ref == '\0')
		return STORE_NOTFOUND;
	return store_scalar(c, id, "SELECT id FROM patients WHERE org_id = ? AND external_ref = ?",
	                    "it", org_id, external_ref);
}

/* ---- listing and search ------------------------------------------------ */

/*
 * A search is one or two index ranges, read in one of two ways, chosen per
 * query by counting (up to PROBE_CAP) the index entries in the ranges:
 *  - few matches: `p.id IN (range UNION range)` reads only the matching index
 *    entries and sorts them, so a rare name costs as little as a common one;
 *  - many matches ("m"): an id-order walk of the organisation with the ranges
 *    as a filter finds a page of matches after a few hundred rows, where the
 *    IN form would first collect and sort tens of thousands.
 * SQLite's planner, without statistics, always picks the walk; the probe is
 * what keeps a rare name from scanning the organisation.
 */
#define PROBE_CAP 1000

enum search_kind { SEARCH_NONE, SEARCH_EMAIL, SEARCH_MOBILE, SEARCH_NAME };

struct search {
	enum search_kind kind;
	int nranges; /* the IN form binds org_id, lo, hi per range; the walk lo, hi */
	int walk;
	const char *lo[2], *hi[2];
};

#define IN_RANGE(col) "SELECT id FROM patients WHERE org_id = ? AND " col " >= ? AND " col " < ?"
#define WALK(col)     "(p." col " >= ? AND p." col " < ?)"
#define PROBE(col)                                                                                 \
	"SELECT COUNT(*) FROM (SELECT 1 FROM patients WHERE org_id = ? AND " col " >= ? AND " col  \
	" < ? LIMIT ?) t"

static const struct {
	const char *in, *walk, *probe[2];
} search_sql[] = {
    [SEARCH_EMAIL] = {" AND p.id IN (" IN_RANGE("email") ")",
                      " AND " WALK("email"),
                      {PROBE("email"), NULL}},
    [SEARCH_MOBILE] = {" AND p.id IN (" IN_RANGE("mobile") " UNION " IN_RANGE("mobile") ")",
                       " AND (" WALK("mobile") " OR " WALK("mobile") ")",
                       {PROBE("mobile"), PROBE("mobile")}},
    [SEARCH_NAME] = {" AND p.id IN (" IN_RANGE("search_key") " UNION " IN_RANGE(
                         "search_key_fg") ")",
                     " AND (" WALK("search_key") " OR " WALK("search_key_fg") ")",
                     {PROBE("search_key"), PROBE("search_key_fg")}},
};

/*
 * Sets sr->walk when the ranges hold PROBE_CAP entries or more and no status
 * filter thins the matches out (with one, a walk could cross the whole
 * organisation to fill a page: "ross" among active patients).
 */
static int choose_plan(struct store_conn *c, int64_t org_id, int status, struct search *sr)
{
	if (status >= 0 && status != STORE_PS_NONE)
		return 0;
	int64_t total = 0;
	for (int i = 0; i < sr->nranges; i++) {
		int64_t n = 0;
		int rc = store_scalar(c, &n, search_sql[sr->kind].probe[i], "itti", org_id,
		                      sr->lo[i], sr->hi[i], (int64_t)PROBE_CAP);
		if (rc != 0)
			return rc;
		total += n;
	}
	sr->walk = total >= PROBE_CAP;
	return 0;
}

static int is_phone(const char *q, int *digits)
{
	*digits = 0;
	if (!(*q == '+' || (*q >= '0' && *q <= '9')))
		return 0;
	for (const char *s = q; *s; s++) {
		if (*s >= '0' && *s <= '9')
			(*digits)++;
		else if (!strchr("+ -./()", *s) || (*s == '+' && s != q))
			return 0;
	}
	return *digits >= 3;
}

static void add_range(struct search *sr, const char *prefix, struct arena *a)
{
	sr->lo[sr->nranges] = prefix;
	sr->hi[sr->nranges] = arena_printf(a, "%s" KEY_TOP, prefix);
	sr->nranges++;
}

/* Turns f->q into a search fragment and its values (arena). STORE_INVALID for bad UTF-8. */
static int make_search(const char *q, struct search *sr, struct arena *a)
{
	memset(sr, 0, sizeof(*sr));
	if (q == NULL)
		return 0;
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q == '\0')
		return 0;
	int digits = 0;
	if (strchr(q, '@') != NULL) {
		char *e = arena_strdup(a, q);
		size_t n = strlen(e);
		while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == '\t'))
			e[--n] = '\0';
		for (char *t = e; *t; t++)
			if (*t >= 'A' && *t <= 'Z')
				*t = (char)(*t - 'A' + 'a');
		sr->kind = SEARCH_EMAIL;
		add_range(sr, e, a);
	} else if (is_phone(q, &digits)) {
		char *d = arena_alloc(a, (size_t)digits + 1), *o = d;
		for (const char *s = q; *s; s++)
			if (*s >= '0' && *s <= '9')
				*o++ = *s;
		*o = '\0';
		sr->kind = SEARCH_MOBILE;
		if (*q == '+') {
			add_range(sr, arena_printf(a, "+%s", d), a);
			add_range(sr, sr->lo[0], a);
		} else if (d[0] == '0' && d[1] == '0') {
			add_range(sr, arena_printf(a, "+%s", d + 2), a);
			add_range(sr, sr->lo[0], a);
		} else {
			add_range(sr, arena_printf(a, "+%s", d), a);
			add_range(sr, arena_printf(a, DEFAULT_CC "%s", d), a);
		}
	} else {
		char *key = names_key(q, a);
		if (key == NULL)
			return STORE_INVALID;
		if (*key == '\0')
			return 0; /* only punctuation: no constraint, like an empty box */
		sr->kind = SEARCH_NAME;
		add_range(sr, key, a);
		add_range(sr, key, a);
	}
	return 0;
}

/* Appends the filter's WHERE tail to sql; binds later with bind_filter, in the same order. */
static int filter_sql(struct buf *sql, const struct store_patient_filter *f,
                      const struct search *sr)
{
	if (sr->kind != SEARCH_NONE)
		buf_puts(sql, sr->walk ? search_sql[sr->kind].walk : search_sql[sr->kind].in);
	if (f->status >= 0) {
		if ((size_t)f->status >= sizeof(status_sql) / sizeof(status_sql[0]))
			return STORE_INVALID;
		buf_puts(sql, status_sql[f->status].sql);
	}
	return 0;
}

static int bind_filter(struct store_stmt *s, int64_t org_id, const struct store_patient_filter *f,
                       const struct search *sr, int64_t now)
{
	int rc = 0;
	for (int i = 0; i < sr->nranges && rc == 0; i++)
		rc = sr->walk ? store_bind(s, "tt", sr->lo[i], sr->hi[i])
		              : store_bind(s, "itt", org_id, sr->lo[i], sr->hi[i]);
	if (rc == 0 && f->status >= 0 && status_sql[f->status].needs_now)
		rc = store_bind(s, "i", now);
	return rc;
}

int store_patient_list(struct store_conn *c, int64_t org_id, const struct store_patient_filter *f,
                       struct store_patient **rows, int *n, int *more, struct arena *a)
{
	int rc = -1;
	struct store_stmt *s = NULL;
	struct search sr;
	struct buf sql;
	buf_init(&sql, 0);
	*rows = NULL;
	*n = 0;
	*more = 0;
	if (f->limit < 1 || f->limit > 500) {
		rc = STORE_INVALID;
		goto out;
	}
	if ((rc = make_search(f->q, &sr, a)) != 0)
		goto out;
	if (sr.kind != SEARCH_NONE && (rc = choose_plan(c, org_id, f->status, &sr)) != 0)
		goto out;
	buf_puts(&sql, PATIENT_SELECT "WHERE p.org_id = ? AND p.id > ?");
	if ((rc = filter_sql(&sql, f, &sr)) != 0)
		goto out;
	buf_puts(&sql, " ORDER BY p.id LIMIT ?");
	int64_t now = now_utc();
	if ((rc = store_prepare(c, &s, sql.data)) != 0)
		goto out;
	if ((rc = store_bind(s, "iii", now, org_id, f->after_id)) != 0 ||
	    (rc = bind_filter(s, org_id, f, &sr, now)) != 0 ||
	    (rc = store_bind(s, "i", (int64_t)f->limit + 1)) != 0)
		goto out;
	struct store_patient *out = arena_alloc(a, sizeof(*out) * ((size_t)f->limit + 1));
	int count = 0;
	while ((rc = store_step(s)) == 1) {
		if (count == f->limit) {
			*more = 1;
			continue;
		}
		read_patient(s, &out[count++], a);
	}
	if (rc < 0)
		goto out;
	*rows = out;
	*n = count;
	rc = 0;
out:
	store_done(s);
	buf_free(&sql);
	return rc;
}

int store_patient_count(struct store_conn *c, int64_t org_id, const struct store_patient_filter *f,
                        int64_t *count)
{
	int rc = -1;
	struct store_stmt *s = NULL;
	struct arena *a = arena_create();
	struct search sr;
	struct buf sql;
	buf_init(&sql, 0);
	*count = 0;
	if ((rc = make_search(f->q, &sr, a)) != 0)
		goto out;
	if (sr.kind != SEARCH_NONE && (rc = choose_plan(c, org_id, f->status, &sr)) != 0)
		goto out;
	buf_puts(&sql, "SELECT COUNT(*) FROM patients p WHERE p.org_id = ?");
	if ((rc = filter_sql(&sql, f, &sr)) != 0)
		goto out;
	if ((rc = store_prepare(c, &s, sql.data)) != 0)
		goto out;
	if ((rc = store_bind(s, "i", org_id)) != 0 ||
	    (rc = bind_filter(s, org_id, f, &sr, now_utc())) != 0)
		goto out;
	rc = store_step(s);
	if (rc == 1) {
		*count = store_col_int(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_ERR;
	}
out:
	store_done(s);
	buf_free(&sql);
	arena_free(a);
	return rc;
}

/* ---- profile side lists ------------------------------------------------ */

static int own_patient(struct store_conn *c, int64_t org_id, int64_t id)
{
	int64_t v = 0;
	return store_scalar(c, &v, "SELECT id FROM patients WHERE id = ? AND org_id = ?", "ii", id,
	                    org_id);
}

int store_patient_family(struct store_conn *c, int64_t org_id, int64_t id,
                         struct store_patient **rows, int *n, struct arena *a)
{
	int rc = -1;
	struct store_stmt *s = NULL;
	*rows = NULL;
	*n = 0;
	if ((rc = own_patient(c, org_id, id)) != 0)
		goto out;
	if ((rc = store_query(c, &s,
	                      PATIENT_SELECT "WHERE p.managed_by = ? AND p.org_id = ? "
	                                     "ORDER BY p.id LIMIT ?",
	                      "iiii", now_utc(), id, org_id, (int64_t)ROWS_MAX)) != 0)
		goto out;
	struct store_patient *out = arena_alloc(a, sizeof(*out) * ROWS_MAX);
	int count = 0;
	while ((rc = store_step(s)) == 1)
		read_patient(s, &out[count++], a);
	if (rc < 0)
		goto out;
	*rows = out;
	*n = count;
	rc = 0;
out:
	store_done(s);
	return rc;
}

/* Newest first: the profile shows what is coming and what just happened. */
int store_patient_appointments(struct store_conn *c, int64_t org_id, int64_t id,
                               struct store_appointment_row **rows, int *n, struct arena *a)
{
	int rc = -1;
	struct store_stmt *s = NULL;
	*rows = NULL;
	*n = 0;
	if ((rc = own_patient(c, org_id, id)) != 0)
		goto out;
	if ((rc = store_query(c, &s,
	                      "SELECT a.id, a.start_at, s.name, o.name, a.kind, a.payment, "
	                      "a.booked_via, a.paid_at FROM appointments a "
	                      "JOIN services s ON s.id = a.service_id "
	                      "JOIN organisations o ON o.id = a.org_id "
	                      "WHERE a.patient_id = ? ORDER BY a.start_at DESC, a.id DESC LIMIT ?",
	                      "ii", id, (int64_t)ROWS_MAX)) != 0)
		goto out;
	struct store_appointment_row *out = arena_alloc(a, sizeof(*out) * ROWS_MAX);
	int count = 0;
	while ((rc = store_step(s)) == 1) {
		struct store_appointment_row *r = &out[count++];
		r->id = store_col_int(s, 0);
		r->start_at = store_col_int(s, 1);
		r->service = store_col_dup(s, 2, a);
		r->org_name = store_col_dup(s, 3, a);
		r->kind = store_col_dup(s, 4, a);
		r->payment = store_col_dup(s, 5, a);
		r->booked_via = store_col_dup(s, 6, a);
		r->paid = !store_col_is_null(s, 7);
	}
	if (rc < 0)
		goto out;
	*rows = out;
	*n = count;
	rc = 0;
out:
	store_done(s);
	return rc;
}

int store_patient_recalls(struct store_conn *c, int64_t org_id, int64_t id,
                          struct store_recall_row **rows, int *n, struct arena *a)
{
	int rc = -1;
	struct store_stmt *s = NULL;
	*rows = NULL;
	*n = 0;
	if ((rc = own_patient(c, org_id, id)) != 0)
		goto out;
	if ((rc =
	         store_query(c, &s,
	                     "SELECT r.id, r.sent_at, s.name, r.due_date, r.channel FROM recalls r "
	                     "JOIN services s ON s.id = r.service_id "
	                     "WHERE r.patient_id = ? AND r.cancelled_at IS NULL "
	                     "ORDER BY r.due_date DESC, r.id DESC LIMIT ?",
	                     "ii", id, (int64_t)ROWS_MAX)) != 0)
		goto out;
	struct store_recall_row *out = arena_alloc(a, sizeof(*out) * ROWS_MAX);
	int count = 0;
	while ((rc = store_step(s)) == 1) {
		struct store_recall_row *r = &out[count++];
		r->id = store_col_int(s, 0);
		r->sent_at = store_col_int(s, 1); /* 0 while not sent */
		r->service = store_col_dup(s, 2, a);
		r->due_date = store_col_dup(s, 3, a);
		r->channel = store_col_dup(s, 4, a);
	}
	if (rc < 0)
		goto out;
	*rows = out;
	*n = count;
	rc = 0;
out:
	store_done(s);
	return rc;
}

/*
 * One pass over the organisation's patients with the same rules as the list's
 * status filter (an account with a password is active whatever else; then a
 * family member; then a pending, unexpired link), and one over its
 * invitations. The second has no index by organisation and time (migration
 * 010 dropped it: every bulk-invited row paid for it), so it reads the
 * organisation's invitations once: the page is visited now and then, a bulk
 * invite writes 100,000 rows at a time.
 */
#define NO_PASSWORD_OWN "a.pw_hash IS NULL AND p.managed_by IS NULL"

int store_portal_counts(struct store_conn *c, int64_t org_id, int64_t now, int64_t since,
                        struct store_portal_counts *out)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(
	    c, &s,
	    "SELECT COUNT(*), "
	    "COALESCE(SUM(CASE WHEN a.pw_hash IS NOT NULL THEN 1 ELSE 0 END), 0), "
	    "COALESCE(SUM(CASE WHEN a.pw_hash IS NULL AND p.managed_by IS NOT NULL THEN 1 ELSE 0 "
	    "END), 0), "
	    "COALESCE(SUM(CASE WHEN " NO_PASSWORD_OWN " AND " HAS_PENDING
	    " THEN 1 ELSE 0 END), 0), "
	    "COALESCE(SUM(CASE WHEN " NO_PASSWORD_OWN " AND COALESCE(p.mobile, '') = '' AND "
	    "COALESCE(p.email, '') = '' AND NOT " HAS_PENDING " THEN 1 ELSE 0 END), 0) "
	    "FROM patients p LEFT JOIN accounts a ON a.patient_id = p.id WHERE p.org_id = ?",
	    "iii", now, now, org_id);
	if (rc != 0)
		return rc;
	if ((rc = store_step(s)) == 1) {
		out->patients = store_col_int(s, 0);
		out->by_status[STORE_PS_ACTIVE] = store_col_int(s, 1);
		out->by_status[STORE_PS_FAMILY] = store_col_int(s, 2);
		out->by_status[STORE_PS_INVITED] = store_col_int(s, 3);
		out->none_unreached = store_col_int(s, 4);
		out->by_status[STORE_PS_NONE] = out->patients - out->by_status[STORE_PS_ACTIVE] -
		                                out->by_status[STORE_PS_FAMILY] -
		                                out->by_status[STORE_PS_INVITED];
		rc = 0;
	} else {
		rc = rc == 0 ? STORE_ERR : rc;
	}
	store_done(s);
	if (rc != 0)
		return rc;
	rc = store_query(c, &s,
	                 "SELECT COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0), "
	                 "COALESCE(SUM(CASE WHEN accepted_at >= ? THEN 1 ELSE 0 END), 0) "
	                 "FROM invitations WHERE org_id = ? AND (created_at >= ? OR "
	                 "accepted_at >= ?)",
	                 "iiiii", since, since, org_id, since, since);
	if (rc != 0)
		return rc;
	if ((rc = store_step(s)) == 1) {
		out->sent = store_col_int(s, 0);
		out->accepted = store_col_int(s, 1);
		rc = 0;
	} else {
		rc = rc == 0 ? STORE_ERR : rc;
	}
	store_done(s);
	return rc;
}
