/*
 * staff/services: services and opening hours, per organisation and member.
 *
 *   /staff/services                              the list (every place the user manages)
 *   /staff/services/new, /staff/services/{id}/edit   add / edit (name, duration, kind,
 *                                                payment, price, online booking, active)
 *   /staff/services/{id}                         details, and the hours of each place
 *   /staff/services/{id}/places/{place}          the weekly hours of one place, and
 *                                                "generate slots" for the next N weeks
 *
 * Everything goes through the booking core (booking/booking.h), which confines
 * every row to the organisations the signed-in staff user manages (their own
 * and, for a customer, its members): another organisation's service or place
 * is a 404 on every route, never a 403. Reading is for every staff user;
 * changing (add, edit, hours, generate) is for admins only (403 otherwise).
 * It must never put a value into HTML or a URL without its encoder: the
 * templates escape, URLs here hold ids only.
 */
#include "booking/booking.h"
#include "booking/tz.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <stdint.h>
#include <string.h>

enum {
	NAME_MAX_BYTES = 200,
	EXTRA_HOURS_ROWS = 3, /* empty rows offered below the existing hours */
	WEEKS_DEFAULT = 4,
	WEEKS_MAX = 52,
};

static const char *const weekday_names[7] = {
    N_("Monday"), N_("Tuesday"),  N_("Wednesday"), N_("Thursday"),
    N_("Friday"), N_("Saturday"), N_("Sunday"),
};

static const struct {
	const char *value, *label; /* value: the booking core's text; label: msgid */
} kind_options[] =
    {
        {"in_person", N_("In person")},
        {"video", N_("Video")},
},
  payment_options[] = {
      {"none", N_("No payment")},
      {"optional", N_("Payment optional")},
      {"mandatory", N_("Payment required")},
};

/* --- helpers ------------------------------------------------------------- */

static struct booking_actor actor_of(const struct http_req *req)
{
	struct booking_actor who = {.staff_org = req->session->org_id,
	                            .staff_id = req->session->user_id};
	return who;
}

/* 1 when the signed-in staff user is an admin of their organisation. */
/* A place: an organisation the user manages. */
struct place {
	int64_t id, parent_id;
	char *name;
};

/*
 * The places the user manages where service svc may be offered (svc NULL: every
 * place the user manages): the service's own organisation and, when it is a
 * customer, its members. Own organisation first, then by name. *rows in the arena.
 */
static int places_load(struct http_req *req, const struct booking_service *svc, struct place **rows,
                       int *n)
{
	int64_t org = req->session->org_id;
	int64_t of = svc != NULL ? svc->org_id : org;
	struct store_stmt *s = NULL;
	int cap = 16, rc;
	*rows = NULL;
	*n = 0;
	rc = store_query(req->db, &s,
	                 "SELECT o.id, o.parent_id, o.name FROM organisations o "
	                 "WHERE (o.id = ? OR o.parent_id = ?) AND (o.id = ? OR o.parent_id = ?) "
	                 "ORDER BY CASE WHEN o.id = ? THEN 0 ELSE 1 END, o.name, o.id",
	                 "iiiii", of, of, org, org, org);
	if (rc != 0)
		return rc;
	struct place *v = arena_alloc(req->arena, sizeof(*v) * (size_t)cap);
	while ((rc = store_step(s)) == 1) {
		if (*n == cap) {
			struct place *bigger =
			    arena_alloc(req->arena, sizeof(*v) * (size_t)cap * 2);
			memcpy(bigger, v, sizeof(*v) * (size_t)cap);
			v = bigger;
			cap *= 2;
		}
		struct place *p = &v[(*n)++];
		p->id = store_col_int(s, 0);
		p->parent_id = store_col_is_null(s, 1) ? 0 : store_col_int(s, 1);
		p->name = store_col_dup(s, 2, req->arena);
	}
	store_done(s);
	if (rc < 0)
		return rc;
	*rows = v;
	return 0;
}

static const struct place *place_find(const struct place *rows, int n, int64_t id)
{
	for (int i = 0; i < n; i++)
		if (rows[i].id == id)
			return &rows[i];
	return NULL;
}

/* Trims spaces; a copy in the arena. */
static int parse_hhmm(const char *s, int allow24, int *min)
{
	int h = 0, m = 0, nh = 0, nm = 0;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9' && nh < 2; s++, nh++)
		h = h * 10 + (*s - '0');
	if (nh == 0 || (*s != ':' && *s != '.'))
		return -1;
	s++;
	for (; *s >= '0' && *s <= '9' && nm < 2; s++, nm++)
		m = m * 10 + (*s - '0');
	while (*s == ' ')
		s++;
	if (nm != 2 || *s != '\0' || m > 59 || h > 24 || (h == 24 && (m != 0 || !allow24)))
		return -1;
	*min = h * 60 + m;
	return 0;
}

static const char *hhmm(int min, struct arena *a)
{
	return arena_printf(a, "%02d:%02d", min / 60, min % 60);
}

static const char *label_in(const char *lang, const char *value, int payment)
{
	if (payment) {
		for (size_t i = 0; i < ARRAY_LEN(payment_options); i++)
			if (strcmp(payment_options[i].value, value) == 0)
				return i18n_tr(lang, payment_options[i].label);
	} else {
		for (size_t i = 0; i < ARRAY_LEN(kind_options); i++)
			if (strcmp(kind_options[i].value, value) == 0)
				return i18n_tr(lang, kind_options[i].label);
	}
	return value;
}

/* Sets a service's readable fields in v. */
static void service_view(struct http_req *req, struct view *v, const struct booking_service *s)
{
	const char *lang = req->lang;
	view_set_int(v, "id", s->id);
	view_setf(v, "href", "/staff/services/%lld", (long long)s->id);
	view_set(v, "name", s->name);
	view_set(v, "org_name", s->org_name != NULL ? s->org_name : "");
	view_set_int(v, "duration", s->duration_min);
	view_set(v, "kind", label_in(lang, kind_options[s->kind].value, 0));
	view_set(v, "payment", label_in(lang, payment_options[s->payment].value, 1));
	view_set(v, "price",
	         s->price_cents > 0 ? staff_money_text(lang, s->price_cents, req->arena) : "");
	view_set(v, "online",
	         i18n_tr(lang, s->online_booking ? N_("Bookable online") : N_("Staff only")));
	view_set_bool(v, "active", s->active);
}

/* Loads the service of path parameter i, confined to the user's places.
 * 0; 1 when resp already holds the 404; negative on failure. */
static int load_service(struct http_req *req, struct http_resp *resp, int i,
                        struct booking_service *svc)
{
	struct booking_actor who = actor_of(req);
	int64_t id = http_param_id(req, i);
	int e = id > 0 ? booking_service_get(req->db, &who, id, svc, req->arena) : BOOKING_NOTFOUND;
	if (e == BOOKING_NOTFOUND) {
		http_error(req, resp, 404);
		return 1;
	}
	return e;
}

/* --- the list --------------------------------------------------------------- */

int staff_services(struct http_req *req, struct http_resp *resp)
{
	struct booking_actor who = actor_of(req);
	struct booking_service *rows = NULL;
	int n = 0;
	if (booking_service_list(req->db, &who, 0, &rows, &n, req->arena) != 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Services and opening hours"));
	view_set_bool(v, "is_admin", staff_is_admin(req));
	view_set_bool(v, "empty", n == 0);
	for (int i = 0; i < n; i++)
		service_view(req, view_append(v, "rows"), &rows[i]);
	return http_render(req, resp, 200, "staff/services.html", v);
}

/* --- add and edit ------------------------------------------------------------ */

enum { F_ORG, F_NAME, F_DURATION, F_KIND, F_PAYMENT, F_PRICE, F_ONLINE, F_ACTIVE, F_COUNT };

static const char *const field_names[F_COUNT] = {
    "org", "name", "duration", "kind", "payment", "price", "online_booking", "active",
};

struct service_form {
	const char *value[F_COUNT];
	const char *error[F_COUNT]; /* msgid or NULL */
	int nerrors;
};

static void form_error(struct service_form *f, int field, const char *msg)
{
	if (f->error[field] != NULL)
		return;
	f->error[field] = msg;
	f->nerrors++;
}

static void form_from_service(struct http_req *req, struct service_form *f,
                              const struct booking_service *s)
{
	memset(f, 0, sizeof(*f));
	f->value[F_ORG] = arena_printf(req->arena, "%lld", (long long)s->org_id);
	f->value[F_NAME] = s->name != NULL ? s->name : "";
	f->value[F_DURATION] = arena_printf(req->arena, "%d", s->duration_min);
	f->value[F_KIND] = kind_options[s->kind].value;
	f->value[F_PAYMENT] = payment_options[s->payment].value;
	f->value[F_PRICE] =
	    s->price_cents > 0 ? staff_money_input(req->lang, s->price_cents, req->arena) : "";
	f->value[F_ONLINE] = s->online_booking ? "1" : "";
	f->value[F_ACTIVE] = s->active ? "1" : "";
}

static void form_from_request(struct http_req *req, struct service_form *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < F_COUNT; i++)
		f->value[i] = staff_trimmed(http_form(req, field_names[i]), req->arena);
}

static int option_index(const char *value, int payment)
{
	if (payment) {
		for (size_t i = 0; i < ARRAY_LEN(payment_options); i++)
			if (strcmp(payment_options[i].value, value) == 0)
				return (int)i;
	} else {
		for (size_t i = 0; i < ARRAY_LEN(kind_options); i++)
			if (strcmp(kind_options[i].value, value) == 0)
				return (int)i;
	}
	return -1;
}

/* Checks the posted values into svc (not its id or organisation). 0 when valid. */
static int form_validate(struct service_form *f, struct booking_service *svc)
{
	int64_t n;
	const char *name = f->value[F_NAME];
	if (name[0] == '\0')
		form_error(f, F_NAME, N_("Enter the name of the service."));
	else if (strlen(name) > NAME_MAX_BYTES)
		form_error(f, F_NAME, N_("The name is too long (at most 200 characters)."));
	if (parse_i64(f->value[F_DURATION], 1, 1440, &n) != 0)
		form_error(f, F_DURATION,
		           N_("Enter the duration in minutes, a whole number from 1 to 1440."));
	else
		svc->duration_min = (int)n;
	int kind = option_index(f->value[F_KIND], 0);
	if (kind < 0)
		form_error(f, F_KIND, N_("Choose in person or video."));
	int pay = option_index(f->value[F_PAYMENT], 1);
	if (pay < 0)
		form_error(f, F_PAYMENT, N_("Choose how the patient pays."));
	int64_t cents = 0;
	if (f->value[F_PRICE][0] != '\0' && staff_parse_money(f->value[F_PRICE], &cents) != 0)
		form_error(f, F_PRICE, N_("Enter the price in euros, for example 35,00."));
	else if (pay > 0 && cents == 0)
		form_error(f, F_PRICE, N_("Enter the price: this service asks for a payment."));
	if (f->nerrors > 0)
		return -1;
	svc->name = (char *)name;
	svc->kind = (enum booking_kind)kind;
	svc->payment = (enum booking_payment)pay;
	svc->price_cents = pay > 0 ? cents : 0;
	svc->online_booking = f->value[F_ONLINE][0] != '\0';
	svc->active = f->value[F_ACTIVE][0] != '\0';
	return 0;
}

static void field_view(struct http_req *req, struct view *v, const struct service_form *f, int i,
                       const char *label, const char *hint)
{
	struct view *x = view_child(v, field_names[i]);
	view_set(x, "name", field_names[i]);
	view_set(x, "label", i18n_tr(req->lang, label));
	view_set(x, "value", f->value[i]);
	view_set(x, "hint", hint != NULL ? i18n_tr(req->lang, hint) : "");
	const char *err = f->error[i] != NULL ? i18n_tr(req->lang, f->error[i]) : "";
	view_set(x, "error", err);
	if (hint != NULL && f->error[i] != NULL)
		view_setf(x, "describedby", "%s-hint %s-error", field_names[i], field_names[i]);
	else if (hint != NULL)
		view_setf(x, "describedby", "%s-hint", field_names[i]);
	else if (f->error[i] != NULL)
		view_setf(x, "describedby", "%s-error", field_names[i]);
	else
		view_set(x, "describedby", "");
	if (f->error[i] != NULL) {
		struct view *e = view_append(v, "errors");
		view_set(e, "name", field_names[i]);
		view_set(e, "error", err);
	}
}

/* The add form (svc NULL) or the edit form of svc. */
static int render_form(struct http_req *req, struct http_resp *resp,
                       const struct booking_service *svc, const struct service_form *f, int status)
{
	const char *lang = req->lang;
	struct view *v = view_new(req->arena);
	if (svc != NULL) {
		service_view(req, view_child(v, "service"), svc);
		view_set(v, "title", i18n_tr(lang, "Edit service"));
		view_setf(v, "action", "/staff/services/%lld/edit", (long long)svc->id);
		view_setf(v, "cancel", "/staff/services/%lld", (long long)svc->id);
		view_set_bool(v, "editing", 1);
	} else {
		view_set(v, "title", i18n_tr(lang, "Add service"));
		view_set(v, "action", "/staff/services/new");
		view_set(v, "cancel", "/staff/services");
		struct place *places = NULL;
		int np = 0;
		if (places_load(req, NULL, &places, &np) != 0)
			return -1;
		view_set_bool(v, "choose_org", np > 1);
		for (int i = 0; i < np; i++) {
			struct view *o = view_append(v, "orgs");
			view_set_int(o, "value", places[i].id);
			view_set(o, "label", places[i].name);
			view_set_bool(
			    o, "selected",
			    strcmp(f->value[F_ORG],
			           arena_printf(req->arena, "%lld", (long long)places[i].id)) == 0);
		}
		if (np == 1)
			view_set_int(v, "only_org", places[0].id);
	}
	view_set_int(v, "nerrors", f->nerrors);
	field_view(req, v, f, F_ORG, N_("Organisation"), NULL);
	field_view(req, v, f, F_NAME, N_("Name of the service"), NULL);
	field_view(req, v, f, F_DURATION, N_("Duration in minutes"), NULL);
	field_view(req, v, f, F_KIND, N_("Kind"), NULL);
	field_view(req, v, f, F_PAYMENT, N_("Payment"), NULL);
	field_view(req, v, f, F_PRICE, N_("Price in euros"),
	           N_("For example 35,00. Needed when the service asks for a payment."));
	for (size_t i = 0; i < ARRAY_LEN(kind_options); i++) {
		struct view *o = view_append(v, "kinds");
		view_set(o, "value", kind_options[i].value);
		view_set(o, "label", i18n_tr(lang, kind_options[i].label));
		view_set_bool(o, "checked", strcmp(f->value[F_KIND], kind_options[i].value) == 0);
	}
	for (size_t i = 0; i < ARRAY_LEN(payment_options); i++) {
		struct view *o = view_append(v, "payments");
		view_set(o, "value", payment_options[i].value);
		view_set(o, "label", i18n_tr(lang, payment_options[i].label));
		view_set_bool(o, "checked",
		              strcmp(f->value[F_PAYMENT], payment_options[i].value) == 0);
	}
	view_set_bool(v, "online_checked", f->value[F_ONLINE][0] != '\0');
	view_set_bool(v, "active_checked", f->value[F_ACTIVE][0] != '\0');
	return http_render(req, resp, status, "staff/services_form.html", v);
}

int staff_service_new(struct http_req *req, struct http_resp *resp)
{
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct service_form f;
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < F_COUNT; i++)
		f.value[i] = "";
	f.value[F_ORG] = arena_printf(req->arena, "%lld", (long long)req->session->org_id);
	f.value[F_DURATION] = "30";
	f.value[F_KIND] = "in_person";
	f.value[F_PAYMENT] = "none";
	f.value[F_ONLINE] = "1";
	f.value[F_ACTIVE] = "1";
	return render_form(req, resp, NULL, &f, 200);
}

int staff_service_create(struct http_req *req, struct http_resp *resp)
{
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct booking_actor who = actor_of(req);
	struct service_form f;
	form_from_request(req, &f);
	struct booking_service svc;
	memset(&svc, 0, sizeof(svc));
	int64_t org = 0;
	if (f.value[F_ORG][0] == '\0')
		org = req->session->org_id;
	else if (parse_i64(f.value[F_ORG], 1, INT64_MAX, &org) != 0)
		form_error(&f, F_ORG, N_("Choose the organisation."));
	if (form_validate(&f, &svc) != 0)
		return render_form(req, resp, NULL, &f, 200);
	svc.org_id = org;
	int e = booking_service_create(req->db, &who, &svc);
	if (e == BOOKING_NOTFOUND) { /* a place of another organisation */
		http_error(req, resp, 404);
		return 0;
	}
	if (e == BOOKING_INVALID) {
		form_error(&f, F_NAME, N_("These details are not valid for a service."));
		return render_form(req, resp, NULL, &f, 200);
	}
	if (e != 0)
		return -1;
	store_audit(req->db, req->session->org_id, "staff", req->session->user_id, "service.create",
	            "service", svc.id, req->ip, NULL);
	http_redirect(resp,
	              arena_printf(req->arena, "/staff/services/%lld?saved=1", (long long)svc.id));
	return 0;
}

int staff_service_edit(struct http_req *req, struct http_resp *resp)
{
	struct booking_service svc;
	int rc = load_service(req, resp, 0, &svc);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct service_form f;
	form_from_service(req, &f, &svc);
	return render_form(req, resp, &svc, &f, 200);
}

int staff_service_update(struct http_req *req, struct http_resp *resp)
{
	struct booking_service svc;
	int rc = load_service(req, resp, 0, &svc);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct booking_actor who = actor_of(req);
	struct service_form f;
	form_from_request(req, &f);
	struct booking_service upd = svc; /* keeps id and organisation */
	if (form_validate(&f, &upd) != 0)
		return render_form(req, resp, &svc, &f, 200);
	int e = booking_service_update(req->db, &who, &upd);
	if (e == BOOKING_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e == BOOKING_INVALID) {
		form_error(&f, F_NAME, N_("These details are not valid for a service."));
		return render_form(req, resp, &svc, &f, 200);
	}
	if (e != 0)
		return -1;
	store_audit(req->db, req->session->org_id, "staff", req->session->user_id, "service.update",
	            "service", svc.id, req->ip, NULL);
	http_redirect(resp,
	              arena_printf(req->arena, "/staff/services/%lld?saved=1", (long long)svc.id));
	return 0;
}

/* --- one service ---------------------------------------------------------------- */

/* "Monday 09:00–12:00, every 20 minutes, 2 patients" lines of hours into list key of v. */
static void hours_view(struct http_req *req, struct view *v, const char *key,
                       const struct booking_hours *h, int n)
{
	for (int i = 0; i < n; i++) {
		struct view *r = view_append(v, key);
		view_set(r, "weekday", i18n_tr(req->lang, weekday_names[h[i].weekday]));
		view_set(r, "from", hhmm(h[i].start_min, req->arena));
		view_set(r, "to", hhmm(h[i].end_min, req->arena));
		view_set_int(r, "slot", h[i].slot_min);
		view_set_int(r, "capacity", h[i].capacity);
	}
}

int staff_service_show(struct http_req *req, struct http_resp *resp)
{
	struct booking_service svc;
	int rc = load_service(req, resp, 0, &svc);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	struct booking_actor who = actor_of(req);
	struct place *places = NULL;
	int np = 0;
	if (places_load(req, &svc, &places, &np) != 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", svc.name);
	service_view(req, view_child(v, "service"), &svc);
	view_set_bool(v, "is_admin", staff_is_admin(req));
	view_setf(v, "edit_href", "/staff/services/%lld/edit", (long long)svc.id);
	if (http_query(req, "saved") != NULL)
		view_set(v, "notice", i18n_tr(req->lang, "The service was saved."));
	for (int i = 0; i < np; i++) {
		struct booking_hours *h = NULL;
		int nh = 0;
		if (booking_hours_get(req->db, &who, svc.id, places[i].id, &h, &nh, req->arena) !=
		    0)
			return -1;
		struct view *p = view_append(v, "places");
		view_set(p, "name", places[i].name);
		view_setf(p, "href", "/staff/services/%lld/places/%lld", (long long)svc.id,
		          (long long)places[i].id);
		view_set_bool(p, "closed", nh == 0);
		hours_view(req, p, "hours", h, nh);
	}
	return http_render(req, resp, 200, "staff/services_show.html", v);
}

/* --- opening hours and slots of one place -------------------------------------------- */

/* One row of the hours form, as typed. */
struct hours_row {
	const char *weekday, *from, *to, *slot, *capacity;
	const char *error; /* msgid or NULL */
};

/* Loads the service {id} and the place {place}: the place must be one the user
 * manages where the service may be offered. 0; 1 when resp holds the 404. */
static int load_place(struct http_req *req, struct http_resp *resp, struct booking_service *svc,
                      struct place *place)
{
	int rc = load_service(req, resp, 0, svc);
	if (rc != 0)
		return rc;
	struct place *places = NULL;
	int np = 0;
	if (places_load(req, svc, &places, &np) != 0)
		return -1;
	const struct place *p = place_find(places, np, http_param_id(req, 1));
	if (p == NULL) {
		http_error(req, resp, 404);
		return 1;
	}
	*place = *p;
	return 0;
}

/* The slots of (service, place) from now on: how many, and how many seats are taken. */
static int slots_summary(struct http_req *req, int64_t service_id, int64_t place_id, int64_t *count,
                         int64_t *booked)
{
	struct store_stmt *s = NULL;
	int rc = store_query(req->db, &s,
	                     "SELECT COUNT(*), COALESCE(SUM(booked), 0) FROM slots "
	                     "WHERE service_id = ? AND org_id = ? AND start_at >= ?",
	                     "iii", service_id, place_id, now_utc());
	if (rc != 0)
		return rc;
	rc = store_step(s);
	*count = rc == 1 ? store_col_int(s, 0) : 0;
	*booked = rc == 1 ? store_col_int(s, 1) : 0;
	store_done(s);
	return rc < 0 ? rc : 0;
}

static int render_hours(struct http_req *req, struct http_resp *resp,
                        const struct booking_service *svc, const struct place *place,
                        const struct hours_row *rows, int n, int nerrors, const char *weeks,
                        const char *weeks_error)
{
	struct arena *a = req->arena;
	struct view *v = view_new(a);
	view_set(v, "title", arena_printf(a, "%s · %s", svc->name, place->name));
	service_view(req, view_child(v, "service"), svc);
	view_set(v, "place_name", place->name);
	view_set_bool(v, "is_admin", staff_is_admin(req));
	view_setf(v, "action", "/staff/services/%lld/places/%lld/hours", (long long)svc->id,
	          (long long)place->id);
	view_setf(v, "generate_action", "/staff/services/%lld/places/%lld/generate",
	          (long long)svc->id, (long long)place->id);
	view_set_int(v, "nerrors", nerrors);
	for (int i = 0; i < n; i++) {
		struct view *r = view_append(v, "rows");
		view_set_int(r, "i", i);
		view_set_int(r, "n", i + 1);
		view_set(r, "from", rows[i].from);
		view_set(r, "to", rows[i].to);
		view_set(r, "slot", rows[i].slot);
		view_set(r, "capacity", rows[i].capacity);
		view_set(r, "error",
		         rows[i].error != NULL ? i18n_tr(req->lang, rows[i].error) : "");
		for (int d = 0; d < 7; d++) {
			struct view *o = view_append(r, "weekdays");
			view_set_int(o, "value", d);
			view_set(o, "label", i18n_tr(req->lang, weekday_names[d]));
			view_set_bool(o, "selected",
			              strcmp(rows[i].weekday, arena_printf(a, "%d", d)) == 0);
		}
		if (rows[i].error != NULL) {
			struct view *e = view_append(v, "errors");
			view_setf(e, "name", "from_%d", i);
			view_set(e, "error",
			         arena_printf(a, "%s %d: %s", i18n_tr(req->lang, "Row"), i + 1,
			                      i18n_tr(req->lang, rows[i].error)));
		}
	}
	view_set(v, "weeks", weeks);
	view_set(v, "weeks_error", weeks_error != NULL ? i18n_tr(req->lang, weeks_error) : "");
	const char *q;
	int64_t x;
	static const char *const counts[] = {"created", "updated", "removed", "kept"};
	if ((q = http_query(req, "created")) != NULL && parse_i64(q, 0, INT32_MAX, &x) == 0) {
		struct view *g = view_child(v, "generated");
		for (size_t i = 0; i < ARRAY_LEN(counts); i++) {
			q = http_query(req, counts[i]);
			view_set_int(g, counts[i],
			             q != NULL && parse_i64(q, 0, INT32_MAX, &x) == 0 ? x : 0);
		}
	}
	if (http_query(req, "saved") != NULL)
		view_set(v, "notice", i18n_tr(req->lang, "The opening hours were saved."));
	int64_t count = 0, booked = 0;
	if (slots_summary(req, svc->id, place->id, &count, &booked) != 0)
		return -1;
	view_set_int(v, "slot_count", count);
	view_set_int(v, "slot_booked", booked);
	return http_render(req, resp, 200, "staff/services_hours.html", v);
}

int staff_service_hours(struct http_req *req, struct http_resp *resp)
{
	struct booking_service svc;
	struct place place;
	int rc = load_place(req, resp, &svc, &place);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	struct booking_actor who = actor_of(req);
	struct booking_hours *h = NULL;
	int nh = 0;
	if (booking_hours_get(req->db, &who, svc.id, place.id, &h, &nh, req->arena) != 0)
		return -1;
	int n = nh + EXTRA_HOURS_ROWS;
	if (n > BOOKING_HOURS_MAX)
		n = BOOKING_HOURS_MAX;
	struct hours_row *rows = arena_alloc(req->arena, sizeof(*rows) * (size_t)n);
	for (int i = 0; i < n; i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		if (i < nh) {
			rows[i].weekday = arena_printf(req->arena, "%d", h[i].weekday);
			rows[i].from = hhmm(h[i].start_min, req->arena);
			rows[i].to = hhmm(h[i].end_min, req->arena);
			rows[i].slot = arena_printf(req->arena, "%d", h[i].slot_min);
			rows[i].capacity = arena_printf(req->arena, "%d", h[i].capacity);
		} else {
			/* new rows: the days after the last one, the usual slot and one seat */
			int d = ((nh > 0 ? h[nh - 1].weekday + 1 : 0) + (i - nh)) % 7;
			rows[i].weekday = arena_printf(req->arena, "%d", d);
			rows[i].from = rows[i].to = "";
			rows[i].slot = arena_printf(req->arena, "%d", svc.duration_min);
			rows[i].capacity = "1";
		}
	}
	return render_hours(req, resp, &svc, &place, rows, n, 0,
	                    arena_printf(req->arena, "%d", WEEKS_DEFAULT), NULL);
}

static int hours_start_cmp(const struct booking_hours *x, const struct booking_hours *y)
{
	if (x->weekday != y->weekday)
		return x->weekday - y->weekday;
	return x->start_min - y->start_min;
}

int staff_service_hours_save(struct http_req *req, struct http_resp *resp)
{
	struct booking_service svc;
	struct place place;
	int rc = load_place(req, resp, &svc, &place);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct arena *a = req->arena;
	struct hours_row *rows = arena_alloc(a, sizeof(*rows) * BOOKING_HOURS_MAX);
	struct booking_hours *h = arena_alloc(a, sizeof(*h) * BOOKING_HOURS_MAX);
	int n = 0, nh = 0, nerrors = 0;
	for (; n < BOOKING_HOURS_MAX; n++) {
		const char *wd = http_form(req, arena_printf(a, "weekday_%d", n));
		if (wd == NULL)
			break;
		struct hours_row *r = &rows[n];
		memset(r, 0, sizeof(*r));
		r->weekday = staff_trimmed(wd, a);
		r->from = staff_trimmed(http_form(req, arena_printf(a, "from_%d", n)), a);
		r->to = staff_trimmed(http_form(req, arena_printf(a, "to_%d", n)), a);
		r->slot = staff_trimmed(http_form(req, arena_printf(a, "slot_%d", n)), a);
		r->capacity = staff_trimmed(http_form(req, arena_printf(a, "capacity_%d", n)), a);
		if (r->from[0] == '\0' && r->to[0] == '\0')
			continue; /* an empty row, or one emptied to remove it */
		struct booking_hours x;
		int64_t wdn, slot, cap;
		if (parse_i64(r->weekday, 0, 6, &wdn) != 0)
			r->error = N_("Choose the day of the week.");
		else if (parse_hhmm(r->from, 0, &x.start_min) != 0 ||
		         parse_hhmm(r->to, 1, &x.end_min) != 0)
			r->error = N_("Enter the times as hours and minutes, for example 09:00.");
		else if (x.start_min >= x.end_min)
			r->error = N_("The closing time must come after the opening time.");
		else if (parse_i64(r->slot, 1, x.end_min - x.start_min, &slot) != 0)
			r->error =
			    N_("The slot length must be a number of minutes that fits between "
			       "the two times.");
		else if (parse_i64(r->capacity, 1, 1000, &cap) != 0)
			r->error =
			    N_("The patients per slot must be a whole number from 1 to 1000.");
		if (r->error != NULL) {
			nerrors++;
			continue;
		}
		x.weekday = (int)wdn;
		x.slot_min = (int)slot;
		x.capacity = (int)cap;
		/* an overlap with a row already read on the same day */
		for (int j = 0; j < nh; j++) {
			const struct booking_hours *y = &h[j];
			if (y->weekday == x.weekday && x.start_min < y->end_min &&
			    y->start_min < x.end_min) {
				r->error = N_("These hours overlap other hours of the same day.");
				nerrors++;
				break;
			}
		}
		if (r->error == NULL)
			h[nh++] = x;
	}
	const char *weeks = arena_printf(a, "%d", WEEKS_DEFAULT);
	if (nerrors > 0)
		return render_hours(req, resp, &svc, &place, rows, n, nerrors, weeks, NULL);
	/* keep them in order: the booking core stores them as given */
	for (int i = 1; i < nh; i++)
		for (int j = i; j > 0 && hours_start_cmp(&h[j - 1], &h[j]) > 0; j--) {
			struct booking_hours t = h[j];
			h[j] = h[j - 1];
			h[j - 1] = t;
		}
	struct booking_actor who = actor_of(req);
	int e = booking_hours_set(req->db, &who, svc.id, place.id, h, nh);
	if (e == BOOKING_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e == BOOKING_INVALID) {
		rows[0].error = N_("These opening hours are not valid.");
		return render_hours(req, resp, &svc, &place, rows, n > 0 ? n : 1, 1, weeks, NULL);
	}
	if (e != 0)
		return -1;
	store_audit(req->db, req->session->org_id, "staff", req->session->user_id, "service.hours",
	            "service", svc.id, req->ip,
	            arena_printf(a, "place=%lld rows=%d", (long long)place.id, nh));
	http_redirect(resp, arena_printf(a, "/staff/services/%lld/places/%lld?saved=1",
	                                 (long long)svc.id, (long long)place.id));
	return 0;
}

/* Today's date in the place's time zone, as a day number. */
static int place_today(struct http_req *req, int64_t place_id, int64_t *days)
{
	struct store_org o;
	struct tz_local l;
	int rc = store_org_get(req->db, place_id, &o, req->arena);
	if (rc != 0)
		return rc;
	if (tz_utc_to_local(o.timezone != NULL ? o.timezone : "UTC", now_utc(), &l) != 0 &&
	    tz_utc_to_local("UTC", now_utc(), &l) != 0)
		return -1;
	*days = tz_days_from_civil(l.year, l.month, l.day);
	return 0;
}

int staff_service_generate(struct http_req *req, struct http_resp *resp)
{
	struct booking_service svc;
	struct place place;
	int rc = load_place(req, resp, &svc, &place);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct arena *a = req->arena;
	const char *weeks = staff_trimmed(http_form(req, "weeks"), a);
	int64_t w = 0, today = 0;
	if (parse_i64(weeks, 1, WEEKS_MAX, &w) != 0) {
		struct booking_actor who = actor_of(req);
		struct booking_hours *h = NULL;
		int nh = 0;
		if (booking_hours_get(req->db, &who, svc.id, place.id, &h, &nh, a) != 0)
			return -1;
		struct hours_row *rows = arena_alloc(a, sizeof(*rows) * (size_t)(nh + 1));
		for (int i = 0; i < nh; i++) {
			memset(&rows[i], 0, sizeof(rows[i]));
			rows[i].weekday = arena_printf(a, "%d", h[i].weekday);
			rows[i].from = hhmm(h[i].start_min, a);
			rows[i].to = hhmm(h[i].end_min, a);
			rows[i].slot = arena_printf(a, "%d", h[i].slot_min);
			rows[i].capacity = arena_printf(a, "%d", h[i].capacity);
		}
		return render_hours(req, resp, &svc, &place, rows, nh, 0, weeks,
		                    N_("Enter a number of weeks from 1 to 52."));
	}
	if (place_today(req, place.id, &today) != 0)
		return -1;
	int y, m, d;
	tz_civil_from_days(today, &y, &m, &d);
	const char *from = arena_printf(a, "%04d-%02d-%02d", y, m, d);
	tz_civil_from_days(today + w * 7 - 1, &y, &m, &d);
	const char *to = arena_printf(a, "%04d-%02d-%02d", y, m, d);
	struct booking_actor who = actor_of(req);
	struct booking_generate_result res;
	int e = booking_slots_generate(req->db, &who, svc.id, place.id, from, to, &res);
	if (e == BOOKING_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e != 0)
		return -1;
	store_audit(req->db, req->session->org_id, "staff", req->session->user_id, "slots.generate",
	            "service", svc.id, req->ip,
	            arena_printf(a, "place=%lld from=%s to=%s created=%d updated=%d removed=%d",
	                         (long long)place.id, from, to, res.created, res.updated,
	                         res.removed));
	http_redirect(resp, arena_printf(a,
	                                 "/staff/services/%lld/places/%lld?created=%d&updated=%d"
	                                 "&removed=%d&kept=%d",
	                                 (long long)svc.id, (long long)place.id, res.created,
	                                 res.updated, res.removed, res.kept));
	return 0;
}
