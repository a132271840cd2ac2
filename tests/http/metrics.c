/*
 * HTTP tests of GET /metrics (src/http/metrics.c, the HTTP_METRICS flag in
 * src/http/server.c, metrics_token in src/config.c): off (404 like any
 * unknown path) without a token; 401 with WWW-Authenticate and nothing about
 * the metrics for a missing or wrong bearer token; with the right one the
 * Prometheus text format, every metric, request counters that grow, the
 * outbox as the database holds it, no organisation's data, hashing refusals
 * counted, and a log without the token. On both backends (make http,
 * make http-pg).
 */
#include "harness.h"

#include "comms/outbox.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "metrics-Token-0123456789abcdef"

static const char *const metric_names[] = {
    "invito_http_requests_total", "invito_http_request_duration_seconds",
    "invito_hash_queue_depth",    "invito_hash_refused_total",
    "invito_outbox_messages",     "invito_outbox_oldest_due_seconds",
    "invito_build_info",          "process_start_time_seconds",
};

static void with_token(struct config *cfg)
{
	free(cfg->metrics_token);
	cfg->metrics_token = strdup(TOKEN);
}

static void init_token(void)
{
	h_start_with(with_token);
}

TestSuite(metrics_off, .init = h_start, .fini = h_stop);
TestSuite(metrics, .init = init_token, .fini = h_stop);

/* GET /metrics with "Authorization: <auth>" (NULL: no header). */
static long scrape_as(struct h_client *c, const char *auth, struct h_resp *r)
{
	char line[256];
	const char *headers[] = {NULL, NULL};
	if (auth != NULL) {
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		headers[0] = line;
	}
	return h_request(c, "GET", "/metrics", NULL, NULL, 0, headers, r);
}

static long scrape(struct h_client *c, struct h_resp *r)
{
	return scrape_as(c, "Bearer " TOKEN, r);
}

/* The value of the sample line "<series> <value>" in a scrape, or -1 when absent. */
static double sample(const char *body, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = body; p != NULL && *p != '\0';) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

static double scrape_sample(struct h_client *c, const char *series)
{
	struct h_resp r;
	cr_assert_eq(scrape(c, &r), 200, "%s", r.body);
	double v = sample(r.body, series);
	h_resp_free(&r);
	return v;
}

/* Scrapes until series reaches at least want (requests are counted when libmicrohttpd reports
 * them complete, which may be a moment after the client has its answer). */
static double wait_for(struct h_client *c, const char *series, double want)
{
	double v = -1;
	for (int i = 0; i < 100; i++) {
		v = scrape_sample(c, series);
		if (v >= want)
			break;
		usleep(10 * 1000);
	}
	return v;
}

static int64_t queue_message(int org, const char *recipient)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(comms_outbox_add(db, H.org[org].org_id, 0, "invitation", "email", recipient,
	                              "Subject", "Body with a link", NULL, now_utc(), &id),
	             0);
	store_release(db);
	return id;
}

static void set_message(int64_t id, const char *state, int64_t next_attempt_at, int64_t created_at)
{
	struct store_conn *db = h_db();
	cr_assert_eq(
	    store_exec(db, NULL,
	               "UPDATE messages SET state = ?, next_attempt_at = ?, created_at = ? "
	               "WHERE id = ?",
	               "tiii", state, next_attempt_at, created_at, id),
	    0);
	store_release(db);
}

/* --- off ---------------------------------------------------------------------- */

Test(metrics_off, without_a_token_it_is_an_unknown_path)
{
	struct h_client *c = h_client();
	struct h_resp r, u;
	/* a first page gives the client its csrf cookie, so both 404 pages carry the same one */
	h_get(c, "/", &r);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/metrics", &r), 404);
	cr_assert_eq(h_get(c, "/metricz", &u), 404);
	/* the page names its own path (the language switch comes back to it) */
	char *z = strstr(u.body, "\"/metricz\"");
	cr_assert_not_null(z);
	z[8] = 's';
	cr_assert_str_eq(r.body, u.body);
	cr_assert_str_eq(h_header(&r, "Content-Type"), h_header(&u, "Content-Type"));
	cr_assert_null(h_header(&r, "WWW-Authenticate"));
	h_resp_free(&r);
	h_resp_free(&u);
	/* a token changes nothing when none is configured, not even an empty one */
	cr_assert_eq(scrape_as(c, "Bearer " TOKEN, &r), 404);
	h_resp_free(&r);
	cr_assert_eq(scrape_as(c, "Bearer ", &r), 404);
	h_resp_free(&r);
	/* other methods as for an unknown path: 404, not 405 naming GET */
	cr_assert_eq(h_post(c, "/metrics", "a=1", &r), 404);
	cr_assert_null(h_header(&r, "Allow"));
	h_resp_free(&r);
	cr_assert_eq(h_request(c, "PUT", "/metrics", NULL, NULL, 0, NULL, &r), 404);
	cr_assert_null(h_header(&r, "Allow"));
	h_resp_free(&r);
}

/* --- refused ------------------------------------------------------------------ */

Test(metrics, a_missing_or_wrong_token_is_401)
{
	struct h_client *c = h_client();
	struct h_resp r;
	static const char *const wrong[] = {
	    NULL,
	    "",
	    "Bearer",
	    "Bearer ",
	    "Bearer wrong",
	    "Bearer " TOKEN "x",
	    "Bearer metrics-Token-0123456789abcde",
	    "Bearer METRICS-TOKEN-0123456789ABCDEF",
	    "Basic " TOKEN,
	    TOKEN,
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		cr_assert_eq(scrape_as(c, wrong[i], &r), 401, "Authorization: %s",
		             wrong[i] ? wrong[i] : "(none)");
		const char *www = h_header(&r, "WWW-Authenticate");
		cr_assert(www != NULL && strncmp(www, "Bearer", 6) == 0, "%s", www ? www : "-");
		cr_assert_null(strstr(r.body, "invito_"), "%s", r.body);
		cr_assert_null(strstr(r.body, "process_"), "%s", r.body);
		h_resp_free(&r);
	}
	/* a staff session is no substitute for the token */
	h_staff_signin(c, 0);
	cr_assert_eq(scrape_as(c, NULL, &r), 401);
	h_resp_free(&r);
	/* neither is a query parameter */
	cr_assert_eq(h_get(c, "/metrics?token=" TOKEN, &r), 401);
	h_resp_free(&r);
	/* the scheme is case-insensitive (RFC 7235) */
	cr_assert_eq(scrape_as(c, "bearer " TOKEN, &r), 200);
	h_resp_free(&r);
}

/* --- the scrape ----------------------------------------------------------------- */

Test(metrics, the_right_token_gets_every_metric)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(scrape(c, &r), 200, "%s", r.body);
	cr_assert_str_eq(h_header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	cr_assert_str_eq(h_header(&r, "Cache-Control"), "no-store");
	for (size_t i = 0; i < sizeof(metric_names) / sizeof(metric_names[0]); i++) {
		char help[128], type[128];
		snprintf(help, sizeof(help), "# HELP %s ", metric_names[i]);
		snprintf(type, sizeof(type), "# TYPE %s ", metric_names[i]);
		cr_expect_not_null(strstr(r.body, help), "no %s", help);
		cr_expect_not_null(strstr(r.body, type), "no %s", type);
	}
	cr_expect_not_null(strstr(r.body, "# TYPE invito_http_requests_total counter\n"));
	cr_expect_not_null(
	    strstr(r.body, "# TYPE invito_http_request_duration_seconds histogram\n"));
	cr_expect_not_null(strstr(r.body, "# TYPE invito_outbox_messages gauge\n"));
	static const char *const series[] = {
	    "invito_http_requests_total{code=\"2xx\"}",
	    "invito_http_requests_total{code=\"3xx\"}",
	    "invito_http_requests_total{code=\"4xx\"}",
	    "invito_http_requests_total{code=\"5xx\"}",
	    "invito_http_request_duration_seconds_bucket{le=\"0.005\"}",
	    "invito_http_request_duration_seconds_bucket{le=\"0.1\"}",
	    "invito_http_request_duration_seconds_bucket{le=\"2.5\"}",
	    "invito_http_request_duration_seconds_bucket{le=\"+Inf\"}",
	    "invito_http_request_duration_seconds_sum",
	    "invito_http_request_duration_seconds_count",
	    "invito_hash_queue_depth",
	    "invito_hash_refused_total",
	    "invito_outbox_messages{state=\"queued\"}",
	    "invito_outbox_messages{state=\"sending\"}",
	    "invito_outbox_messages{state=\"failed\"}",
	    "invito_outbox_messages{state=\"dead\"}",
	    "invito_outbox_oldest_due_seconds",
	    "invito_build_info{version=\"" INVITO_VERSION "\"}",
	    "process_start_time_seconds",
	};
	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
		cr_expect_geq(sample(r.body, series[i]), 0, "no sample %s in\n%s", series[i],
		              r.body);
	/* "sent" would scan the whole table: it is not there */
	cr_expect_null(strstr(r.body, "state=\"sent\""));
	cr_expect_eq(sample(r.body, "invito_build_info{version=\"" INVITO_VERSION "\"}"), 1);
	double start = sample(r.body, "process_start_time_seconds");
	cr_expect(start > (double)now_utc() - 600 && start <= (double)now_utc(), "%f", start);
	/* every line is a comment or a sample, and the text ends with a newline */
	cr_expect_eq(r.body[r.len - 1], '\n');
	h_resp_free(&r);
}

Test(metrics, requests_are_counted_by_class_between_scrapes)
{
	struct h_client *c = h_client();
	struct h_resp r;
	double ok0 = scrape_sample(c, "invito_http_requests_total{code=\"2xx\"}");
	double nf0 = scrape_sample(c, "invito_http_requests_total{code=\"4xx\"}");
	double redir0 = scrape_sample(c, "invito_http_requests_total{code=\"3xx\"}");
	cr_assert_geq(ok0, 0);
	cr_assert_eq(h_get(c, "/healthz", &r), 200);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/no-such-page", &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/no-such-page-either", &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/patients", &r), 303);
	h_resp_free(&r);
	/* the scrapes themselves are 2xx: at least the two before this one and /healthz */
	cr_assert_geq(wait_for(c, "invito_http_requests_total{code=\"2xx\"}", ok0 + 3), ok0 + 3);
	/* the 401s of a wrong token are 4xx like the 404s */
	cr_assert_eq(scrape_as(c, "Bearer nope", &r), 401);
	h_resp_free(&r);
	cr_assert_geq(wait_for(c, "invito_http_requests_total{code=\"4xx\"}", nf0 + 3), nf0 + 3);
	cr_assert_geq(wait_for(c, "invito_http_requests_total{code=\"3xx\"}", redir0 + 1),
	              redir0 + 1);

	/* the histogram: cumulative buckets, +Inf equal to _count, each request in it once */
	cr_assert_eq(scrape(c, &r), 200);
	static const char *const les[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
	                                  "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
	double prev = 0;
	for (size_t i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		char s[96];
		snprintf(s, sizeof(s), "invito_http_request_duration_seconds_bucket{le=\"%s\"}",
		         les[i]);
		double v = sample(r.body, s);
		cr_assert_geq(v, prev, "%s = %f after %f", s, v, prev);
		prev = v;
	}
	double count = sample(r.body, "invito_http_request_duration_seconds_count");
	cr_assert_eq(prev, count);
	cr_assert_geq(count, 8);
	double total = 0;
	static const char *const classes[] = {"2xx", "3xx", "4xx", "5xx"};
	for (size_t i = 0; i < 4; i++) {
		char s[64];
		snprintf(s, sizeof(s), "invito_http_requests_total{code=\"%s\"}", classes[i]);
		total += sample(r.body, s);
	}
	/* both are counted together as each request completes: the same requests */
	cr_assert_eq(total, count, "%f requests, %f in the histogram", total, count);
	cr_assert_geq(sample(r.body, "invito_http_request_duration_seconds_sum"), 0);
	h_resp_free(&r);
}

Test(metrics, the_outbox_as_the_database_holds_it)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(scrape_sample(c, "invito_outbox_messages{state=\"queued\"}"), 0);
	cr_assert_eq(scrape_sample(c, "invito_outbox_oldest_due_seconds"), 0);

	int64_t now = now_utc();
	int64_t a = queue_message(0, "anna.secret@example.test");
	set_message(a, "queued", 0, now - 120); /* never tried: due since it was written */
	cr_assert_eq(scrape(c, &r), 200);
	cr_assert_eq(sample(r.body, "invito_outbox_messages{state=\"queued\"}"), 1);
	double oldest = sample(r.body, "invito_outbox_oldest_due_seconds");
	cr_assert(oldest >= 120 && oldest < 180, "oldest due %f", oldest);
	/* aggregates only: no organisation, recipient or text */
	cr_assert_null(strstr(r.body, "anna.secret"));
	cr_assert_null(strstr(r.body, H.org[0].name));
	cr_assert_null(strstr(r.body, H.org[1].name));
	cr_assert_null(strstr(r.body, "Body with a link"));
	cr_assert_null(strstr(r.body, "Subject"));
	h_resp_free(&r);

	/* a retry due an hour ago, in the other organisation: older, counted too */
	int64_t b = queue_message(1, "bruno@example.test");
	set_message(b, "failed", now - 3600, now - 7200);
	/* a retry not yet due and a message of each other state */
	int64_t f = queue_message(1, "carla@example.test");
	set_message(f, "failed", now + 3600, now - 86400);
	int64_t d = queue_message(0, "dora@example.test");
	set_message(d, "dead", now - 90000, now - 90000);
	int64_t s = queue_message(0, "sara@example.test");
	set_message(s, "sending", now, now - 50000);
	int64_t sent = queue_message(0, "sent@example.test");
	set_message(sent, "sent", now, now - 99999);
	cr_assert_eq(scrape(c, &r), 200);
	cr_assert_eq(sample(r.body, "invito_outbox_messages{state=\"queued\"}"), 1);
	cr_assert_eq(sample(r.body, "invito_outbox_messages{state=\"failed\"}"), 2);
	cr_assert_eq(sample(r.body, "invito_outbox_messages{state=\"dead\"}"), 1);
	cr_assert_eq(sample(r.body, "invito_outbox_messages{state=\"sending\"}"), 1);
	oldest = sample(r.body, "invito_outbox_oldest_due_seconds");
	cr_assert(oldest >= 3600 && oldest < 3660, "oldest due %f", oldest);
	h_resp_free(&r);

	/* nothing due: 0 again */
	set_message(a, "sent", now, now - 120);
	set_message(b, "dead", now, now - 7200);
	cr_assert_eq(scrape(c, &r), 200);
	cr_assert_eq(sample(r.body, "invito_outbox_messages{state=\"queued\"}"), 0);
	cr_assert_eq(sample(r.body, "invito_outbox_messages{state=\"dead\"}"), 2);
	cr_assert_eq(sample(r.body, "invito_outbox_oldest_due_seconds"), 0);
	h_resp_free(&r);
}

/* --- the log ------------------------------------------------------------------- */

Test(metrics_env, the_token_from_the_environment_never_reaches_the_log, .init = cr_redirect_stderr,
     .fini = h_stop)
{
	setenv("INVITO_TEST_LOG", "info", 1);
	/* INVITO_METRICS_TOKEN, as an operator would pass it to a container */
	setenv("INVITO_METRICS_TOKEN", TOKEN, 1);
	h_start();
	cr_assert_str_eq(H.cfg.metrics_token, TOKEN);
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(scrape(c, &r), 200);
	h_resp_free(&r);
	cr_assert_eq(scrape_as(c, "Bearer " TOKEN "WRONGTAIL", &r), 401);
	h_resp_free(&r);
	h_stop_server();
	fflush(stderr);
	char *log = h_read_stderr();
	cr_assert_not_null(strstr(log, "GET /metrics 200"), "log: %s", log);
	cr_assert_not_null(strstr(log, "GET /metrics 401"), "log: %s", log);
	cr_assert_null(strstr(log, TOKEN), "log: %s", log);
	cr_assert_null(strstr(log, "WRONGTAIL"), "log: %s", log);
	cr_assert_null(strstr(log, "Bearer"), "log: %s", log);
	cr_assert_null(strstr(log, "Authorization"), "log: %s", log);
	free(log);
}

Test(metrics_env, a_short_token_is_refused_without_showing_it)
{
	struct config cfg;
	char err[256];
	cr_assert_eq(config_load(&cfg, "/dev/null"), 0);
	cr_assert_eq(config_set(&cfg, "metrics_token", "tiny-Secret", err, sizeof(err)), -1);
	cr_assert_null(strstr(err, "tiny"), "%s", err);
	cr_assert_eq(config_set(&cfg, "metrics_token", "0123456789abcde\n", err, sizeof(err)), -1);
	cr_assert_eq(config_set(&cfg, "metrics_token", TOKEN, err, sizeof(err)), 0);
	cr_assert_eq(config_set(&cfg, "metrics_token", "", err, sizeof(err)), 0);
	config_free(&cfg);
}

/* --- the hashing pool --------------------------------------------------------------- */

/* One hashing thread (a queue of 16): a burst of sign-ins overflows it. */
static void small(struct config *cfg)
{
	with_token(cfg);
	cfg->threads = 2;
	cfg->workers = 1;
}

static void init_small(void)
{
	h_start_with(small);
}

#define BURST 28 /* more than the 16 queued + 1 running; the harness allows 32 clients */

TestSuite(metrics_pool, .init = init_small, .fini = h_stop);

Test(metrics_pool, refusals_of_a_full_hashing_queue_are_counted, .timeout = 60)
{
	struct h_client *m = h_client();
	cr_assert_eq(scrape_sample(m, "invito_hash_refused_total"), 0);
	cr_assert_eq(scrape_sample(m, "invito_hash_queue_depth"), 0);
	double busy0 = scrape_sample(m, "invito_http_requests_total{code=\"5xx\"}");
	long status[BURST];
	int retry_after[BURST], busy = 0;
	h_signin_burst(BURST, status, retry_after);
	for (int i = 0; i < BURST; i++)
		busy += status[i] == 503;
	cr_assert_geq(busy, 1, "a full queue answers 503 (%d of %d did)", busy, BURST);
	cr_assert_eq(scrape_sample(m, "invito_hash_refused_total"), busy);
	cr_assert_eq(wait_for(m, "invito_http_requests_total{code=\"5xx\"}", busy0 + busy),
	             busy0 + busy);
	/* every job has run: the queue is empty again */
	cr_assert_eq(scrape_sample(m, "invito_hash_queue_depth"), 0);
}
