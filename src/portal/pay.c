/*
 * portal/pay: payment in advance from the patient's side (issue 5):
 * /appointments/{id}/pay shows the amount, the service and time, and the
 * payment state, with a "Pay" button that starts a checkout with the
 * configured provider (pay/pay.h); /pay/sandbox/{ref} is the sandbox
 * provider's checkout page ("Test mode — no real payment"); and
 * POST /pay/webhook/stripe hands Stripe's deliveries to pay_webhook().
 *
 * Who may see what: booking_appointment_get() with a patient actor (the
 * signed-in patient, on the portal of their account) finds only the patient's
 * own appointments and those of family members they manage, at an
 * organisation connected to that portal (the customer or one of its members).
 * Anything else is 404, never 403, so ids of other patients and other
 * portals reveal nothing.
 *
 * The state shown always comes from the database (appointments.paid_at and
 * the newest payments row), never from the query string a provider sends the
 * browser back with; nothing here marks anything paid (pay/ does, from the
 * sandbox choice or a verified webhook). The one redirect off the portal is
 * to the https:// checkout URL the provider returned for this attempt. It
 * must never log a signature, a secret or card data.
 */
#include "app.h"
#include "booking/booking.h"
#include "booking/tz.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "invite/account.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pay/pay.h"
#include "portal/portal.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define CHECKOUT_URL_MAX 2048

/* The signed-in patient as the booking core sees them. */
struct payer {
	struct booking_actor who;
	int64_t portal_id;
};

/* 0 and *p for the session's patient; STORE_NOTFOUND when the patient or the account is gone. */
static int payer_load(struct http_req *req, struct payer *p)
{
	struct account acct;
	memset(p, 0, sizeof(*p));
	/* user_id is the PATIENT id (invite/account.h) */
	int rc = account_by_patient(req->db, req->session->user_id, &acct, req->arena);
	if (rc == ACCOUNT_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return STORE_ERR;
	p->portal_id = acct.portal_id;
	p->who.portal_id = acct.portal_id;
	p->who.patient_id = req->session->user_id;
	return 0;
}

/* The appointment the patient may see: 0, 404 (the caller answers it) or -1. */
static int appointment_load(struct http_req *req, const struct payer *p, int64_t id,
                            struct booking_appointment *ap)
{
	if (id <= 0)
		return 404;
	int rc = booking_appointment_get(req->db, &p->who, id, ap, req->arena);
	if (rc == BOOKING_NOTFOUND)
		return 404;
	return rc == 0 ? 0 : -1;
}

/* --- formatting ----------------------------------------------------------- */

static const char *const weekdays[7] = {N_("Monday"),   N_("Tuesday"), N_("Wednesday"),
                                        N_("Thursday"), N_("Friday"),  N_("Saturday"),
                                        N_("Sunday")};
static const char *const months[12] = {
    N_("January"), N_("February"), N_("March"),     N_("April"),   N_("May"),      N_("June"),
    N_("July"),    N_("August"),   N_("September"), N_("October"), N_("November"), N_("December")};

/* "Tuesday 12 March 2026, 10:30" in lang, at the organisation's wall time. */
static const char *format_when(struct http_req *req, int64_t org_id, int64_t utc)
{
	struct store_org org;
	struct tz_local l;
	const char *zone = "Europe/Rome";
	if (store_org_get(req->db, org_id, &org, req->arena) == 0 && org.timezone != NULL)
		zone = org.timezone;
	if (tz_utc_to_local(zone, utc, &l) != 0 && tz_utc_to_local("UTC", utc, &l) != 0)
		return "";
	const char *wd = i18n_tr(req->lang, weekdays[l.weekday % 7]);
	const char *mo = i18n_tr(req->lang, months[(l.month + 11) % 12]);
	return arena_printf(req->arena, "%s %d %s %d, %02d:%02d", wd, l.day, mo, l.year, l.hour,
	                    l.minute);
}

/* "€ 80,00" (it) or "€80.00" (en). */
static const char *format_amount(struct http_req *req, int64_t cents)
{
	int it = strcmp(req->lang, "en") != 0;
	long long units = (long long)(cents / 100), rest = (long long)(cents % 100);
	return arena_printf(req->arena, it ? "€ %lld,%02lld" : "€%lld.%02lld", units, rest);
}

/* --- the payment page ----------------------------------------------------- */

/* State of the newest checkout attempt ("pending", "failed", ...) or NULL. */
static const char *last_attempt(struct http_req *req, int64_t appointment_id)
{
	struct store_stmt *s = NULL;
	const char *state = NULL;
	if (store_query(req->db, &s,
	                "SELECT state FROM payments WHERE appointment_id = ? "
	                "ORDER BY id DESC LIMIT 1",
	                "i", appointment_id) != 0)
		return NULL;
	if (store_step(s) == 1)
		state = store_col_dup(s, 0, req->arena);
	store_done(s);
	return state;
}

/* Fills the appointment part of a view (pay.html and pay_sandbox.html share it). */
static void view_appointment(struct http_req *req, struct view *v,
                             const struct booking_appointment *ap)
{
	view_set_int(v, "id", ap->id);
	view_set(v, "service", ap->service_name);
	view_set(v, "org", ap->org_name);
	view_set(v, "when", format_when(req, ap->org_id, ap->start_at));
	view_set(v, "amount", format_amount(req, ap->amount_cents));
	view_set_bool(v, "video", ap->kind == BOOKING_VIDEO);
	if (ap->patient_id != req->session->user_id)
		view_set(v, "for_name", ap->patient_name);
}

static int render_pay(struct http_req *req, struct http_resp *resp, int status,
                      const struct booking_appointment *ap, const char *error)
{
	struct view *v = view_new(req->arena);
	const char *lang = req->lang;
	view_set(v, "title", i18n_tr(lang, "Payment"));
	view_appointment(req, v, ap);
	view_set_bool(v, "test_mode", req->app->pay != NULL && pay_is_test_mode(req->app->pay));
	if (error != NULL)
		view_set(v, "error", error);

	int due = ap->payment != BOOKING_PAY_NONE && ap->amount_cents > 0;
	const char *state;
	if (ap->paid_at > 0) {
		state = i18n_tr(lang, "Paid");
		view_set_bool(v, "paid", 1);
		view_set(v, "paid_on", format_when(req, ap->org_id, ap->paid_at));
	} else if (!due) {
		state = i18n_tr(lang, "No payment is due");
		view_set_bool(v, "nothing_due", 1);
	} else if (ap->status != BOOKING_BOOKED) {
		state = i18n_tr(lang, "Not paid");
		view_set_bool(v, "not_booked", 1);
	} else {
		state =
		    ap->payment == BOOKING_PAY_MANDATORY
		        ? i18n_tr(lang, "Not paid yet: payment is required before the appointment")
		        : i18n_tr(lang, "Not paid yet: you may pay in advance");
		view_set_bool(v, "can_pay", 1);
		const char *last = last_attempt(req, ap->id);
		/* what the browser came back with only chooses words; the state is the database's
		 */
		const char *result = http_query(req, "result");
		int back = http_query(req, "done") != NULL ||
		           (result != NULL && strcmp(result, "success") == 0);
		if (last != NULL && strcmp(last, "failed") == 0)
			view_set_bool(v, "failed", 1);
		else if (last != NULL && strcmp(last, "pending") == 0 && back)
			view_set_bool(v, "waiting", 1);
		else if (result != NULL && strcmp(result, "cancel") == 0)
			view_set_bool(v, "cancelled_checkout", 1);
	}
	view_set(v, "state", state);
	return http_render(req, resp, status, "portal/pay.html", v);
}

int portal_pay_page(struct http_req *req, struct http_resp *resp)
{
	struct payer p;
	struct booking_appointment ap;
	int rc = payer_load(req, &p);
	if (rc == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	rc = appointment_load(req, &p, http_param_id(req, 0), &ap);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	return render_pay(req, resp, 200, &ap, NULL);
}

/* 1 for an absolute https:// URL fit for a Location header (no space, quote or control). */
static int checkout_url_ok(const char *url)
{
	if (url == NULL || strncmp(url, "https://", 8) != 0 || url[8] == '\0' || url[8] == '/')
		return 0;
	if (strlen(url) > CHECKOUT_URL_MAX)
		return 0;
	for (const unsigned char *c = (const unsigned char *)url; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f || *c == '"' || *c == '<' || *c == '>' || *c == '\\')
			return 0;
	return 1;
}

int portal_pay_start(struct http_req *req, struct http_resp *resp)
{
	struct payer p;
	struct booking_appointment ap;
	struct store_portal portal;
	struct pay_checkout co;
	int rc = payer_load(req, &p);
	if (rc == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0 || req->app->pay == NULL)
		return -1;
	rc = appointment_load(req, &p, http_param_id(req, 0), &ap);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	/* Stripe's success and cancel URLs go back to the patient's own portal */
	const char *base = NULL;
	if (store_portal_get(req->db, p.portal_id, &portal, req->arena) == 0)
		base = portal.base_url;
	const char *page = arena_printf(req->arena, "/appointments/%lld/pay", (long long)ap.id);
	rc = pay_checkout_start(req->app->pay, req->db, ap.id, base, now_utc(), &co, req->arena);
	switch (rc) {
	case PAY_OK:
		break;
	case PAY_NOTHING_DUE: /* paid meanwhile, cancelled, or nothing to pay: the page says */
		http_redirect(resp, page);
		return 0;
	case PAY_NOTFOUND:
		http_error(req, resp, 404);
		return 0;
	case PAY_PROVIDER: /* pay/ logged the provider's answer */
	case PAY_CONFIG:
		return render_pay(req, resp, 502, &ap,
		                  i18n_tr(req->lang,
		                          "The payment could not be started. Nothing was charged. "
		                          "Please try again in a moment."));
	default:
		log_error("portal: checkout for appointment %lld: %s", (long long)ap.id,
		          pay_strerror(rc));
		return -1;
	}
	store_audit(req->db, req->session->org_id, "patient", req->session->user_id,
	            "payment.checkout", "appointment", ap.id, req->ip,
	            pay_provider_name(req->app->pay));
	if (co.url != NULL && co.url[0] == '/') {
		http_redirect(resp, co.url); /* the sandbox: a page of this portal */
		return 0;
	}
	if (!checkout_url_ok(co.url)) {
		log_error("portal: the provider's checkout URL for appointment %lld is not an "
		          "https:// URL; not following it",
		          (long long)ap.id);
		return render_pay(req, resp, 502, &ap,
		                  i18n_tr(req->lang,
		                          "The payment could not be started. Nothing was charged. "
		                          "Please try again in a moment."));
	}
	/* The one redirect off the portal: to the URL the provider returned for this attempt. */
	resp->status = 303;
	resp->content_type = "text/plain; charset=utf-8";
	http_add_header(req, resp, "Location", co.url);
	return 0;
}

/* --- the sandbox checkout ------------------------------------------------- */

/* The sandbox payment of {ref} and its appointment, if the patient may see it: 0, 404, -1. */
static int sandbox_load(struct http_req *req, struct pay_payment *pm,
                        struct booking_appointment *ap)
{
	struct payer p;
	if (req->app->pay == NULL)
		return -1;
	int rc = payer_load(req, &p);
	if (rc == STORE_NOTFOUND)
		return 404;
	if (rc != 0)
		return -1;
	rc = pay_sandbox_get(req->app->pay, req->db, req->params[0], pm, req->arena);
	if (rc == PAY_DISABLED || rc == PAY_NOTFOUND)
		return 404;
	if (rc != 0)
		return -1;
	return appointment_load(req, &p, pm->appointment_id, ap);
}

int portal_pay_sandbox(struct http_req *req, struct http_resp *resp)
{
	struct pay_payment pm;
	struct booking_appointment ap;
	int rc = sandbox_load(req, &pm, &ap);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Test payment"));
	view_appointment(req, v, &ap);
	/* what this attempt charges, which is what the page must show */
	view_set(v, "amount", format_amount(req, pm.amount_cents));
	view_set(v, "ref", pm.ref);
	int pending = strcmp(pm.state, "pending") == 0;
	view_set_bool(v, "pending", pending && ap.paid_at == 0);
	if (strcmp(pm.state, "succeeded") == 0)
		view_set(v, "outcome", i18n_tr(req->lang, "This test payment was completed."));
	else if (!pending || ap.paid_at != 0)
		view_set(v, "outcome", i18n_tr(req->lang, "This test payment is closed."));
	return http_render(req, resp, 200, "portal/pay_sandbox.html", v);
}

int portal_pay_sandbox_submit(struct http_req *req, struct http_resp *resp)
{
	struct pay_payment pm;
	struct booking_appointment ap;
	struct pay_result res;
	int rc = sandbox_load(req, &pm, &ap);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	const char *choice = http_form(req, "choice");
	int64_t now = now_utc();
	if (choice != NULL && strcmp(choice, "complete") == 0) {
		rc = pay_sandbox_complete(req->app->pay, req->db, pm.ref, now, &res);
	} else if (choice != NULL && strcmp(choice, "fail") == 0) {
		rc = pay_sandbox_fail(req->app->pay, req->db, pm.ref, now, &res);
	} else {
		http_error(req, resp, 400);
		return 0;
	}
	if (rc != 0 && rc != PAY_STATE) { /* PAY_STATE: chosen already; the page shows what */
		log_error("portal: sandbox payment %lld: %s", (long long)pm.id, pay_strerror(rc));
		return -1;
	}
	http_redirect(resp,
	              arena_printf(req->arena, "/appointments/%lld/pay?done=1", (long long)ap.id));
	return 0;
}

/* --- Stripe's webhook ------------------------------------------------------ */

int portal_pay_webhook_stripe(struct http_req *req, struct http_resp *resp)
{
	struct pay_result res;
	int rc = PAY_DISABLED;
	if (req->app->pay != NULL && strcmp(pay_provider_name(req->app->pay), "stripe") == 0)
		/* the raw body exactly as received: the signature covers these bytes */
		rc =
		    pay_webhook(req->app->pay, req->db, http_header(req, "Stripe-Signature"),
		                req->body != NULL ? req->body : "", req->body_len, now_utc(), &res);
	int status = pay_webhook_status(rc); /* pay/ logged why, without the signature */
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	buf_reset(&resp->body);
	buf_puts(&resp->body, status == 200   ? "ok\n"
	                      : status == 400 ? "refused\n"
	                      : status == 404 ? "not found\n"
	                                      : "error\n");
	return 0;
}
