/*
 * Tests of src/pay/stripe.c: the checkout against a local stand-in for
 * Stripe's API, a libmicrohttpd server on 127.0.0.1 (an ephemeral port) that
 * records what it receives (method, path, Authorization, Idempotency-Key,
 * Content-Type, the form fields) and answers what the test sets, like the API
 * does: 200 with a session's id and url, or 402/400 with an error object. The
 * checks on the request are made in the test's thread after the call.
 * Suite pay_logs reads back what was logged: no key, secret or signature.
 */
#include "fixture.h"

#include "lib/arena.h"

#include <arpa/inet.h>
#include <criterion/redirect.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

TestSuite(pay_stripe, .init = pf_setup, .fini = pf_teardown);

/* --- the stand-in ------------------------------------------------------------ */

#define REQ_MAX 4

struct seen {
	char method[16], path[128], auth[256], idem[256], ctype[128];
	char body[8192];
	size_t body_len;
};

static struct {
	pthread_mutex_t lock;
	struct MHD_Daemon *d;
	char base[64];
	int requests;
	struct seen seen[REQ_MAX];
	unsigned status; /* what to answer */
	const char *answer;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void copy_hdr(struct MHD_Connection *conn, const char *name, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	snprintf(out, n, "%s", v != NULL ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct seen *s = *con_cls;
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		snprintf(s->method, sizeof(s->method), "%s", method);
		snprintf(s->path, sizeof(s->path), "%s", url);
		copy_hdr(conn, "Authorization", s->auth, sizeof(s->auth));
		copy_hdr(conn, "Idempotency-Key", s->idem, sizeof(s->idem));
		copy_hdr(conn, "Content-Type", s->ctype, sizeof(s->ctype));
		*con_cls = s;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;
		if (s->body_len + n < sizeof(s->body)) {
			memcpy(s->body + s->body_len, upload, n);
			s->body_len += n;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&srv.lock);
	if (srv.requests < REQ_MAX)
		srv.seen[srv.requests] = *s;
	srv.requests++;
	unsigned status = srv.status;
	const char *answer = srv.answer;
	pthread_mutex_unlock(&srv.lock);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(answer), (void *)answer, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void server_start(unsigned status, const char *answer)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.status = status;
	srv.answer = answer;
	srv.requests = 0;
	memset(srv.seen, 0, sizeof(srv.seen));
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	                         on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	                         MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
	cr_assert_not_null(srv.d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	cr_assert_not_null(info);
	snprintf(srv.base, sizeof(srv.base), "http://127.0.0.1:%u", (unsigned)info->port);
}

static void server_stop(void)
{
	MHD_stop_daemon(srv.d);
	srv.d = NULL;
}

/* The decoded value of key in an x-www-form-urlencoded body (arena), or NULL. */
static char *form_get(const char *body, const char *key)
{
	char *copy = arena_strdup(fx_arena, body);
	for (char *save = NULL, *kv = strtok_r(copy, "&", &save); kv != NULL;
	     kv = strtok_r(NULL, "&", &save)) {
		char *dec = arena_alloc(fx_arena, strlen(kv) + 1), *o = dec;
		for (const char *p = kv; *p; p++) {
			if (*p == '+') {
				*o++ = ' ';
			} else if (*p == '%' && p[1] && p[2]) {
				char hex[3] = {p[1], p[2], 0};
				*o++ = (char)strtol(hex, NULL, 16);
				p += 2;
			} else {
				*o++ = *p;
			}
		}
		*o = '\0';
		char *eq = strchr(dec, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(dec, key) == 0)
			return eq + 1;
	}
	return NULL;
}

static void expect_field(const char *body, const char *key, const char *want)
{
	const char *got = form_get(body, key);
	cr_expect(got != NULL && strcmp(got, want) == 0, "%s: want \"%s\", got \"%s\"", key, want,
	          got != NULL ? got : "(missing)");
}

/* --- tests ------------------------------------------------------------------- */

static const char session_answer[] =
    "{\"id\":\"cs_test_a1B2c3D4\",\"object\":\"checkout.session\",\"amount_total\":8000,"
    "\"currency\":\"eur\",\"mode\":\"payment\",\"payment_status\":\"unpaid\","
    "\"status\":\"open\",\"url\":\"https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4#fid\"}";

Test(pay_stripe, checkout_sends_what_stripe_documents)
{
	struct pay *p = NULL;
	struct pay_checkout co;
	int64_t appt = pf_appointment("mandatory", 8000);
	server_start(200, session_answer);
	cr_assert_eq(pay_create(&p, pf_config("stripe", srv.base)), 0);
	int rc = pay_checkout_start(p, fx_conn, appt, "https://portal.example", now_utc(), &co,
	                            fx_arena);
	server_stop();
	cr_assert_eq(rc, 0, "%s", pay_strerror(rc));
	cr_assert_str_eq(co.ref, "cs_test_a1B2c3D4");
	cr_assert_str_eq(co.url, "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4#fid");
	cr_assert_eq(co.amount_cents, 8000);

	cr_assert_eq(srv.requests, 1);
	struct seen *s = &srv.seen[0];
	cr_assert_str_eq(s->method, "POST");
	cr_assert_str_eq(s->path, "/v1/checkout/sessions");
	const char *want_auth = "Bearer " PF_STRIPE_KEY;
	cr_assert_str_eq(s->auth, want_auth);
	cr_assert_str_eq(s->ctype, "application/x-www-form-urlencoded");
	cr_assert(strncmp(s->idem, "invito-payment-", 15) == 0, "Idempotency-Key: %s", s->idem);
	cr_assert_gt(strlen(s->idem), 40);
	const char *b = s->body;
	char *appt_s = arena_printf(fx_arena, "%lld", (long long)appt);
	char *pay_s = arena_printf(fx_arena, "%lld", (long long)co.payment_id);
	expect_field(b, "mode", "payment");
	expect_field(b, "line_items[0][price_data][currency]", "eur");
	expect_field(b, "line_items[0][price_data][unit_amount]", "8000");
	expect_field(b, "line_items[0][price_data][product_data][name]", "Televisita cardiologica");
	expect_field(b, "line_items[0][quantity]", "1");
	expect_field(b, "client_reference_id", pay_s);
	expect_field(b, "metadata[appointment_id]", appt_s);
	expect_field(b, "metadata[payment_id]", pay_s);
	expect_field(b, "success_url",
	             arena_printf(fx_arena,
	                          "https://portal.example/appointments/%s/pay?result=success"
	                          "&session_id={CHECKOUT_SESSION_ID}",
	                          appt_s));
	expect_field(b, "cancel_url",
	             arena_printf(fx_arena,
	                          "https://portal.example/appointments/%s/pay?result=cancel",
	                          appt_s));
	/* the key is a header, never a field */
	cr_assert_null(strstr(b, "sk_test"));

	/* the attempt is recorded, pending; nothing is paid by starting a checkout */
	cr_assert_str_eq(pf_state(co.payment_id), "pending");
	cr_assert_eq(pf_paid_at(appt), 0);
	struct store_stmt *st = NULL;
	cr_assert_eq(store_query(fx_conn, &st,
	                         "SELECT provider, provider_ref, amount_cents, currency, "
	                         "appointment_id FROM payments WHERE id = ?",
	                         "i", co.payment_id),
	             0);
	cr_assert_eq(store_step(st), 1);
	cr_assert_str_eq(store_col_text(st, 0), "stripe");
	cr_assert_str_eq(store_col_text(st, 1), "cs_test_a1B2c3D4");
	cr_assert_eq(store_col_int(st, 2), 8000);
	cr_assert_str_eq(store_col_text(st, 3), "EUR");
	cr_assert_eq(store_col_int(st, 4), appt);
	store_done(st);

	/* a second attempt: its own row and its own idempotency key */
	char first_key[256];
	snprintf(first_key, sizeof(first_key), "%s", s->idem);
	static const char second[] = "{\"id\":\"cs_test_second\",\"url\":\"https://checkout.stripe"
	                             ".com/c/pay/cs_test_second\"}";
	server_start(200, second);
	pay_free(p); /* a new port */
	cr_assert_eq(pay_create(&p, pf_config("stripe", srv.base)), 0);
	struct pay_checkout co2;
	cr_assert_eq(pay_checkout_start(p, fx_conn, appt, NULL, now_utc(), &co2, fx_arena), 0);
	server_stop();
	cr_assert_neq(co2.payment_id, co.payment_id);
	cr_assert_str_neq(srv.seen[0].idem, first_key);
	/* NULL portal base: the configured base_url */
	expect_field(srv.seen[0].body, "cancel_url",
	             arena_printf(fx_arena,
	                          "http://127.0.0.1:8080/appointments/%s/pay?result=cancel",
	                          appt_s));
	pay_free(p);
}

/* Stripe's error shape, e.g. https://docs.stripe.com/api/errors */
static void refused(unsigned status, const char *answer, const char *want_error)
{
	struct pay *p = NULL;
	struct pay_checkout co;
	int64_t appt = pf_appointment("mandatory", 8000);
	server_start(status, answer);
	cr_assert_eq(pay_create(&p, pf_config("stripe", srv.base)), 0);
	int rc = pay_checkout_start(p, fx_conn, appt, NULL, now_utc(), &co, fx_arena);
	server_stop();
	cr_assert_eq(rc, PAY_PROVIDER, "%s", pay_strerror(rc));
	cr_assert_eq(srv.requests, 1);
	cr_assert_str_eq(co.error, want_error);
	cr_assert_null(co.url);
	cr_assert_null(co.ref);
	cr_assert_str_eq(pf_state(co.payment_id), "failed");
	cr_assert_eq(pf_paid_at(appt), 0);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM payments WHERE appointment_id = ? AND "
	                      "provider_ref IS NOT NULL",
	                      appt),
	             0);
	pay_free(p);
}

Test(pay_stripe, card_declined_402)
{
	refused(402,
	        "{\"error\":{\"type\":\"card_error\",\"code\":\"card_declined\","
	        "\"message\":\"Your card was declined.\"}}",
	        "card_error/card_declined");
}

Test(pay_stripe, invalid_request_400)
{
	refused(400,
	        "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Missing required "
	        "param: line_items[0][price_data][currency].\",\"param\":\"line_items\"}}",
	        "invalid_request_error");
}

Test(pay_stripe, bad_key_401)
{
	refused(401,
	        "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API Key "
	        "provided: sk_test_****Key\"}}",
	        "invalid_request_error");
}

Test(pay_stripe, answers_that_are_not_a_session)
{
	refused(200, "<html>maintenance</html>", "unreadable answer");
}

Test(pay_stripe, answer_with_a_non_https_url)
{
	refused(200, "{\"id\":\"cs_test_x\",\"url\":\"javascript:alert(1)\"}",
	        "answer without a session id or https url");
}

Test(pay_stripe, unreachable_provider)
{
	struct pay *p = NULL;
	struct pay_checkout co;
	int64_t appt = pf_appointment("mandatory", 8000);
	/* a port that was just free: nothing listens there now */
	server_start(200, session_answer);
	char base[64];
	snprintf(base, sizeof(base), "%s", srv.base);
	server_stop();
	cr_assert_eq(pay_create(&p, pf_config("stripe", base)), 0);
	cr_assert_eq(pay_checkout_start(p, fx_conn, appt, NULL, now_utc(), &co, fx_arena),
	             PAY_PROVIDER);
	cr_assert_str_eq(co.error, "provider unreachable");
	cr_assert_str_eq(pf_state(co.payment_id), "failed");
	cr_assert_eq(pf_paid_at(appt), 0);
	pay_free(p);
}

Test(pay_stripe, nothing_due_calls_nobody)
{
	struct pay *p = NULL;
	struct pay_checkout co;
	server_start(200, session_answer);
	cr_assert_eq(pay_create(&p, pf_config("stripe", srv.base)), 0);
	int64_t none = pf_appointment("none", 8000), free_appt = pf_appointment("optional", 0);
	int64_t paid = pf_appointment("mandatory", 8000);
	cr_assert_eq(store_exec(fx_conn, NULL, "UPDATE appointments SET paid_at = 1 WHERE id = ?",
	                        "i", paid),
	             0);
	int64_t cancelled = pf_appointment("mandatory", 8000);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE appointments SET status = 'cancelled' WHERE id = ?", "i",
	                        cancelled),
	             0);
	cr_assert_eq(pay_checkout_start(p, fx_conn, none, NULL, now_utc(), &co, fx_arena),
	             PAY_NOTHING_DUE);
	cr_assert_eq(pay_checkout_start(p, fx_conn, free_appt, NULL, now_utc(), &co, fx_arena),
	             PAY_NOTHING_DUE);
	cr_assert_eq(pay_checkout_start(p, fx_conn, paid, NULL, now_utc(), &co, fx_arena),
	             PAY_NOTHING_DUE);
	cr_assert_eq(pay_checkout_start(p, fx_conn, cancelled, NULL, now_utc(), &co, fx_arena),
	             PAY_NOTHING_DUE);
	cr_assert_eq(pay_checkout_start(p, fx_conn, 999999, NULL, now_utc(), &co, fx_arena),
	             PAY_NOTFOUND);
	server_stop();
	cr_assert_eq(srv.requests, 0);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM payments WHERE id > ?", 0), 0);
	pay_free(p);
}

Test(pay_stripe, checkout_then_webhook_marks_paid)
{
	struct pay *p = NULL;
	struct pay_checkout co;
	struct pay_result r;
	char h[256];
	int64_t appt = pf_appointment("mandatory", 8000);
	server_start(200, session_answer);
	cr_assert_eq(pay_create(&p, pf_config("stripe", srv.base)), 0);
	cr_assert_eq(pay_checkout_start(p, fx_conn, appt, NULL, now_utc(), &co, fx_arena), 0);
	server_stop();
	const char *body = arena_printf(
	    fx_arena,
	    "{\"id\":\"evt_1Q\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"data\":{\"object\":{\"id\":\"%s\",\"object\":\"checkout.session\","
	    "\"amount_total\":8000,\"currency\":\"eur\",\"client_reference_id\":\"%lld\","
	    "\"metadata\":{\"appointment_id\":\"%lld\"},\"payment_status\":\"paid\"}}}",
	    co.ref, (long long)co.payment_id, (long long)appt);
	pf_sign(h, sizeof(h), PF_SECRET, now_utc(), body);
	cr_assert_eq(pay_webhook(p, fx_conn, h, body, strlen(body), now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_PAID);
	cr_assert_eq(r.appointment_id, appt);
	cr_assert_str_eq(pf_state(co.payment_id), "succeeded");
	cr_assert_neq(pf_paid_at(appt), 0);
	/* paid now: no further checkout */
	cr_assert_eq(pay_checkout_start(p, fx_conn, appt, NULL, now_utc(), &co, fx_arena),
	             PAY_NOTHING_DUE);
	pay_free(p);
}

/* Its own suite (no fixture init: the test sets up after redirecting stderr).
 * Everything pay/ logs while failing in the ways most likely to leak: no secret in it. */
static void capture_stderr(void)
{
	cr_redirect_stderr();
}

Test(pay_logs, secrets_never_logged, .init = capture_stderr)
{
	pf_setup();
	struct pay *p = NULL;
	struct pay_checkout co;
	struct pay_result r;
	int64_t appt = pf_appointment("mandatory", 8000);
	server_start(401, "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid "
	                  "API Key provided: " PF_STRIPE_KEY "\"}}");
	cr_assert_eq(pay_create(&p, pf_config("stripe", srv.base)), 0);
	cr_assert_eq(pay_checkout_start(p, fx_conn, appt, NULL, now_utc(), &co, fx_arena),
	             PAY_PROVIDER);
	server_stop();
	const char *body = "{\"id\":\"evt_s\",\"type\":\"checkout.session.completed\"}";
	char h[256];
	pf_sign(h, sizeof(h), PF_SECRET, now_utc() - 1000, body);
	cr_assert_eq(pay_webhook(p, fx_conn, h, body, strlen(body), now_utc(), &r), PAY_STALE);
	pay_free(p);
	struct pay *bad = NULL;
	struct config *cfg = pf_config("stripe", NULL);
	cfg->stripe_webhook_secret = (char *)"";
	cr_assert_eq(pay_create(&bad, cfg), PAY_CONFIG);
	pf_teardown();
	fflush(stderr);

	FILE *f = cr_get_redirected_stderr();
	char log[65536];
	size_t n = fread(log, 1, sizeof(log) - 1, f);
	log[n] = '\0';
	cr_assert_not_null(strstr(log, "stripe refused the checkout"), "%s", log);
	cr_assert_null(strstr(log, "sk_test_51"), "%s", log);
	cr_assert_null(strstr(log, "whsec_"), "%s", log);
	cr_assert_null(strstr(log, h), "%s", log);
}
