/*
 * staff/patients: the "manage patients" page (search, status filter, keyset
 * pagination) and its Actions menu (bulk actions on the selected patients or
 * on every patient matching the filter).
 *
 * The actions are one static table (name, label, handler): "Invite to patient
 * portal" (invite.c: a confirmation page first) and "Export to CSV".
 * Every query is confined to the signed-in user's organisation; an id of
 * another organisation posted to an action is skipped, never acted on. It must
 * never put a value into HTML, a URL or a CSV cell without its encoder.
 */
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	PAGE_SIZE = 25,
	EXPORT_BATCH = 500,
	MAX_QUERY = 200, /* bytes of search text kept */
};

/* --- filter ------------------------------------------------------------ */

static const struct {
	const char *value; /* the status= parameter */
	int status;        /* -1: any, else enum store_portal_status */
	const char *label; /* msgid */
} status_options[] = {
    {"", -1, "Any status"},
    {"none", STORE_PS_NONE, "No account"},
    {"invited", STORE_PS_INVITED, "Invited"},
    {"active", STORE_PS_ACTIVE, "Active"},
    {"family", STORE_PS_FAMILY, "Family member"},
};

void staff_filter_parse(struct staff_filter *f, const char *q, const char *status, struct arena *a)
{
	f->q = "";
	f->status = "";
	f->status_code = -1;
	if (q != NULL) {
		while (*q == ' ' || *q == '\t')
			q++;
		size_t n = strnlen(q, MAX_QUERY);
		while (n > 0 && (q[n - 1] == ' ' || q[n - 1] == '\t'))
			n--;
		/* never cut a UTF-8 sequence in half */
		while (n > 0 && n == MAX_QUERY && ((unsigned char)q[n] & 0xC0) == 0x80)
			n--;
		f->q = arena_strndup(a, q, n);
	}
	for (size_t i = 0; status != NULL && i < ARRAY_LEN(status_options); i++) {
		if (strcmp(status, status_options[i].value) == 0) {
			f->status = status_options[i].value;
			f->status_code = status_options[i].status;
		}
	}
}

char *staff_list_url(const struct staff_filter *f, int64_t after, struct arena *a)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "/staff/patients");
	char sep = '?';
	if (f->q[0] != '\0') {
		buf_putc(&b, sep);
		buf_puts(&b, "q=");
		buf_urlenc(&b, f->q);
		sep = '&';
	}
	if (f->status[0] != '\0') {
		buf_putc(&b, sep);
		buf_puts(&b, "status=");
		buf_urlenc(&b, f->status);
		sep = '&';
	}
	if (after > 0) {
		buf_putc(&b, sep);
		buf_printf(&b, "after=%lld", (long long)after);
	}
	char *s = arena_strdup(a, b.data != NULL ? b.data : "/staff/patients");
	buf_free(&b);
	return s;
}

/* --- shared helpers (staff_int.h) --------------------------------------- */

const char *staff_status_label(const char *lang, enum store_portal_status s)
{
	for (size_t i = 1; i < ARRAY_LEN(status_options); i++)
		if (status_options[i].status == (int)s)
			return i18n_tr(lang, status_options[i].label);
	return "";
}

const char *staff_status_class(enum store_portal_status s)
{
	switch (s) {
	case STORE_PS_INVITED:
		return "badge badge-invited";
	case STORE_PS_ACTIVE:
		return "badge badge-active";
	case STORE_PS_FAMILY:
		return "badge badge-family";
	case STORE_PS_NONE:
		break;
	}
	return "badge badge-none";
}

const char *staff_filter_label(const char *lang, const struct staff_filter *f)
{
	if (f->status_code < 0)
		return "";
	return staff_status_label(lang, (enum store_portal_status)f->status_code);
}

const char *staff_date(const char *iso, struct arena *a)
{
	/* YYYY-MM-DD shown as DD/MM/YYYY (Italian and British usage alike) */
	if (iso == NULL || strlen(iso) != 10 || iso[4] != '-' || iso[7] != '-')
		return iso != NULL ? iso : "";
	return arena_printf(a, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
}

void staff_time(struct view *v, const char *key, int64_t t, struct arena *a)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char *k = arena_printf(a, "%s_iso", key);
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		view_set(v, key, "");
		view_set(v, k, "");
		return;
	}
	view_setf(v, key, "%02d/%02d/%04d %02d:%02d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
	          tm.tm_hour, tm.tm_min);
	view_setf(v, k, "%04d-%02d-%02dT%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	          tm.tm_hour, tm.tm_min);
}

void staff_patient_view(struct http_req *req, struct view *v, const struct store_patient *p)
{
	view_set_int(v, "id", p->id);
	view_setf(v, "href", "/staff/patients/%lld", (long long)p->id);
	view_set(v, "given_name", p->given_name);
	view_set(v, "family_name", p->family_name);
	view_setf(v, "name", "%s %s", p->given_name ? p->given_name : "",
	          p->family_name ? p->family_name : "");
	view_set(v, "birth_date_iso", p->birth_date);
	view_set(v, "birth_date", staff_date(p->birth_date, req->arena));
	view_set(v, "mobile", p->mobile);
	view_set(v, "email", p->email);
	view_set(v, "lang", p->lang);
	view_set(v, "external_ref", p->external_ref);
	view_set(v, "status_label", staff_status_label(req->lang, p->status));
	view_set(v, "status_class", staff_status_class(p->status));
	/* set even when empty: a missing name would be looked up in the parent view */
	view_set(v, "managed_by_name", p->managed_by > 0 ? p->managed_by_name : "");
	if (p->managed_by > 0)
		view_setf(v, "managed_by_href", "/staff/patients/%lld", (long long)p->managed_by);
	else
		view_set(v, "managed_by_href", "");
}

/* --- the list page ------------------------------------------------------ */

static int export_csv(struct http_req *req, struct http_resp *resp, const int64_t *ids, size_t n,
                      const struct staff_filter *f);

typedef int (*bulk_action_fn)(struct http_req *req, struct http_resp *resp, const int64_t *ids,
                              size_t n, const struct staff_filter *f);

/* The Actions menu. ids/n: the selected patients (already confined to the
 * organisation) or NULL/0 with scope "filter": then f says which. */
static const struct {
	const char *name;  /* the action= value */
	const char *label; /* msgid */
	bulk_action_fn fn;
} bulk_actions[] = {
    {"invite", N_("Invite to patient portal"), staff_invite_confirm},
    {"export_csv", N_("Export to CSV"), export_csv},
};

/* Renders the list for filter f after id `after`; notice (translated) on top when set. */
static int render_list(struct http_req *req, struct http_resp *resp, const struct staff_filter *f,
                       int64_t after, const char *notice)
{
	struct arena *a = req->arena;
	int64_t org = req->session->org_id;
	struct store_patient_filter sf = {
	    .q = f->q, .status = f->status_code, .after_id = 0, .limit = PAGE_SIZE};
	int64_t total = 0;
	struct store_patient *rows = NULL;
	int n = 0, more = 0;
	int e = store_patient_count(req->db, org, &sf, &total);
	if (e == 0) {
		sf.after_id = after;
		e = store_patient_list(req->db, org, &sf, &rows, &n, &more, a);
	}
	if (e == STORE_INVALID) /* a search that is not valid UTF-8 matches nobody */
		total = n = more = 0;
	else if (e != 0)
		return -1;

	struct view *v = view_new(a);
	view_set(v, "title", i18n_tr(req->lang, "Patients"));
	view_set(v, "q", f->q);
	view_set(v, "status", f->status);
	view_set_int(v, "total", total);
	view_set_bool(v, "filtered", f->q[0] != '\0' || f->status[0] != '\0');
	if (notice != NULL)
		view_set(v, "notice", notice);
	for (size_t i = 0; i < ARRAY_LEN(status_options); i++) {
		struct view *o = view_append(v, "status_options");
		view_set(o, "value", status_options[i].value);
		view_set(o, "label", i18n_tr(req->lang, status_options[i].label));
		view_set_bool(o, "selected", strcmp(status_options[i].value, f->status) == 0);
	}
	for (int i = 0; i < n; i++)
		staff_patient_view(req, view_append(v, "rows"), &rows[i]);
	view_set_bool(v, "empty", n == 0);
	if (more && n > 0)
		view_set(v, "next_url", staff_list_url(f, rows[n - 1].id, a));
	if (after > 0)
		view_set(v, "first_url", staff_list_url(f, 0, a));
	for (size_t i = 0; i < ARRAY_LEN(bulk_actions); i++) {
		struct view *o = view_append(v, "actions");
		view_set(o, "name", bulk_actions[i].name);
		view_set(o, "label", i18n_tr(req->lang, bulk_actions[i].label));
	}
	return http_render(req, resp, 200, "staff/patients.html", v);
}

int staff_patients(struct http_req *req, struct http_resp *resp)
{
	struct staff_filter f;
	staff_filter_parse(&f, http_query(req, "q"), http_query(req, "status"), req->arena);
	int64_t after = 0;
	const char *s = http_query(req, "after");
	if (s != NULL && parse_i64(s, 1, INT64_MAX, &after) != 0)
		after = 0;
	return render_list(req, resp, &f, after, NULL);
}

/* --- bulk actions -------------------------------------------------------- */

/* Appends one CSV cell (RFC 4180). A cell a spreadsheet would run as a formula
 * (starting with = + - @, a tab or a CR) gets a leading apostrophe; a phone
 * number in E.164 ("+" and digits only) cannot carry a formula and stays as is,
 * so the file can be imported again. */
static void csv_cell(struct buf *b, const char *s)
{
	if (s == NULL)
		s = "";
	int guard = 0;
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
	    s[0] == '\r') {
		guard = 1;
		if (s[0] == '+' && s[1] != '\0' && strspn(s + 1, "0123456789") == strlen(s + 1))
			guard = 0;
	}
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		buf_putc(b, '"');
	if (guard)
		buf_putc(b, '\'');
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '"')
			buf_putc(b, '"');
		buf_putc(b, *p);
	}
	if (quote)
		buf_putc(b, '"');
}

static void csv_row(struct buf *b, const struct store_patient *p)
{
	const char *cells[] = {p->external_ref, p->given_name, p->family_name, p->birth_date,
	                       p->mobile,       p->email,      p->lang};
	for (size_t i = 0; i < ARRAY_LEN(cells); i++) {
		if (i > 0)
			buf_putc(b, ',');
		csv_cell(b, cells[i]);
	}
	buf_puts(b, "\r\n");
}

/* text/csv of the selected patients, or of every patient matching f when ids is NULL. */
static int export_csv(struct http_req *req, struct http_resp *resp, const int64_t *ids, size_t n,
                      const struct staff_filter *f)
{
	int rc = -1;
	int64_t org = req->session->org_id;
	int64_t rows_out = 0;
	struct buf *b = &resp->body;
	buf_puts(b, "external_ref,given_name,family_name,birth_date,mobile,email,lang\r\n");
	if (ids != NULL) {
		for (size_t i = 0; i < n; i++) {
			struct store_patient p;
			int e = store_patient_get(req->db, org, ids[i], &p, req->arena);
			if (e == STORE_NOTFOUND)
				continue;
			if (e != 0)
				goto out;
			csv_row(b, &p);
			rows_out++;
		}
	} else {
		struct store_patient_filter sf = {
		    .q = f->q, .status = f->status_code, .after_id = 0, .limit = EXPORT_BATCH};
		for (;;) {
			struct store_patient *rows = NULL;
			int k = 0, more = 0;
			if (store_patient_list(req->db, org, &sf, &rows, &k, &more, req->arena) !=
			    0)
				goto out;
			for (int i = 0; i < k; i++)
				csv_row(b, &rows[i]);
			rows_out += k;
			if (!more || k == 0)
				break;
			sf.after_id = rows[k - 1].id;
		}
	}
	if (b->overflow)
		goto out;
	resp->status = 200;
	resp->content_type = "text/csv; charset=utf-8";
	http_add_header(req, resp, "Content-Disposition", "attachment; filename=\"patients.csv\"");
	http_add_header(req, resp, "Cache-Control", "no-store");
	/* an export of personal data is worth a line in the audit log */
	store_audit(req->db, org, "staff", req->session->user_id, "patients.export", "patient", 0,
	            req->ip, arena_printf(req->arena, "csv rows=%lld", (long long)rows_out));
	rc = 0;
out:
	if (rc != 0)
		buf_reset(b);
	return rc;
}

static int cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

int staff_form_ids(struct http_req *req, size_t max, int64_t **ids, size_t *n)
{
	size_t posted = 0;
	for (struct http_kv *kv = req->form; kv != NULL; kv = kv->next)
		if (strcmp(kv->name, "ids") == 0)
			posted++;
	*ids = NULL;
	*n = 0;
	if (posted > max)
		return -1;
	int64_t *out = arena_alloc(req->arena, sizeof(*out) * (posted > 0 ? posted : 1));
	size_t k = 0;
	for (struct http_kv *kv = req->form; kv != NULL; kv = kv->next) {
		int64_t id;
		if (strcmp(kv->name, "ids") == 0 && parse_i64(kv->value, 1, INT64_MAX, &id) == 0)
			out[k++] = id;
	}
	/* in id order, each once: a patient ticked twice is acted on once */
	qsort(out, k, sizeof(*out), cmp_id);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || out[u - 1] != out[i])
			out[u++] = out[i];
	*ids = out;
	*n = u;
	return 0;
}

int staff_filter_ids(struct http_req *req, const struct staff_filter *f, int64_t **ids, size_t *n)
{
	int64_t org = req->session->org_id;
	size_t cap = 1024, k = 0;
	int64_t *out = arena_alloc(req->arena, sizeof(*out) * cap);
	*ids = NULL;
	*n = 0;
	if (f->q[0] == '\0' && f->status_code < 0) {
		/* the whole organisation: one index range, no page machinery */
		struct store_stmt *s = NULL;
		int e = store_query(
		    req->db, &s, "SELECT id FROM patients WHERE org_id = ? ORDER BY id", "i", org);
		if (e != 0)
			return e;
		while ((e = store_step(s)) == 1) {
			if (k == cap) {
				int64_t *grown = arena_alloc(req->arena, sizeof(*grown) * cap * 2);
				memcpy(grown, out, sizeof(*out) * k);
				out = grown;
				cap *= 2;
			}
			out[k++] = store_col_int(s, 0);
		}
		store_done(s);
		if (e < 0)
			return e;
		*ids = out;
		*n = k;
		return 0;
	}
	/* the same filter the list shows, page by page: a search means what it means there */
	struct store_patient_filter sf = {
	    .q = f->q, .status = f->status_code, .after_id = 0, .limit = EXPORT_BATCH};
	for (;;) {
		struct arena *page = arena_create(); /* rows of one page; ids go to the request */
		struct store_patient *rows = NULL;
		int got = 0, more = 0;
		int e = store_patient_list(req->db, org, &sf, &rows, &got, &more, page);
		if (e != 0) {
			arena_free(page);
			return e;
		}
		if (k + (size_t)got > cap) {
			while (k + (size_t)got > cap)
				cap *= 2;
			int64_t *grown = arena_alloc(req->arena, sizeof(*grown) * cap);
			memcpy(grown, out, sizeof(*out) * k);
			out = grown;
		}
		for (int i = 0; i < got; i++)
			out[k++] = rows[i].id;
		if (got > 0)
			sf.after_id = rows[got - 1].id;
		arena_free(page);
		if (!more || got == 0)
			break;
	}
	*ids = out;
	*n = k;
	return 0;
}

int staff_patients_action(struct http_req *req, struct http_resp *resp)
{
	struct staff_filter f;
	staff_filter_parse(&f, http_form(req, "q"), http_form(req, "status"), req->arena);
	const char *name = http_form(req, "action");
	int act = -1;
	for (size_t i = 0; name != NULL && i < ARRAY_LEN(bulk_actions); i++)
		if (strcmp(name, bulk_actions[i].name) == 0)
			act = (int)i;
	if (act < 0) {
		http_error(req, resp, 400);
		return 0;
	}
	const char *scope = http_form(req, "scope");
	if (scope != NULL && strcmp(scope, "filter") == 0)
		return bulk_actions[act].fn(req, resp, NULL, 0, &f);

	int64_t *ids = NULL;
	size_t k = 0;
	if (staff_form_ids(req, STAFF_MAX_SELECTED, &ids, &k) != 0) {
		http_error(req, resp, 413);
		return 0;
	}
	if (k == 0)
		return render_list(req, resp, &f, 0,
		                   i18n_tr(req->lang, "Select at least one patient, or choose "
		                                      "every patient matching the filter."));
	return bulk_actions[act].fn(req, resp, ids, k, &f);
}
