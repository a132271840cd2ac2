/*
 * metrics: the operator's GET /metrics in the Prometheus text exposition
 * format (version 0.0.4): requests answered by status class and their
 * durations, the password-hashing queue, the outbox per state, the version.
 *
 * The request counters are process-wide relaxed atomics, bumped once per
 * request when libmicrohttpd reports it complete (server.c), so the request
 * path takes no lock; a scrape reads each one on its own, so two series may
 * be a request apart, which Prometheus tolerates. The outbox is counted from
 * the database at each scrape, one query per state over the index
 * messages_due (state, next_attempt_at); "sent" is never counted (it is
 * most of the table).
 *
 * It must never show anything of an organisation (names, recipients, texts:
 * only totals over all of them) nor log or echo the metrics token; the
 * route is off (404) until the operator sets one (config.h).
 */
#include "http/internal.h"

#include "app.h"
#include "config.h"
#include "http/handlers.h"
#include "lib/log.h"
#include "lib/util.h"

#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Upper bounds of the duration buckets, microseconds; +Inf is the last bucket. */
static const int64_t bucket_us[] = {5000,   10000,  25000,   50000,  100000,
                                    250000, 500000, 1000000, 2500000};
static const char *const bucket_le[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                        "0.25",  "0.5",  "1",     "2.5"};
#define NBUCKETS (ARRAY_LEN(bucket_us) + 1)

static const char *const classes[] = {"2xx", "3xx", "4xx", "5xx"};

/* The outbox states shown; "sent" is left out on purpose (see the header comment). */
static const char *const outbox_states[] = {"queued", "sending", "failed", "dead"};

static _Atomic uint64_t requests[ARRAY_LEN(classes)];
static _Atomic uint64_t durations[NBUCKETS]; /* per bucket, not cumulative */
static _Atomic uint64_t duration_sum_us;
static _Atomic uint64_t hash_refused;
static _Atomic int64_t started_at;

void http_metrics_start(void)
{
	int64_t zero = 0;
	atomic_compare_exchange_strong(&started_at, &zero, now_utc());
}

int64_t http_metrics_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void http_metrics_request(int status, int64_t us)
{
	if (status >= 200 && status < 600)
		atomic_fetch_add_explicit(&requests[status / 100 - 2], 1, memory_order_relaxed);
	if (us < 0)
		us = 0;
	size_t b = 0;
	while (b < ARRAY_LEN(bucket_us) && us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&durations[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&duration_sum_us, (uint64_t)us, memory_order_relaxed);
}

void http_metrics_hash_refused(void)
{
	atomic_fetch_add_explicit(&hash_refused, 1, memory_order_relaxed);
}

int http_metrics_authorized(const struct http_req *req)
{
	const char *token = req->app->cfg->metrics_token;
	const char *h = http_header(req, "Authorization");
	unsigned char want[32], got[32];
	if (token == NULL || *token == '\0' || h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	/* Hashes of both, so the comparison takes the same time whatever the lengths. */
	crypto_generichash(want, sizeof(want), (const unsigned char *)token, strlen(token), NULL,
	                   0);
	crypto_generichash(got, sizeof(got), (const unsigned char *)h, strlen(h), NULL, 0);
	return sodium_memcmp(want, got, sizeof(want)) == 0;
}

/* The outbox as the database holds it, all organisations together. 0 or a store_err. */
static int outbox_read(struct store_conn *db, int64_t counts[ARRAY_LEN(outbox_states)],
                       int64_t *oldest_due)
{
	int64_t now = now_utc(), since = 0;
	int rc = 0;
	for (size_t i = 0; i < ARRAY_LEN(outbox_states); i++) {
		rc = store_scalar(db, &counts[i], "SELECT COUNT(*) FROM messages WHERE state = ?",
		                  "t", outbox_states[i]);
		if (rc != 0)
			goto out;
	}
	/* A message is written with next_attempt_at 0 (due at once): it has been due since it
	 * was written. A retry is due from its next_attempt_at. Only due rows are read (an index
	 * range), that is the backlog this measures, normally a handful. */
	*oldest_due = 0;
	static const char *const due_states[] = {"queued", "failed"};
	for (size_t i = 0; i < ARRAY_LEN(due_states); i++) {
		rc = store_scalar(db, &since,
		                  "SELECT COALESCE(MIN(CASE WHEN next_attempt_at > 0 THEN "
		                  "next_attempt_at ELSE created_at END), 0) FROM messages "
		                  "WHERE state = ? AND next_attempt_at <= ?",
		                  "ti", due_states[i], now);
		if (rc != 0)
			goto out;
		if (since > 0 && now - since > *oldest_due)
			*oldest_due = now - since;
	}
out:
	return rc;
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format wants it: backslash, double quote and newline escaped. */
static void label_value(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
}

int http_metrics_scrape(struct http_req *req, struct http_resp *resp)
{
	struct http_ctx *ctx = req->internal;
	struct buf *b = &resp->body;
	int64_t counts[ARRAY_LEN(outbox_states)], oldest_due = 0;
	if (req->db == NULL)
		return -1;
	int rc = outbox_read(req->db, counts, &oldest_due);
	if (rc != 0) {
		log_warn("http: metrics: reading the outbox failed: %s", store_strerror(rc));
		return rc;
	}

	head(b, "invito_http_requests_total", "counter",
	     "HTTP requests answered, by status class.");
	for (size_t i = 0; i < ARRAY_LEN(classes); i++)
		buf_printf(
		    b, "invito_http_requests_total{code=\"%s\"} %llu\n", classes[i],
		    (unsigned long long)atomic_load_explicit(&requests[i], memory_order_relaxed));

	head(b, "invito_http_request_duration_seconds", "histogram",
	     "Time from a request's arrival to its last byte sent, as in the access log.");
	uint64_t cumulative = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		cumulative += atomic_load_explicit(&durations[i], memory_order_relaxed);
		buf_printf(b, "invito_http_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
		           i < ARRAY_LEN(bucket_le) ? bucket_le[i] : "+Inf",
		           (unsigned long long)cumulative);
	}
	uint64_t sum = atomic_load_explicit(&duration_sum_us, memory_order_relaxed);
	buf_printf(b, "invito_http_request_duration_seconds_sum %llu.%06llu\n",
	           (unsigned long long)(sum / 1000000), (unsigned long long)(sum % 1000000));
	/* the +Inf bucket, so _count always agrees with the buckets of the same scrape */
	buf_printf(b, "invito_http_request_duration_seconds_count %llu\n",
	           (unsigned long long)cumulative);

	head(b, "invito_hash_queue_depth", "gauge",
	     "Password-hashing jobs waiting for a worker thread.");
	buf_printf(b, "invito_hash_queue_depth %d\n",
	           http_pool_depth(ctx ? http_server_pool(ctx->server) : NULL));
	head(b, "invito_hash_refused_total", "counter",
	     "Requests answered 503 because the password-hashing queue was full.");
	buf_printf(b, "invito_hash_refused_total %llu\n",
	           (unsigned long long)atomic_load_explicit(&hash_refused, memory_order_relaxed));

	head(b, "invito_outbox_messages", "gauge",
	     "Messages in the outbox by state, all customers together (sent ones not counted).");
	for (size_t i = 0; i < ARRAY_LEN(outbox_states); i++)
		buf_printf(b, "invito_outbox_messages{state=\"%s\"} %lld\n", outbox_states[i],
		           (long long)counts[i]);
	head(b, "invito_outbox_oldest_due_seconds", "gauge",
	     "Seconds the longest-waiting due message (queued or failed) has been due; 0 when "
	     "none is.");
	buf_printf(b, "invito_outbox_oldest_due_seconds %lld\n", (long long)oldest_due);

	head(b, "invito_build_info", "gauge", "The running version of invito.");
	buf_puts(b, "invito_build_info{version=\"");
	label_value(b, INVITO_VERSION);
	buf_puts(b, "\"} 1\n");
	head(b, "process_start_time_seconds", "gauge",
	     "Start time of the process since unix epoch in seconds.");
	buf_printf(b, "process_start_time_seconds %lld\n",
	           (long long)atomic_load_explicit(&started_at, memory_order_relaxed));

	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
