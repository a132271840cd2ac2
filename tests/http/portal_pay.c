/*
 * HTTP tests of the payment pages (src/portal/pay.c): /appointments/{id}/pay
 * only for the patient's own appointments and their family's, on their own
 * portal (a member connected to it included, another portal never); the
 * sandbox checkout (complete → paid, shown to the patient and on the staff
 * profile; fail → not paid); the state always from the database, never from
 * the query; CSRF on every form. Suite portal_pay_stripe runs the Stripe
 * provider against a local stand-in for its API (libmicrohttpd on
 * 127.0.0.1) that answers like the API does: the Pay button redirects to the
 * URL it returned, a signed webhook marks the appointment paid once, forged,
 * stale and replayed deliveries change nothing.
 */
#include "harness.h"

#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(portal_pay, .init = h_start, .fini = h_stop);

#define PRICE 8000

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static int64_t add_patient(int org, const char *given, const char *family, int64_t managed_by)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.lang = "en";
	p.managed_by = managed_by;
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

/* A patient of org with an account on org's portal (the password does not matter here). */
static int64_t add_account_patient(int org, const char *given, const char *login)
{
	int64_t p = add_patient(org, given, "Rossi", 0);
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, "
	                          "created_at) VALUES (?, ?, ?, 'x', ?) RETURNING id",
	                          "iiti", p, H.org[org].portal_id, login, now_utc()),
	             0);
	store_release(db);
	return p;
}

static int64_t add_service(int64_t org_id)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO services (org_id, name, kind, price_cents, payment) "
	                          "VALUES (?, 'Televisita cardiologica', 'video', ?, 'mandatory') "
	                          "RETURNING id",
	                          "ii", org_id, (int64_t)PRICE),
	             0);
	store_release(db);
	return id;
}

/* A booked video appointment tomorrow at org_id for patient. */
static int64_t add_appt(int64_t patient, int64_t org_id, const char *payment, int64_t amount)
{
	int64_t svc = add_service(org_id), id = 0, start = now_utc() + 86400;
	struct store_conn *db = h_db();
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO appointments (patient_id, org_id, service_id, "
	                          "start_at, end_at, kind, payment, amount_cents) "
	                          "VALUES (?, ?, ?, ?, ?, 'video', ?, ?) RETURNING id",
	                          "iiiiiti", patient, org_id, svc, start, start + 1800, payment,
	                          amount),
	             0);
	store_release(db);
	return id;
}

/* A member practice connected to org's portal. */
static int64_t add_member(int org)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Studio Membro') RETURNING id",
	                          "ii", H.org[org].portal_id, H.org[org].org_id),
	             0);
	store_release(db);
	return id;
}

static int64_t scalar(const char *sql, int64_t arg)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	cr_assert_eq(store_scalar(db, &n, sql, "i", arg), 0, "%s", sql);
	store_release(db);
	return n;
}

static int64_t paid_at(int64_t appt)
{
	return scalar("SELECT COALESCE(paid_at, 0) FROM appointments WHERE id = ?", appt);
}

/* A signed-in patient client with English pages. */
static struct h_client *patient_client(int64_t patient, int org)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	h_signin(c, STORE_SESSION_PATIENT, patient, H.org[org].org_id);
	return c;
}

static const char *path(const char *fmt, int64_t id)
{
	static char p[8][128];
	static int i;
	char *out = p[i++ % 8];
	snprintf(out, sizeof(p[0]), fmt, (long long)id);
	return out;
}

/* POSTs the Pay form; returns the status, *loc (malloc'd) the Location header. */
static long pay(struct h_client *c, int64_t appt, char **loc)
{
	struct h_resp r;
	long st = h_post_form(c, path("/appointments/%lld/pay", appt), &r, "csrf", h_client_csrf(c),
	                      NULL);
	const char *l = h_header(&r, "Location");
	if (loc != NULL)
		*loc = l ? strdup(l) : NULL;
	h_resp_free(&r);
	return st;
}

/* ---- who may see the page ---------------------------------------------------- */

Test(portal_pay, page_shows_amount_service_time_and_state)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", a), &r), 200);
	cr_assert(has(&r, "<h1>Payment</h1>"));
	cr_assert(has(&r, "Televisita cardiologica"));
	cr_assert(has(&r, "Clinic 0"));
	cr_assert(has(&r, "€80.00"));
	cr_assert(has(&r, "Not paid yet: payment is required before the appointment"));
	cr_assert(has(&r, "Test mode — no real payment"), "the sandbox is labelled as a test");
	cr_assert(has(&r, path("action=\"/appointments/%lld/pay\"", a)));
	cr_assert(has(&r, "name=\"csrf\""));
	h_resp_free(&r);
}

Test(portal_pay, signed_out_goes_to_sign_in_and_back)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", a), &r), 303);
	const char *loc = h_header(&r, "Location");
	cr_assert(loc != NULL && strncmp(loc, "/login?next=", 12) == 0, "%s", loc ? loc : "-");
	cr_assert(strstr(loc, "pay") != NULL);
	h_resp_free(&r);
}

Test(portal_pay, strangers_and_unknown_ids_get_404)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t other = add_account_patient(0, "Bruno", "bruno@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(other, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", a), &r), 404);
	cr_assert(!has(&r, "Televisita"), "nothing about another patient's appointment");
	h_resp_free(&r);
	cr_assert_eq(pay(c, a, NULL), 404);
	cr_assert_eq(h_get(c, "/appointments/999999/pay", &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/appointments/abc/pay", &r), 404);
	h_resp_free(&r);
	/* a staff session is not a patient session */
	struct h_client *s = h_client();
	h_staff_signin(s, 0);
	cr_assert_eq(h_get(s, path("/appointments/%lld/pay", a), &r), 303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM payments WHERE appointment_id = ?", a), 0);
}

Test(portal_pay, family_member_appointment_is_payable_by_the_managing_account)
{
	int64_t parent = add_account_patient(0, "Anna", "anna@example.test");
	int64_t child = add_patient(0, "Luca", "Rossi", parent);
	int64_t a = add_appt(child, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(parent, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", a), &r), 200);
	cr_assert(has(&r, "Luca Rossi"), "whose appointment it is");
	h_resp_free(&r);
	char *loc = NULL;
	cr_assert_eq(pay(c, a, &loc), 303);
	cr_assert(loc != NULL && strncmp(loc, "/pay/sandbox/sbx_", 17) == 0);
	free(loc);
}

Test(portal_pay, cross_portal_refused_member_of_own_portal_allowed)
{
	/* a patient of clinic 0 (portal 0) with an appointment at clinic 1 (portal 1) */
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t elsewhere = add_appt(p, H.org[1].org_id, "mandatory", PRICE);
	int64_t member = add_member(0);
	int64_t at_member = add_appt(p, member, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", elsewhere), &r), 404,
	             "another portal's organisation never opens");
	h_resp_free(&r);
	cr_assert_eq(pay(c, elsewhere, NULL), 404);
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", at_member), &r), 200,
	             "a member connected to the patient's portal does");
	cr_assert(has(&r, "Studio Membro"));
	h_resp_free(&r);

	/* an account on portal 1 never opens portal 0's appointments */
	int64_t q = add_account_patient(1, "Carla", "carla@example.test");
	int64_t mine0 = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c1 = patient_client(q, 1);
	cr_assert_eq(h_get(c1, path("/appointments/%lld/pay", mine0), &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c1, path("/appointments/%lld/pay", at_member), &r), 404);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM payments WHERE appointment_id = ?", elsewhere),
	             0);
}

/* ---- the sandbox ------------------------------------------------------------- */

/* Starts a checkout and returns the sandbox page's path (malloc'd). */
static char *start_sandbox(struct h_client *c, int64_t a)
{
	char *loc = NULL;
	cr_assert_eq(pay(c, a, &loc), 303);
	cr_assert(loc != NULL && strncmp(loc, "/pay/sandbox/sbx_", 17) == 0, "%s",
	          loc ? loc : "(none)");
	return loc;
}

static long choose(struct h_client *c, const char *page, const char *choice, char **loc)
{
	struct h_resp r;
	long st = h_post_form(c, page, &r, "csrf", h_client_csrf(c), "choice", choice, NULL);
	if (loc != NULL) {
		const char *l = h_header(&r, "Location");
		*loc = l ? strdup(l) : NULL;
	}
	h_resp_free(&r);
	return st;
}

Test(portal_pay, sandbox_complete_marks_paid_and_shows_it)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	char *page = start_sandbox(c, a);
	cr_assert_eq(paid_at(a), 0, "starting a checkout pays nothing");

	cr_assert_eq(h_get(c, page, &r), 200);
	cr_assert(has(&r, "Test mode — no real payment"));
	cr_assert(has(&r, "€80.00"));
	cr_assert(has(&r, "value=\"complete\""));
	cr_assert(has(&r, "value=\"fail\""));
	h_resp_free(&r);

	char *loc = NULL;
	cr_assert_eq(choose(c, page, "complete", &loc), 303);
	cr_assert_str_eq(loc, path("/appointments/%lld/pay?done=1", a));
	cr_assert_gt(paid_at(a), 0);

	cr_assert_eq(h_get(c, loc, &r), 200);
	cr_assert(has(&r, "This appointment is paid."));
	cr_assert(!has(&r, path("action=\"/appointments/%lld/pay\"", a)), "no Pay button");
	h_resp_free(&r);
	cr_assert_eq(pay(c, a, NULL), 303, "paying again: back to the page, nothing started");
	cr_assert_eq(scalar("SELECT COUNT(*) FROM payments WHERE appointment_id = ?", a), 1);

	/* the other choice afterwards changes nothing */
	cr_assert_eq(choose(c, page, "fail", NULL), 303);
	cr_assert_gt(paid_at(a), 0);

	/* staff see it paid on the patient's profile */
	struct h_client *s = h_client();
	h_set_cookie(s, "lang", "en");
	h_staff_signin(s, 0);
	cr_assert_eq(h_get(s, path("/staff/patients/%lld", p), &r), 200);
	cr_assert(has(&r, "— paid</td>"), "the profile's appointment list says paid");
	h_resp_free(&r);
	free(page);
	free(loc);
}

Test(portal_pay, sandbox_fail_leaves_it_unpaid)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	char *page = start_sandbox(c, a);
	cr_assert_eq(choose(c, page, "fail", NULL), 303);
	cr_assert_eq(paid_at(a), 0);
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay?done=1", a), &r), 200);
	cr_assert(has(&r, "did not go through"));
	cr_assert(!has(&r, "This appointment is paid."));
	cr_assert(has(&r, path("action=\"/appointments/%lld/pay\"", a)), "may try again");
	h_resp_free(&r);
	/* completing the failed attempt afterwards is refused by pay/: still unpaid */
	cr_assert_eq(choose(c, page, "complete", NULL), 303);
	cr_assert_eq(paid_at(a), 0);
	/* an unknown choice */
	cr_assert_eq(choose(c, page, "maybe", NULL), 400);
	free(page);
}

Test(portal_pay, the_query_never_marks_paid)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	free(start_sandbox(c, a));
	cr_assert_eq(h_get(c,
	                   path("/appointments/%lld/pay?done=1&result=success&paid=1&"
	                        "session_id=cs_x",
	                        a),
	                   &r),
	             200);
	cr_assert(!has(&r, "This appointment is paid."));
	cr_assert(has(&r, "waiting for the payment provider"));
	h_resp_free(&r);
	cr_assert_eq(paid_at(a), 0);
}

Test(portal_pay, sandbox_page_only_for_the_owner)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t other = add_account_patient(0, "Bruno", "bruno@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	char *page = start_sandbox(patient_client(p, 0), a);
	struct h_client *c = patient_client(other, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, page, &r), 404);
	h_resp_free(&r);
	cr_assert_eq(choose(c, page, "complete", NULL), 404);
	cr_assert_eq(paid_at(a), 0);
	cr_assert_eq(h_get(c, "/pay/sandbox/sbx_0123456789abcdef0123456789abcdef", &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/pay/sandbox/../../etc", &r), 404);
	h_resp_free(&r);
	free(page);
}

Test(portal_pay, csrf_missing_or_wrong_is_403)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	cr_assert_eq(h_post(c, path("/appointments/%lld/pay", a), "", &r), 403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path("/appointments/%lld/pay", a), &r, "csrf", "forged", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM payments WHERE appointment_id = ?", a), 0);
	char *page = start_sandbox(c, a);
	cr_assert_eq(h_post_form(c, page, &r, "choice", "complete", NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(paid_at(a), 0);
	free(page);
}

Test(portal_pay, nothing_due_shows_no_button)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "none", 0);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", a), &r), 200);
	cr_assert(has(&r, "No payment is due"));
	cr_assert(!has(&r, path("action=\"/appointments/%lld/pay\"", a)));
	h_resp_free(&r);
	char *loc = NULL;
	cr_assert_eq(pay(c, a, &loc), 303);
	cr_assert_str_eq(loc, path("/appointments/%lld/pay", a));
	free(loc);
}

Test(portal_pay, stripe_webhook_is_404_in_sandbox_mode)
{
	struct h_client *c = h_client();
	struct h_resp r;
	const char *hdrs[] = {"Stripe-Signature: t=1,v1=00", NULL};
	cr_assert_eq(
	    h_request(c, "POST", "/pay/webhook/stripe", "application/json", "{}", 2, hdrs, &r),
	    404);
	h_resp_free(&r);
}

/* ---- Stripe, against a local stand-in for its API -------------------------------- */

#define WHSEC      "whsec_http_test_secret_0123456789"
#define STRIPE_KEY "sk_test_http_0123456789"

static struct {
	pthread_mutex_t lock;
	struct MHD_Daemon *d;
	char base[64];
	int requests, sessions;
	char path[128], auth[256], last_url[256];
	unsigned status;
} api = {.lock = PTHREAD_MUTEX_INITIALIZER, .status = 200};

static enum MHD_Result api_request(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload,
                                   size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)method;
	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		*con_cls = conn;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	char answer[512];
	pthread_mutex_lock(&api.lock);
	api.requests++;
	snprintf(api.path, sizeof(api.path), "%s", url);
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	snprintf(api.auth, sizeof(api.auth), "%s", auth ? auth : "");
	unsigned status = api.status;
	if (status == 200) {
		int n = ++api.sessions;
		snprintf(api.last_url, sizeof(api.last_url),
		         "https://checkout.stripe.com/c/pay/cs_test_http%d#fidkdWxOYHwnPyd1blpx",
		         n);
		snprintf(answer, sizeof(answer),
		         "{\"id\":\"cs_test_http%d\",\"object\":\"checkout.session\","
		         "\"amount_total\":%d,\"currency\":\"eur\",\"payment_status\":\"unpaid\","
		         "\"status\":\"open\",\"url\":\"%s\"}",
		         n, PRICE, api.last_url);
	} else {
		snprintf(
		    answer, sizeof(answer),
		    "{\"error\":{\"type\":\"api_error\",\"message\":\"Something went wrong\"}}");
	}
	pthread_mutex_unlock(&api.lock);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(answer), answer, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void stripe_tweak(struct config *cfg)
{
	char err[256];
	cr_assert_eq(config_set(cfg, "payment_provider", "stripe", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(cfg, "stripe_api_base", api.base, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(cfg, "stripe_secret_key", STRIPE_KEY, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(config_set(cfg, "stripe_webhook_secret", WHSEC, err, sizeof(err)), 0, "%s",
	             err);
}

static void stripe_init(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	api.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	                         api_request, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	cr_assert_not_null(api.d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(api.d, MHD_DAEMON_INFO_BIND_PORT);
	cr_assert_not_null(info);
	snprintf(api.base, sizeof(api.base), "http://127.0.0.1:%u", (unsigned)info->port);
	h_start_with(stripe_tweak);
}

static void stripe_fini(void)
{
	h_stop();
	if (api.d != NULL)
		MHD_stop_daemon(api.d);
	api.d = NULL;
}

TestSuite(portal_pay_stripe, .init = stripe_init, .fini = stripe_fini);

/* Stripe-Signature "t=TS,v1=HEX" of body at ts with secret. */
static void sign(char *out, size_t n, const char *secret, int64_t ts, const char *body)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1], tss[32];
	crypto_auth_hmacsha256_state st;
	snprintf(tss, sizeof(tss), "%" PRId64, ts);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tss, strlen(tss));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, n, "t=%s,v1=%s", tss, hex);
}

/* checkout.session.completed for session, as Stripe sends it (malloc'd). */
static char *event(const char *evt, const char *session)
{
	char *b = NULL;
	cr_assert_gt(asprintf(&b,
	                      "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"checkout.session."
	                      "completed\",\"data\":{\"object\":{\"id\":\"%s\",\"object\":"
	                      "\"checkout.session\",\"amount_total\":%d,\"currency\":\"eur\","
	                      "\"payment_status\":\"paid\",\"status\":\"complete\"}}}",
	                      evt, session, PRICE),
	             0);
	return b;
}

static long deliver(const char *body, const char *signature)
{
	struct h_client *c = h_client();
	struct h_resp r;
	char hdr[512];
	snprintf(hdr, sizeof(hdr), "Stripe-Signature: %s", signature);
	const char *hdrs[] = {hdr, NULL};
	long st = h_request(c, "POST", "/pay/webhook/stripe", "application/json", body,
	                    strlen(body), hdrs, &r);
	h_resp_free(&r);
	return st;
}

/* The provider_ref of the newest payment of appointment a (malloc'd). */
static char *session_of(int64_t a)
{
	struct store_conn *db = h_db();
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(db, &s,
	                         "SELECT provider_ref FROM payments WHERE appointment_id = ? "
	                         "ORDER BY id DESC LIMIT 1",
	                         "i", a),
	             0);
	cr_assert_eq(store_step(s), 1);
	char *ref = strdup(store_col_text(s, 0));
	store_done(s);
	store_release(db);
	return ref;
}

Test(portal_pay_stripe, pay_redirects_to_the_url_the_api_returned)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", a), &r), 200);
	cr_assert(!has(&r, "Test mode"), "a real provider is not labelled as a test");
	h_resp_free(&r);
	char *loc = NULL;
	cr_assert_eq(pay(c, a, &loc), 303);
	pthread_mutex_lock(&api.lock);
	cr_assert_eq(api.requests, 1);
	cr_assert_str_eq(api.path, "/v1/checkout/sessions");
	cr_assert_str_eq(api.auth, "Bearer " STRIPE_KEY);
	cr_assert_str_eq(loc, api.last_url, "exactly the URL the provider returned");
	pthread_mutex_unlock(&api.lock);
	cr_assert_eq(paid_at(a), 0);
	/* coming back from Stripe's success_url shows what the database says: not paid yet */
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay?result=success&session_id=cs_x", a), &r),
	             200);
	cr_assert(!has(&r, "This appointment is paid."));
	cr_assert(has(&r, "waiting for the payment provider"));
	h_resp_free(&r);
	/* the sandbox is not reachable with another provider */
	cr_assert_eq(h_get(c, "/pay/sandbox/sbx_0123456789abcdef0123456789abcdef", &r), 404);
	h_resp_free(&r);
	free(loc);
}

Test(portal_pay_stripe, provider_error_shows_a_message_and_pays_nothing)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	pthread_mutex_lock(&api.lock);
	api.status = 500;
	pthread_mutex_unlock(&api.lock);
	struct h_resp r;
	cr_assert_eq(
	    h_post_form(c, path("/appointments/%lld/pay", a), &r, "csrf", h_client_csrf(c), NULL),
	    502);
	cr_assert(has(&r, "The payment could not be started."));
	cr_assert_null(h_header(&r, "Location"));
	h_resp_free(&r);
	cr_assert_eq(paid_at(a), 0);
}

Test(portal_pay_stripe, signed_webhook_marks_paid_once)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	cr_assert_eq(pay(c, a, NULL), 303);
	char *session = session_of(a);
	char *body = event("evt_http_1", session);
	char sig[256];
	sign(sig, sizeof(sig), WHSEC, now_utc(), body);
	cr_assert_eq(deliver(body, sig), 200);
	int64_t first = paid_at(a);
	cr_assert_gt(first, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path("/appointments/%lld/pay", a), &r), 200);
	cr_assert(has(&r, "This appointment is paid."));
	h_resp_free(&r);

	/* the same delivery again (a replay): accepted, nothing changes */
	cr_assert_eq(deliver(body, sig), 200);
	cr_assert_eq(paid_at(a), first);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM payment_events WHERE payment_id IN (SELECT id "
	                    "FROM payments WHERE appointment_id = ?)",
	                    a),
	             1);
	free(body);
	free(session);
}

Test(portal_pay_stripe, forged_and_stale_webhooks_are_refused)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	cr_assert_eq(pay(c, a, NULL), 303);
	char *session = session_of(a);
	char *body = event("evt_http_forged", session);
	char sig[256];

	sign(sig, sizeof(sig), "whsec_not_the_secret", now_utc(), body);
	cr_assert_eq(deliver(body, sig), 400, "wrong secret");
	cr_assert_eq(deliver(body, "t=1700000000,v1=deadbeef"), 400, "made-up signature");
	cr_assert_eq(deliver(body, ""), 400, "no signature");
	sign(sig, sizeof(sig), WHSEC, now_utc() - 3600, body);
	cr_assert_eq(deliver(body, sig), 400, "a signature an hour old (a replay of an old one)");
	/* a valid signature over another body does not cover this one */
	char *other = event("evt_http_other", "cs_test_unrelated");
	sign(sig, sizeof(sig), WHSEC, now_utc(), other);
	cr_assert_eq(deliver(body, sig), 400, "signature of another body");
	cr_assert_eq(paid_at(a), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM payment_events WHERE payment_id IN (SELECT id "
	                    "FROM payments WHERE appointment_id = ?)",
	                    a),
	             0);
	free(other);
	free(body);
	free(session);
}

Test(portal_pay_stripe, csrf_missing_is_403)
{
	int64_t p = add_account_patient(0, "Anna", "anna@example.test");
	int64_t a = add_appt(p, H.org[0].org_id, "mandatory", PRICE);
	struct h_client *c = patient_client(p, 0);
	struct h_resp r;
	cr_assert_eq(h_post(c, path("/appointments/%lld/pay", a), "", &r), 403);
	h_resp_free(&r);
	pthread_mutex_lock(&api.lock);
	cr_assert_eq(api.requests, 0, "the provider was never called");
	pthread_mutex_unlock(&api.lock);
}
