/*
 * http internal: what the files of src/http/ share among themselves (the
 * per-request state the server keeps, the worker pool, path decoding, the
 * session hash and CSRF derivation, the access-log formatter). Handlers never
 * include this header: they see only http.h. Nothing here may log a token,
 * a cookie or a body.
 */
#ifndef INVITO_HTTP_INTERNAL_H
#define INVITO_HTTP_INTERNAL_H

#include "http.h"

#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
struct http_pool;

/* The server's state for one request; req->internal points here. Lives in the request's arena. */
struct http_ctx {
	struct http_server *server;
	struct MHD_Connection *conn;
	struct http_req req;
	struct http_resp resp;
	const struct http_route *route; /* NULL until matched */
	const char *raw_uri;            /* as received; never logged */
	struct buf body;                /* the request body, capped at cfg->max_body */
	int64_t start_ms;
	int64_t start_us;     /* the same moment, finer, for the duration histogram */
	int started;          /* the access handler has seen this request */
	int too_large;        /* the body passed max_body: answer 413 */
	int suspended;        /* waiting for http_blocking() work */
	int answered;         /* a response was queued */
	int status;           /* for the access log */
	uint64_t bytes;       /* body bytes sent, for the access log */
	uint64_t discarded;   /* request body bytes dropped after passing max_body */
	const char *log_path; /* path as the access log may print it */
	int api;              /* the path is an HTTP_APIKEY route's: errors in JSON, small body */
};

/* --- router.c ----------------------------------------------------------- */

/* Percent-decodes a raw URL path (no query) into the arena. -1 when it does not start with "/",
 * holds a malformed escape, a NUL (raw or %00) or another control character. */
int http_path_decode(const char *raw, size_t n, char **out, struct arena *a);

/* Finds the route for method + path. Returns it and fills params, or NULL: then *path_known is
 * 1 when some route matches the path with another method (405), and allow (may be NULL) gets the
 * comma-separated list of those methods. HEAD matches GET routes. */
const struct http_route *http_route_find(const char *method, const char *path, const char **params,
                                         int *nparams, int *path_known, struct buf *allow,
                                         struct arena *a);

/* The route matching path for any method (for log redaction), or NULL. */
const struct http_route *http_route_for_path(const char *path, struct arena *a);

/* The path as the access log may show it: for an HTTP_TOKEN route only the literal prefix of
 * its pattern followed by "…" ("/i/{token}" gives "/i/…"); other paths with control characters
 * and quotes replaced and cut at 200 bytes. Never a query string. */
const char *http_log_path(const char *path, const struct http_route *route, struct arena *a);

/* One access-log line: `METHOD PATH STATUS MSms BYTESb` (no query, no cookies, no body). */
void http_access_line(struct buf *out, const char *method, const char *log_path, int status,
                      int64_t ms, uint64_t bytes);

/* --- response.c --------------------------------------------------------- */

/* 1 when s is a local path a redirect may go to: starts with "/", not "//" or "/\\", no control
 * characters, no backslash. */
int http_local_path(const char *s);
/* 1 when name is an HTTP token and value holds no CR, LF or other control character but tab. */
int http_header_ok(const char *name, const char *value);

/* --- session.c ---------------------------------------------------------- */

#define HTTP_SID_BYTES 32

/* Decodes a "sid" cookie (32 random bytes, base64url without padding) and hashes it with
 * BLAKE2b-256. 0 on success, -1 when the cookie is not a well-formed session id. */
int http_sid_hash(const char *sid, unsigned char out[32]);
/* The CSRF token forms carry for a signed-in session, derived from its secret (arena). */
char *http_csrf_for_session(const struct store_session *s, struct arena *a);
/* A fresh random token, base64url (arena): used for the signed-out "csrf" cookie. */
char *http_random_token(struct arena *a);
/* 1 when the two tokens are equal (constant time in their length). */
int http_token_equal(const char *a, const char *b);
/* Sets req->csrf_token for a signed-out request from the "csrf" cookie, setting a new cookie
 * on resp when there is none or it is malformed. */
void http_csrf_anonymous(struct http_req *req, struct http_resp *resp);

/* --- pool.c ------------------------------------------------------------- */

/* A bounded pool: `workers` threads, at most `cap` queued jobs. 0 or -1. */
int http_pool_create(struct http_pool **out, int workers, int cap);
/* Runs every queued job, joins the threads, frees. Accepts NULL. */
void http_pool_free(struct http_pool *p);
/* Queues work(arg); when done, conn is resumed. Suspends conn first (the caller is inside the
 * access handler). -1 when the queue is full or the pool is stopping (conn stays active). */
int http_pool_submit(struct http_pool *p, struct MHD_Connection *conn, void (*work)(void *arg),
                     void *arg);
/* Jobs queued and not yet taken by a worker. */
int http_pool_depth(struct http_pool *p);

/* --- metrics.c ---------------------------------------------------------- */

/* Notes when the server started (process_start_time_seconds); later calls change nothing. */
void http_metrics_start(void);
/* A monotonic clock in microseconds, for request durations. */
int64_t http_metrics_now_us(void);
/* Counts one answered request: its status and the microseconds from its start to its
 * completion. Lock-free (relaxed atomics): called on every request. */
void http_metrics_request(int status, int64_t us);
/* Counts a hashing job refused because the pool's queue was full (answered 503). */
void http_metrics_hash_refused(void);
/* 1 when req carries "Authorization: Bearer <cfg->metrics_token>" (constant time), else 0;
 * 0 too when no token is configured. Never logs the header. */
int http_metrics_authorized(const struct http_req *req);

/* --- server.c ----------------------------------------------------------- */

struct http_pool *http_server_pool(struct http_server *s);

#endif
