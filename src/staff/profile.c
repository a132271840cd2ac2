/*
 * staff/profile: one patient's profile (details, family links, appointments,
 * recalls, portal status) and the add / edit form. The profile's portal part
 * (Invite / Reset password, invitation history) is invite.c's.
 *
 * The form's fields are one static table; the rules are lib/validate.h, the
 * same the CSV import uses. A field error is shown next to its field
 * (aria-invalid, aria-describedby) and in a summary announced with
 * role="alert"; the values typed are kept. Every read and write is confined
 * to the signed-in user's organisation: another organisation's patient is a
 * 404 on every route, never a 403.
 */
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "lib/validate.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <string.h>
#include <time.h>

enum { EXTERNAL_REF_MAX = 64 };

/* --- the form ------------------------------------------------------------ */

static const struct field_def {
	const char *name;  /* form field, validate_error.field */
	const char *label; /* msgid */
	const char *type;  /* input type; NULL: the language select */
	const char *hint;  /* msgid or NULL */
	int required;
} form_fields[] = {
    {"given_name", N_("Given name"), "text", NULL, 1},
    {"family_name", N_("Family name"), "text", NULL, 1},
    {"birth_date", N_("Birth date"), "text", N_("Day/month/year, for example 31/12/1980."), 0},
    {"mobile", N_("Mobile"), "tel",
     N_("For example 333 123 4567; a foreign number with its country code, such as +44."), 0},
    {"email", N_("E-mail"), "email", NULL, 0},
    {"lang", N_("Language for messages"), NULL, NULL, 1},
    {"external_ref", N_("Reference in your own system"), "text", NULL, 0},
};

static const struct {
	const char *value, *label;
} lang_options[] = {
    {"it", N_("Italian")},
    {"en", N_("English")},
};

/* What the form shows: the values and, after a failed submission, errors by field. */
struct form_state {
	const char *value[ARRAY_LEN(form_fields)];
	const char *error[ARRAY_LEN(form_fields)]; /* msgid or NULL */
	int nerrors;
};

static int field_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(form_fields); i++)
		if (strcmp(form_fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void form_from_patient(struct form_state *fs, const struct store_patient *p, struct arena *a)
{
	memset(fs, 0, sizeof(*fs));
	const char *vals[] = {p->given_name, p->family_name, p->birth_date,  p->mobile,
	                      p->email,      p->lang,        p->external_ref};
	_Static_assert(ARRAY_LEN(vals) == ARRAY_LEN(form_fields), "one value per field");
	for (size_t i = 0; i < ARRAY_LEN(form_fields); i++)
		fs->value[i] = vals[i] != NULL ? vals[i] : "";
	fs->value[field_index("birth_date")] = staff_date(p->birth_date, a);
}

static void form_from_request(struct form_state *fs, const struct http_req *req)
{
	memset(fs, 0, sizeof(*fs));
	for (size_t i = 0; i < ARRAY_LEN(form_fields); i++) {
		const char *s = http_form(req, form_fields[i].name);
		fs->value[i] = s != NULL ? s : "";
	}
}

static void form_error(struct form_state *fs, const char *field, const char *msg)
{
	int i = field_index(field);
	if (i < 0 || fs->error[i] != NULL)
		return;
	fs->error[i] = msg;
	fs->nerrors++;
}

/* The clinic's own reference: optional, trimmed, printable ASCII, at most 64 bytes. */
static const char *check_external_ref(const char *s, struct arena *a, const char **why)
{
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	*why = NULL;
	if (n == 0)
		return NULL;
	if (n > EXTERNAL_REF_MAX) {
		*why = N_("The reference is too long (at most 64 characters).");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
			*why = N_("The reference may hold only letters, digits and punctuation.");
			return NULL;
		}
	}
	return arena_strndup(a, s, n);
}

/* A birth date typed the way clinics write it, D/M/YYYY (also with "." or "-"), as
 * YYYY-MM-DD in the arena; anything else is returned as it is, for the validator. */
static const char *iso_date(const char *s, struct arena *a)
{
	unsigned d = 0, m = 0, y = 0;
	const char *p = s;
	while (*p == ' ')
		p++;
	int nd = 0, nm = 0, ny = 0;
	for (; *p >= '0' && *p <= '9' && nd < 2; p++, nd++)
		d = d * 10 + (unsigned)(*p - '0');
	if (nd == 0 || (*p != '/' && *p != '.' && *p != '-'))
		return s;
	char sep = *p++;
	for (; *p >= '0' && *p <= '9' && nm < 2; p++, nm++)
		m = m * 10 + (unsigned)(*p - '0');
	if (nm == 0 || *p++ != sep)
		return s;
	for (; *p >= '0' && *p <= '9' && ny < 4; p++, ny++)
		y = y * 10 + (unsigned)(*p - '0');
	while (*p == ' ')
		p++;
	if (ny != 4 || *p != '\0')
		return s;
	return arena_printf(a, "%04u-%02u-%02u", y, m, d);
}

/* Validates the posted form into p (normalised values in the arena). 0 when valid;
 * otherwise -1 with fs holding the errors. */
static int form_validate(struct http_req *req, struct form_state *fs, struct store_patient *p)
{
	struct validate_patient vp = {
	    .given_name = fs->value[field_index("given_name")],
	    .family_name = fs->value[field_index("family_name")],
	    .birth_date = iso_date(fs->value[field_index("birth_date")], req->arena),
	    .mobile = fs->value[field_index("mobile")],
	    .email = fs->value[field_index("email")],
	    .lang = fs->value[field_index("lang")],
	};
	struct validate_result res;
	if (validate_patient(&vp, now_utc(), req->arena, &res) != 0)
		for (int i = 0; i < res.n; i++) {
			const char *msg = res.err[i].msg;
			/* the form takes 31/12/1980 too: do not ask for YYYY-MM-DD only */
			if (strcmp(res.err[i].field, "birth_date") == 0 &&
			    strcmp(msg, "Birth date must be a real date written YYYY-MM-DD.") == 0)
				msg = N_("Birth date must be a real date, for example 31/12/1980.");
			form_error(fs, res.err[i].field, msg);
		}
	const char *why;
	const char *ref =
	    check_external_ref(fs->value[field_index("external_ref")], req->arena, &why);
	if (why != NULL)
		form_error(fs, "external_ref", why);
	if (fs->nerrors > 0)
		return -1;
	p->given_name = (char *)vp.given_name;
	p->family_name = (char *)vp.family_name;
	p->birth_date = (char *)vp.birth_date;
	p->mobile = (char *)vp.mobile;
	p->email = (char *)vp.email;
	p->lang = (char *)vp.lang;
	p->external_ref = (char *)ref;
	return 0;
}

/* Renders the add form (p == NULL) or the edit form of p. */
static int render_form(struct http_req *req, struct http_resp *resp, const struct store_patient *p,
                       const struct form_state *fs)
{
	struct view *v = view_new(req->arena);
	const char *lang = req->lang;
	if (p != NULL) {
		staff_patient_view(req, view_child(v, "patient"), p);
		view_set(v, "title", i18n_tr(lang, "Edit patient"));
		view_setf(v, "action", "/staff/patients/%lld/edit", (long long)p->id);
		view_setf(v, "cancel", "/staff/patients/%lld", (long long)p->id);
		view_set_bool(v, "editing", 1);
	} else {
		view_set(v, "title", i18n_tr(lang, "Add patient"));
		view_set(v, "action", "/staff/patients/new");
		view_set(v, "cancel", "/staff/patients");
	}
	view_set_int(v, "nerrors", fs->nerrors);
	for (size_t i = 0; i < ARRAY_LEN(form_fields); i++) {
		const struct field_def *d = &form_fields[i];
		struct view *f = view_append(v, "fields");
		view_set(f, "name", d->name);
		view_set(f, "label", i18n_tr(lang, d->label));
		view_set(f, "value", fs->value[i]);
		view_set_bool(f, "required", d->required);
		view_set_bool(f, "optional", !d->required);
		view_set_bool(f, "is_select", d->type == NULL);
		view_set(f, "type", d->type != NULL ? d->type : "");
		view_set(f, "hint", d->hint != NULL ? i18n_tr(lang, d->hint) : "");
		view_set(f, "error", fs->error[i] != NULL ? i18n_tr(lang, fs->error[i]) : "");
		/* the ids a screen reader reads after the label: hint, then error */
		if (d->hint != NULL && fs->error[i] != NULL)
			view_setf(f, "describedby", "%s-hint %s-error", d->name, d->name);
		else if (d->hint != NULL)
			view_setf(f, "describedby", "%s-hint", d->name);
		else if (fs->error[i] != NULL)
			view_setf(f, "describedby", "%s-error", d->name);
		else
			view_set(f, "describedby", "");
		if (d->type == NULL) {
			for (size_t j = 0; j < ARRAY_LEN(lang_options); j++) {
				struct view *o = view_append(f, "options");
				view_set(o, "value", lang_options[j].value);
				view_set(o, "label", i18n_tr(lang, lang_options[j].label));
				view_set_bool(o, "selected",
				              strcmp(fs->value[i], lang_options[j].value) == 0);
			}
		}
		if (fs->error[i] != NULL) {
			struct view *e = view_append(v, "errors");
			view_set(e, "name", d->name);
			view_set(e, "error", i18n_tr(lang, fs->error[i]));
		}
	}
	return http_render(req, resp, 200, "staff/patient_form.html", v);
}

/* --- show ------------------------------------------------------------------ */

/* Loads the patient of the path's {id} in the user's organisation.
 * 0; 1 when resp already holds the 404; negative on a store failure. */
static int load_patient(struct http_req *req, struct http_resp *resp, struct store_patient *p)
{
	int64_t id = http_param_id(req, 0);
	int e = id > 0 ? store_patient_get(req->db, req->session->org_id, id, p, req->arena)
	               : STORE_NOTFOUND;
	if (e == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 1;
	}
	return e;
}

static const struct {
	const char *value, *label;
} labels[] = {
    {"in_person", N_("In person")},
    {"video", N_("Video")},
    {"none", N_("No payment")},
    {"optional", N_("Payment optional")},
    {"mandatory", N_("Payment required")},
    {"offline", N_("By the clinic")},
    {"online", N_("Online")},
    {"import", N_("Imported")},
    {"sms", N_("SMS")},
    {"email", N_("E-mail")},
    {"both", N_("SMS and e-mail")},
};

/* The translated label of a stored enumeration value; the value itself when unknown. */
static const char *label_of(const char *lang, const char *value)
{
	for (size_t i = 0; value != NULL && i < ARRAY_LEN(labels); i++)
		if (strcmp(labels[i].value, value) == 0)
			return i18n_tr(lang, labels[i].label);
	return value != NULL ? value : "";
}

int staff_patient_show(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	int64_t org = req->session->org_id;
	struct store_patient p;
	int rc = load_patient(req, resp, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;

	struct store_patient *family = NULL;
	struct store_appointment_row *appts = NULL;
	struct store_recall_row *recalls = NULL;
	int nfamily = 0, nappts = 0, nrecalls = 0;
	if (store_patient_family(req->db, org, p.id, &family, &nfamily, a) != 0 ||
	    store_patient_appointments(req->db, org, p.id, &appts, &nappts, a) != 0 ||
	    store_patient_recalls(req->db, org, p.id, &recalls, &nrecalls, a) != 0)
		return -1;

	struct view *v = view_new(a);
	view_setf(v, "title", "%s %s", p.given_name, p.family_name);
	struct view *pv = view_child(v, "patient");
	staff_patient_view(req, pv, &p);
	view_setf(pv, "edit_href", "/staff/patients/%lld/edit", (long long)p.id);
	view_setf(pv, "new_appointment_href", "/staff/appointments/new?patient=%lld",
	          (long long)p.id);
	view_set(pv, "lang_name",
	         p.lang != NULL && strcmp(p.lang, "en") == 0 ? i18n_tr(req->lang, "English")
	                                                     : i18n_tr(req->lang, "Italian"));
	view_set(v, "manager_name", p.managed_by > 0 ? p.managed_by_name : "");
	view_setf(v, "manager_href", "/staff/patients/%lld", (long long)p.managed_by);
	view_set_bool(v, "has_family", nfamily > 0);
	for (int i = 0; i < nfamily; i++)
		staff_patient_view(req, view_append(v, "family"), &family[i]);
	view_set_bool(v, "has_appointments", nappts > 0);
	for (int i = 0; i < nappts; i++) {
		struct view *r = view_append(v, "appointments");
		staff_time(r, "start", appts[i].start_at, a);
		view_set(r, "service", appts[i].service);
		view_set(r, "org_name", appts[i].org_name);
		view_set(r, "kind", label_of(req->lang, appts[i].kind));
		view_set(r, "booked_via", label_of(req->lang, appts[i].booked_via));
		view_set(r, "payment", label_of(req->lang, appts[i].payment));
		view_set_bool(r, "needs_payment",
		              appts[i].payment != NULL && strcmp(appts[i].payment, "none") != 0);
		view_set_bool(r, "paid", appts[i].paid);
	}
	view_set_bool(v, "has_recalls", nrecalls > 0);
	for (int i = 0; i < nrecalls; i++) {
		struct view *r = view_append(v, "recalls");
		view_set(r, "service", recalls[i].service);
		view_set(r, "due_date_iso", recalls[i].due_date);
		view_set(r, "due_date", staff_date(recalls[i].due_date, a));
		view_set(r, "channel", label_of(req->lang, recalls[i].channel));
		if (recalls[i].sent_at > 0)
			staff_time(r, "sent", recalls[i].sent_at, a);
	}
	if (staff_invite_profile(req, v, &p) != 0 || staff_recall_profile(req, v, &p) != 0)
		return -1;
	return http_render(req, resp, 200, "staff/patient.html", v);
}

/* --- add ------------------------------------------------------------------- */

int staff_patient_new(struct http_req *req, struct http_resp *resp)
{
	struct form_state fs;
	memset(&fs, 0, sizeof(fs));
	for (size_t i = 0; i < ARRAY_LEN(form_fields); i++)
		fs.value[i] = "";
	fs.value[field_index("lang")] = strcmp(req->lang, "en") == 0 ? "en" : "it";
	return render_form(req, resp, NULL, &fs);
}

int staff_patient_create(struct http_req *req, struct http_resp *resp)
{
	struct form_state fs;
	form_from_request(&fs, req);
	struct store_patient p;
	memset(&p, 0, sizeof(p));
	p.org_id = req->session->org_id;
	if (form_validate(req, &fs, &p) != 0)
		return render_form(req, resp, NULL, &fs);
	int e = store_patient_add(req->db, &p);
	if (e == STORE_CONFLICT) {
		form_error(&fs, "external_ref", N_("Another patient already has this reference."));
		return render_form(req, resp, NULL, &fs);
	}
	if (e != 0)
		return -1;
	store_audit(req->db, p.org_id, "staff", req->session->user_id, "patient.create", "patient",
	            p.id, req->ip, NULL);
	http_redirect(resp, arena_printf(req->arena, "/staff/patients/%lld", (long long)p.id));
	return 0;
}

/* --- edit ------------------------------------------------------------------ */

int staff_patient_edit(struct http_req *req, struct http_resp *resp)
{
	struct store_patient p;
	int rc = load_patient(req, resp, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	struct form_state fs;
	form_from_patient(&fs, &p, req->arena);
	return render_form(req, resp, &p, &fs);
}

int staff_patient_update(struct http_req *req, struct http_resp *resp)
{
	struct store_patient p;
	int rc = load_patient(req, resp, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	struct form_state fs;
	form_from_request(&fs, req);
	struct store_patient upd = p; /* keeps id, org, family link, account state */
	if (form_validate(req, &fs, &upd) != 0)
		return render_form(req, resp, &p, &fs);
	int e = store_patient_update(req->db, &upd);
	if (e == STORE_CONFLICT) {
		form_error(&fs, "external_ref", N_("Another patient already has this reference."));
		return render_form(req, resp, &p, &fs);
	}
	if (e == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e != 0)
		return -1;
	store_audit(req->db, p.org_id, "staff", req->session->user_id, "patient.update", "patient",
	            p.id, req->ip, NULL);
	http_redirect(resp, arena_printf(req->arena, "/staff/patients/%lld", (long long)p.id));
	return 0;
}
