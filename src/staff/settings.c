/*
 * staff/settings: the "Settings" page of an organisation's admins (issues 3,
 * 4 and 5): the organisation's name, phone and SMS sender name, and for each
 * portal the organisation owns its address (base URL, whose host picks the
 * portal), primary colour, logo, privacy policy per language, invitation link
 * lifetime, wrong family names before a link locks, and the shortest password
 * a patient may choose.
 *
 * GET /staff/settings shows both forms; POST /staff/settings/organisation and
 * POST /staff/settings/portals/{id} (multipart: the logo) save one of them.
 * Admins only: any other staff user gets 403, and the navigation shows the
 * link to admins only (http/response.c). CSRF is the route's flag. A portal
 * the organisation does not own is a 404, so ids cannot be probed.
 *
 * A save checks every field first and writes nothing when one is wrong: the
 * page comes back (422) with each error next to its field and the values as
 * typed. Otherwise the changes go in one transaction with an audit event that
 * names what changed (settings.organisation, settings.portal), then a redirect
 * to the page with "Saved.". A changed privacy policy text makes a new policy
 * version (store_policy_version_next), so the acceptances that follow record
 * it and signed-in patients are asked again. It must never put a policy text
 * into a log or an audit event, and never store a value it did not check.
 */
#include "app.h"
#include "comms/transport.h"
#include "config.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/password.h"
#include "lib/util.h"
#include "lib/validate.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#define PHONE_MAX     30          /* bytes of an organisation's phone number */
#define BASE_URL_MAX  200         /* bytes of a portal's address */
#define POLICY_MAX    (64 * 1024) /* bytes of one language's privacy policy */
#define MAX_LANGS     8           /* languages of one portal shown here */
#define AUDIT_MAX     1024        /* bytes of an audit event's detail */
#define LANG_CODE_MAX 3

/* The names of the languages a portal may list (others show their code). */
static const struct {
	const char *code, *label;
} lang_names[] = {
    {"it", N_("Italian")},
    {"en", N_("English")},
};

/* One field of a form: the value shown (as typed after an error, else as stored) and its
 * error (translated), or NULL. */
struct field {
	const char *value;
	const char *error;
};

struct org_form {
	struct field name, phone, sender;
};

struct policy_field {
	const char *lang;   /* "it" */
	const char *stored; /* the text in force (normalised), never NULL */
	struct field text;
};

struct portal_form {
	int64_t id;
	struct field base_url, colour, logo, ttl, attempts, pw_min;
	int remove_logo;
	int npolicies;
	struct policy_field policy[MAX_LANGS];
	/* the policy version the form was read at, as posted; NULL: the one in force */
	const char *policy_base;
};

static const char *lang_label(const char *lang, const char *code)
{
	for (size_t i = 0; i < ARRAY_LEN(lang_names); i++)
		if (strcmp(lang_names[i].code, code) == 0)
			return i18n_tr(lang, lang_names[i].label);
	return code;
}

/* The language codes of a portal's "it,en" list: two or three lower-case letters each,
 * without repeats, at most max. */
static int portal_langs(const char *list, const char **out, int max, struct arena *a)
{
	int n = 0;
	const char *p = list != NULL ? list : "";
	while (*p != '\0' && n < max) {
		size_t len = strcspn(p, ",");
		const char *s = p;
		size_t k = len;
		while (k > 0 && *s == ' ')
			s++, k--;
		while (k > 0 && s[k - 1] == ' ')
			k--;
		int ok = k >= 2 && k <= LANG_CODE_MAX;
		for (size_t i = 0; ok && i < k; i++)
			ok = s[i] >= 'a' && s[i] <= 'z';
		for (int i = 0; ok && i < n; i++)
			ok = strlen(out[i]) != k || strncmp(out[i], s, k) != 0;
		if (ok)
			out[n++] = arena_strndup(a, s, k);
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

/* --- checks ----------------------------------------------------------------------------- */

/* A phone number as people write it: digits, spaces, ( ) - . / and a leading +; 6 to 15
 * digits. */
static int phone_ok(const char *s)
{
	int digits = 0;
	if (strlen(s) > PHONE_MAX)
		return 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		char ch = s[i];
		if (ch >= '0' && ch <= '9')
			digits++;
		else if (ch == '+' ? i != 0 : strchr(" ()-./", ch) == NULL)
			return 0;
	}
	return digits >= 6 && digits <= 15;
}

/* The portal address typed: trimmed, without trailing slashes (arena). NULL with *why when
 * it is not an http(s) URL whose host can pick a portal, or carries a query or fragment. */
static const char *base_url_check(const char *in, struct arena *a, const char **why)
{
	char host[256];
	const char *s = staff_trimmed(in, a);
	size_t n = strlen(s);
	*why = N_("Type the portal's address, starting with https:// (or http://), for example "
	          "https://portal.clinic.example.");
	if (n == 0)
		return NULL;
	if (n > BASE_URL_MAX) {
		*why = N_("The address is too long: at most 200 characters.");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>\\`{}|^?#", ch) != NULL)
			return NULL;
	}
	while (n > 0 && s[n - 1] == '/')
		n--;
	char *url = arena_strndup(a, s, n);
	if (store_portal_host_of(url, host, sizeof(host)) != 0 || host[0] == '\0' || host[0] == ':')
		return NULL;
	*why = NULL;
	return url;
}

/* The text as it is kept: line breaks as LF, no white space at the end (arena). Typed and
 * stored texts are compared in this form, so a browser's CRLF is not a change. */
static char *policy_normal(const char *s, struct arena *a)
{
	size_t n = s != NULL ? strlen(s) : 0, k = 0;
	char *out = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			out[k++] = '\n';
			if (s[i + 1] == '\n')
				i++;
		} else {
			out[k++] = s[i];
		}
	}
	while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '\t' || out[k - 1] == '\n'))
		k--;
	out[k] = '\0';
	return out;
}

/* 1 when s is valid UTF-8 without control characters other than line breaks and tabs. */
static int text_ok(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
	while (left > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, left, &cp);
		if (len <= 0)
			return 0;
		if (utf8proc_category(cp) == UTF8PROC_CATEGORY_CC && cp != '\n' && cp != '\t')
			return 0;
		p += len;
		left -= len;
	}
	return 1;
}

/* The posted value of name with its length; NULL when absent or when it holds a NUL. */
static const char *form_text(struct http_req *req, const char *name)
{
	for (const struct http_kv *f = req->form; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return strlen(f->value) == f->value_len ? f->value : NULL;
	return NULL;
}

static const struct http_file *upload(struct http_req *req, const char *field)
{
	for (const struct http_file *f = req->files; f != NULL; f = f->next)
		if (strcmp(f->field, field) == 0 && f->len > 0)
			return f;
	return NULL;
}

/* --- the forms as stored ------------------------------------------------------------------ */

static void org_form_from(struct org_form *f, const struct store_org *o)
{
	memset(f, 0, sizeof(*f));
	f->name.value = o->name;
	f->phone.value = o->phone;
	f->sender.value = o->sender_name;
}

static int portal_form_from(struct http_req *req, struct portal_form *f,
                            const struct store_portal *p)
{
	const char *langs[MAX_LANGS];
	memset(f, 0, sizeof(*f));
	f->id = p->id;
	f->base_url.value = p->base_url;
	f->colour.value = p->primary_colour;
	f->ttl.value = arena_printf(req->arena, "%lld", (long long)p->invite_ttl_days);
	f->attempts.value = arena_printf(req->arena, "%d", p->invite_max_attempts);
	f->pw_min.value = arena_printf(req->arena, "%d", p->password_min_chars);
	f->npolicies = portal_langs(p->languages, langs, MAX_LANGS, req->arena);
	for (int i = 0; i < f->npolicies; i++) {
		char *text = NULL;
		if (store_portal_policy(req->db, p->id, langs[i], &text, req->arena) != 0)
			return -1;
		f->policy[i].lang = langs[i];
		f->policy[i].stored = policy_normal(text, req->arena);
		f->policy[i].text.value = f->policy[i].stored;
	}
	return 0;
}

/* --- the page ----------------------------------------------------------------------------- */

struct page {
	struct http_req *req;
	struct view *root;
	int nerrors;
};

/* Puts field f under key of v: id, value, error, the ids that describe it; and its error
 * into the summary at the top. */
static void field_view(struct page *pg, struct view *v, const char *key, const char *id,
                       const struct field *f)
{
	struct view *c = view_child(v, key);
	view_set(c, "id", id);
	view_set(c, "value", f->value);
	view_set(c, "error", f->error);
	view_setf(c, "describedby", "%s-hint%s%s%s", id, f->error ? " " : "", f->error ? id : "",
	          f->error ? "-error" : "");
	if (f->error != NULL) {
		struct view *e = view_append(pg->root, "errors");
		view_set(e, "id", id);
		view_set(e, "msg", f->error);
		pg->nerrors++;
	}
}

/* The notice the query asks for (?saved=organisation or ?saved=ID, &unchanged=1). */
static const char *notice_for(struct http_req *req, const char *what)
{
	const char *saved = http_query(req, "saved");
	if (saved == NULL || strcmp(saved, what) != 0)
		return "";
	const char *same = http_query(req, "unchanged");
	return i18n_tr(req->lang, same != NULL && strcmp(same, "1") == 0
	                              ? N_("Nothing to save: every value was already so.")
	                              : N_("Saved."));
}

/* "p3-colour": a field's id, unique on the page that shows every portal's form (arena). */
static const char *field_id(struct arena *a, int64_t portal_id, const char *name)
{
	return arena_printf(a, "p%lld-%s", (long long)portal_id, name);
}

static void portal_view(struct page *pg, const struct store_portal *p, const struct portal_form *f)
{
	struct http_req *req = pg->req;
	struct arena *a = req->arena;
	struct view *v = view_append(pg->root, "portals");
	char sid[32];
	snprintf(sid, sizeof(sid), "%lld", (long long)p->id);
	view_set(v, "portal_id", sid);
	view_set(v, "name", p->name);
	view_setf(v, "action", "/staff/settings/portals/%lld", (long long)p->id);
	view_set(v, "host", p->host);
	view_set_bool(v, "has_logo", p->has_logo);
	view_set(v, "policy_version", p->policy_version);
	view_set(v, "policy_base", f->policy_base != NULL ? f->policy_base : p->policy_version);
	view_set(v, "notice", notice_for(req, sid));
	view_set_bool(v, "remove_logo", f->remove_logo);
	field_view(pg, v, "base_url", field_id(a, p->id, "base_url"), &f->base_url);
	field_view(pg, v, "colour", field_id(a, p->id, "colour"), &f->colour);
	field_view(pg, v, "logo", field_id(a, p->id, "logo"), &f->logo);
	field_view(pg, v, "ttl", field_id(a, p->id, "ttl"), &f->ttl);
	field_view(pg, v, "attempts", field_id(a, p->id, "attempts"), &f->attempts);
	field_view(pg, v, "pw_min", field_id(a, p->id, "pw_min"), &f->pw_min);
	for (int i = 0; i < f->npolicies; i++) {
		const struct policy_field *pf = &f->policy[i];
		struct view *item = view_append(v, "policies");
		const char *name = arena_printf(a, "policy_%s", pf->lang);
		view_set(item, "lang", pf->lang);
		view_set(item, "label", lang_label(req->lang, pf->lang));
		view_set(item, "name", name);
		field_view(pg, item, "text", field_id(a, p->id, name), &pf->text);
	}
}

/*
 * The whole page. of / pf: the form just posted, as typed with its errors (NULL: the
 * stored values); pf replaces only the portal of its id.
 */
static int render(struct http_req *req, struct http_resp *resp, int status,
                  const struct org_form *of, const struct portal_form *pf)
{
	struct arena *a = req->arena;
	struct store_org org;
	struct store_portal *portals = NULL;
	int n = 0;
	if (store_org_get(req->db, req->session->org_id, &org, a) != 0 ||
	    store_org_portals(req->db, req->session->org_id, &portals, &n, a) != 0)
		return -1;
	struct page pg = {req, view_new(a), 0};
	view_set(pg.root, "title", i18n_tr(req->lang, "Settings"));

	struct org_form stored;
	if (of == NULL) {
		org_form_from(&stored, &org);
		of = &stored;
	}
	struct view *ov = view_child(pg.root, "org");
	view_set(ov, "notice", notice_for(req, "organisation"));
	field_view(&pg, ov, "name", "org-name", &of->name);
	field_view(&pg, ov, "phone", "org-phone", &of->phone);
	field_view(&pg, ov, "sender", "org-sender", &of->sender);
	view_set(ov, "default_sender", req->app->cfg->sms_sender);

	for (int i = 0; i < n; i++) {
		struct portal_form from;
		const struct portal_form *f = pf;
		if (f == NULL || f->id != portals[i].id) {
			if (portal_form_from(req, &from, &portals[i]) != 0)
				return -1;
			f = &from;
		}
		portal_view(&pg, &portals[i], f);
	}
	view_set_bool(pg.root, "nerrors", pg.nerrors > 0);
	return http_render(req, resp, status, "staff/settings.html", pg.root);
}

int staff_settings(struct http_req *req, struct http_resp *resp)
{
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	return render(req, resp, 200, NULL, NULL);
}

/* --- saving the organisation ---------------------------------------------------------- */

/* Appends ", name" (the first without the comma) to an audit detail. */
static void changed(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void changed(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	buf_puts(b, b->len > 0 ? ", " : "changed: ");
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

static int same(const char *x, const char *y)
{
	return strcmp(x != NULL ? x : "", y != NULL ? y : "") == 0;
}

/* Commits or, on any failure, rolls back; returns rc (0 when committed). */
static int finish(struct store_conn *db, int rc)
{
	if (rc == 0)
		rc = store_commit(db);
	if (rc != 0)
		store_rollback(db);
	return rc;
}

int staff_settings_organisation(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	const char *lang = req->lang;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct store_org org;
	if (store_org_get(req->db, req->session->org_id, &org, a) != 0)
		return -1;
	struct org_form f;
	memset(&f, 0, sizeof(f));
	f.name.value = staff_trimmed(form_text(req, "name"), a);
	f.phone.value = staff_trimmed(form_text(req, "phone"), a);
	f.sender.value = staff_trimmed(form_text(req, "sender_name"), a);
	const char *why = NULL;
	if (f.name.value[0] == '\0')
		f.name.error = i18n_tr(lang, "Type the organisation's name.");
	else if (validate_name(f.name.value, &why) != 0)
		f.name.error = i18n_tr(lang, "The name must have at most 100 characters, with at "
		                             "least one letter or digit.");
	if (f.phone.value[0] != '\0' && !phone_ok(f.phone.value))
		f.phone.error = i18n_tr(lang, "Type the phone number with its digits (6 to 15), "
		                              "spaces and an optional + at the start, for example "
		                              "+39 06 1234 5678.");
	if (f.sender.value[0] != '\0' && !comms_sms_sender_ok(f.sender.value))
		f.sender.error = i18n_tr(
		    lang,
		    "The SMS sender name must be 3 to 11 letters (A to Z, without accents) or "
		    "digits, with at least one letter and no spaces: phone networks refuse "
		    "other names.");
	if (f.name.error != NULL || f.phone.error != NULL || f.sender.error != NULL)
		return render(req, resp, 422, &f, NULL);

	struct buf detail;
	buf_init(&detail, AUDIT_MAX);
	if (!same(f.name.value, org.name))
		changed(&detail, "name");
	if (!same(f.phone.value, org.phone))
		changed(&detail, "phone");
	if (!same(f.sender.value, org.sender_name))
		changed(&detail, "sender_name %s",
		        f.sender.value[0] != '\0' ? f.sender.value : "(default)");
	int rc = 0;
	if (detail.len > 0) {
		rc = store_begin(req->db);
		if (rc == 0) {
			rc = store_org_set_details(req->db, org.id, f.name.value, f.phone.value,
			                           f.sender.value);
			if (rc == 0)
				rc = store_audit(req->db, org.id, "staff", req->session->user_id,
				                 "settings.organisation", "organisation", org.id,
				                 req->ip, detail.data);
			rc = finish(req->db, rc);
		}
	}
	int any = detail.len > 0;
	buf_free(&detail);
	if (rc != 0)
		return -1;
	http_redirect(resp, any ? "/staff/settings?saved=organisation#organisation"
	                        : "/staff/settings?saved=organisation&unchanged=1#organisation");
	return 0;
}

/* --- saving a portal ---------------------------------------------------------------------- */

/* A whole number from min to max typed in f (its value as typed is kept); else the error. */
static int number_field(struct http_req *req, struct field *f, const char *name, int min, int max,
                        const char *msg, int *out)
{
	int64_t v = 0;
	f->value = staff_trimmed(form_text(req, name), req->arena);
	if (parse_i64(f->value, min, max, &v) != 0) {
		f->error = i18n_tr(req->lang, msg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* What a valid portal form changes. */
struct portal_change {
	const char *base_url; /* the new address, or NULL */
	const char *colour;   /* the colour to keep or set (NULL: the default) */
	int colour_changed;
	const struct http_file *logo; /* a new logo, or NULL */
	int remove_logo;
	int ttl, attempts, pw_min, limits_changed;
	int npolicy_changed;
	int policy_conflict; /* set by portal_write: another version was published meanwhile */
};

/* Reads and checks the posted portal form into f (values as typed, errors) and c.
 * 0 when every field is valid. */
static int portal_parse(struct http_req *req, const struct store_portal *p, struct portal_form *f,
                        struct portal_change *c)
{
	struct arena *a = req->arena;
	const char *lang = req->lang;
	const char *why = NULL;
	int bad = 0;
	if (portal_form_from(req, f, p) != 0)
		return -2;
	memset(c, 0, sizeof(*c));

	f->base_url.value = staff_trimmed(form_text(req, "base_url"), a);
	const char *url = base_url_check(f->base_url.value, a, &why);
	if (url == NULL) {
		f->base_url.error = i18n_tr(lang, why);
		bad = 1;
	} else if (!same(url, p->base_url)) {
		c->base_url = url;
	}

	char *colour = arena_strdup(a, staff_trimmed(form_text(req, "colour"), a));
	for (char *q = colour; *q; q++)
		if (*q >= 'A' && *q <= 'F')
			*q = (char)(*q - 'A' + 'a');
	f->colour.value = colour;
	if (colour[0] != '\0' && store_portal_colour_ok(colour) != 0) {
		int shaped = strlen(colour) == 7 && colour[0] == '#' &&
		             strspn(colour + 1, "0123456789abcdef") == 6;
		f->colour.error = i18n_tr(
		    lang, shaped
		              ? N_("This colour is too light: white text on it would be hard "
		                   "to read. Choose a darker one.")
		              : N_("Type the colour as # and six hexadecimal digits, for example "
		                   "#0a4a7a, or leave it empty for the default colour."));
		bad = 1;
	}
	c->colour = colour[0] != '\0' ? colour : NULL;
	c->colour_changed = !same(c->colour, p->primary_colour);

	c->logo = upload(req, "logo");
	const char *rm = form_text(req, "remove_logo");
	f->remove_logo = c->remove_logo = rm != NULL && strcmp(rm, "1") == 0;
	if (c->logo != NULL && c->logo->len > STORE_LOGO_MAX) {
		f->logo.error =
		    i18n_tr(lang, "The logo is too large: it may have at most 256 KiB.");
		bad = 1;
	} else if (c->logo != NULL && store_portal_logo_type(c->logo->data, c->logo->len) == NULL) {
		f->logo.error = i18n_tr(lang, "The logo must be a PNG, JPEG or WebP image.");
		bad = 1;
	}

	bad |= number_field(req, &f->ttl, "invite_ttl_days", STORE_INVITE_TTL_MIN,
	                    STORE_INVITE_TTL_MAX, N_("Type a number of days from 1 to 365."),
	                    &c->ttl) != 0;
	bad |= number_field(req, &f->attempts, "invite_max_attempts", STORE_INVITE_ATTEMPTS_MIN,
	                    STORE_INVITE_ATTEMPTS_MAX, N_("Type a number from 1 to 20."),
	                    &c->attempts) != 0;
	bad |= number_field(req, &f->pw_min, "password_min_chars", PASSWORD_MIN_CHARS_LOW,
	                    PASSWORD_MIN_CHARS_HIGH,
	                    N_("Type a number of characters from 8 to 64."), &c->pw_min) != 0;
	if (!bad)
		c->limits_changed = c->ttl != p->invite_ttl_days ||
		                    c->attempts != p->invite_max_attempts ||
		                    c->pw_min != p->password_min_chars;

	const char *base = staff_trimmed(form_text(req, "policy_base"), a);
	f->policy_base = base != NULL && base[0] != '\0' ? base : NULL;
	for (int i = 0; i < f->npolicies; i++) {
		struct policy_field *pf = &f->policy[i];
		const char *raw = form_text(req, arena_printf(a, "policy_%s", pf->lang));
		if (raw == NULL) { /* a form without this language's field leaves it as it is */
			pf->text.value = pf->stored;
			continue;
		}
		pf->text.value = policy_normal(raw, a);
		if (strlen(pf->text.value) > POLICY_MAX || !text_ok(pf->text.value)) {
			pf->text.error =
			    i18n_tr(lang, "The text is too long (at most 64 KiB) or holds "
			                  "characters that are not allowed.");
			bad = 1;
		} else if (strcmp(pf->text.value, pf->stored) != 0) {
			if (pf->text.value[0] == '\0') {
				pf->text.error =
				    i18n_tr(lang, "The privacy policy cannot be left empty: "
				                  "type its text.");
				bad = 1;
			} else {
				c->npolicy_changed++;
			}
		}
	}
	return bad ? -1 : 0;
}

/* Writes c in one transaction with its audit event; *detail gets what changed. */
static int portal_write(struct http_req *req, const struct store_portal *p,
                        const struct portal_form *f, struct portal_change *c, struct buf *detail)
{
	struct store_conn *db = req->db;
	int rc = store_begin(db);
	if (rc != 0)
		return rc;
	if (c->base_url != NULL || c->colour_changed) {
		rc = store_portal_set_look(db, p->id, c->base_url, c->colour);
		if (rc == 0 && c->base_url != NULL)
			changed(detail, "base_url %s", c->base_url);
		if (rc == 0 && c->colour_changed)
			changed(detail, "colour %s", c->colour != NULL ? c->colour : "(default)");
	}
	if (rc == 0 && c->logo != NULL) {
		rc = store_portal_set_logo(db, p->id, c->logo->data, c->logo->len);
		changed(detail, "logo %s %zu bytes",
		        store_portal_logo_type(c->logo->data, c->logo->len), c->logo->len);
	} else if (rc == 0 && c->remove_logo && p->has_logo) {
		rc = store_portal_set_logo(db, p->id, NULL, 0);
		changed(detail, "logo removed");
	}
	if (rc == 0 && c->limits_changed) {
		rc = store_portal_set_limits(db, p->id, c->ttl, c->attempts, c->pw_min);
		if (c->ttl != p->invite_ttl_days)
			changed(detail, "invite_ttl_days %lld->%d", (long long)p->invite_ttl_days,
			        c->ttl);
		if (c->attempts != p->invite_max_attempts)
			changed(detail, "invite_max_attempts %d->%d", p->invite_max_attempts,
			        c->attempts);
		if (c->pw_min != p->password_min_chars)
			changed(detail, "password_min_chars %d->%d", p->password_min_chars,
			        c->pw_min);
	}
	if (rc == 0 && c->npolicy_changed > 0) {
		char version[80];
		rc = store_policy_version_next(p->policy_version, version, sizeof(version));
		/* From the version the admin read, not merely the one in force now: a text
		 * published by someone else since is never overwritten unseen. */
		if (rc == 0) {
			rc = store_portal_policy_bump(
			    db, p->id, f->policy_base != NULL ? f->policy_base : p->policy_version,
			    version);
			c->policy_conflict = rc == STORE_CONFLICT;
		}
		struct buf langs;
		buf_init(&langs, 64);
		for (int i = 0; rc == 0 && i < f->npolicies; i++) {
			const struct policy_field *pf = &f->policy[i];
			if (strcmp(pf->text.value, pf->stored) == 0)
				continue;
			rc = store_portal_set_policy(db, p->id, NULL, pf->lang, pf->text.value,
			                             now_utc());
			buf_printf(&langs, "%s%s", langs.len > 0 ? "," : "", pf->lang);
		}
		/* the languages and versions only: never the text */
		changed(detail, "policy %s version %s->%s", langs.data != NULL ? langs.data : "",
		        p->policy_version, version);
		buf_free(&langs);
	}
	if (rc == 0 && detail->len > 0)
		rc = store_audit(db, req->session->org_id, "staff", req->session->user_id,
		                 "settings.portal", "portal", p->id, req->ip, detail->data);
	return finish(db, rc);
}

int staff_settings_portal(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct store_portal *portals = NULL, *p = NULL;
	int n = 0;
	int64_t id = http_param_id(req, 0);
	if (store_org_portals(req->db, req->session->org_id, &portals, &n, a) != 0)
		return -1;
	for (int i = 0; i < n && id > 0; i++)
		if (portals[i].id == id)
			p = &portals[i];
	if (p == NULL) { /* not a portal this organisation owns */
		http_error(req, resp, 404);
		return 0;
	}
	struct portal_form f;
	struct portal_change c;
	int rc = portal_parse(req, p, &f, &c);
	if (rc == -2)
		return -1;
	if (rc != 0)
		return render(req, resp, 422, NULL, &f);

	struct buf detail;
	buf_init(&detail, AUDIT_MAX);
	rc = portal_write(req, p, &f, &c, &detail);
	int any = detail.len > 0;
	buf_free(&detail);
	if (c.policy_conflict) {
		/* nothing was saved; the page shows the version in force now and keeps the texts
		 * as typed, so saving again is a deliberate change of that version */
		for (int i = 0; i < f.npolicies; i++)
			if (strcmp(f.policy[i].text.value, f.policy[i].stored) != 0)
				f.policy[i].text.error = i18n_tr(
				    req->lang,
				    "Someone else published a new version of the privacy "
				    "policy while you were editing. Nothing was saved: your "
				    "text is still here. Compare it with the current version "
				    "and save again.");
		f.policy_base = NULL;
		return render(req, resp, 409, NULL, &f);
	}
	if (rc == STORE_CONFLICT && c.base_url != NULL) {
		f.base_url.error = i18n_tr(req->lang, "Another portal already uses this address.");
		return render(req, resp, 422, NULL, &f);
	}
	if (rc != 0)
		return -1;
	if (any)
		log_info("staff: settings of portal %lld saved by staff %lld", (long long)p->id,
		         (long long)req->session->user_id);
	http_redirect(resp,
	              arena_printf(a, "/staff/settings?saved=%lld%s#portal-%lld", (long long)p->id,
	                           any ? "" : "&unchanged=1", (long long)p->id));
	return 0;
}
