/*
 * server: the libmicrohttpd daemon (epoll, its own thread pool) and the life
 * of one request: arena, body (capped at max_body), path and query, route,
 * cookies, form or multipart body, database connection, portal (from the Host
 * header, portal_host.c), session, language,
 * sign-in and CSRF checks from the route's flags, the handler, the security
 * headers, the access log, and the clean-up when libmicrohttpd says the
 * request is complete.
 *
 * It must never: print a token, a cookie, a query string or a body in the
 * log; send a response without the security headers; run slow work (password
 * hashing) on a libmicrohttpd thread (see pool.c); keep a database connection
 * while a request is suspended.
 */
#include "http/internal.h"

#include "app.h"
#include "config.h"
#include "http/handlers.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define POOL_QUEUE_PER_WORKER 16
#define CONN_MEMORY_LIMIT     (128 * 1024)
#define CONN_TIMEOUT_SECS     30
#define DRAIN_TIMEOUT_SECS    10
#define TOUCH_EVERY_SECS      60
#define DISCARD_FACTOR        4 /* times max_body read and dropped after a 413 */

static const char csp[] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                          "base-uri 'none'";

struct http_server {
	struct app *app;
	struct MHD_Daemon *daemon;
	struct http_pool *pool;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int inflight; /* requests begun and not yet completed */
	int port;
};

struct http_pool *http_server_pool(struct http_server *s)
{
	return s ? s->pool : NULL;
}

/* --- request state ------------------------------------------------------ */

static struct http_ctx *ctx_new(struct http_server *s, const char *uri)
{
	struct arena *a = arena_create();
	struct http_ctx *ctx = arena_alloc(a, sizeof(*ctx));
	ctx->server = s;
	ctx->req.arena = a;
	ctx->req.app = s->app;
	ctx->req.internal = ctx;
	ctx->raw_uri = arena_strdup(a, uri ? uri : "");
	ctx->start_ms = now_ms();
	ctx->start_us = http_metrics_now_us();
	ctx->log_path = "-";
	buf_init(&ctx->body, (size_t)s->app->cfg->max_body);
	buf_init(&ctx->resp.body, 0);
	pthread_mutex_lock(&s->lock);
	s->inflight++;
	pthread_mutex_unlock(&s->lock);
	return ctx;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)conn;
	return ctx_new(cls, uri);
}

static const char *safe_method(const char *m)
{
	if (m == NULL || *m == '\0' || strlen(m) > 16)
		return "-";
	for (const char *p = m; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return "-";
	return m;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_ctx *ctx = *con_cls;
	(void)conn;
	if (ctx == NULL)
		return;
	*con_cls = NULL;
	if (ctx->started) {
		struct buf line;
		buf_init(&line, 4096);
		http_access_line(&line, safe_method(ctx->req.method), ctx->log_path, ctx->status,
		                 now_ms() - ctx->start_ms, ctx->bytes);
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
			buf_puts(&line, " (aborted)");
		log_info("http %s", line.data ? line.data : "");
		buf_free(&line);
	}
	/* over the same span as the access log's time: from the URI to the last byte */
	if (ctx->started && ctx->answered)
		http_metrics_request(ctx->status, http_metrics_now_us() - ctx->start_us);
	if (ctx->req.db != NULL)
		store_release(ctx->req.db);
	buf_free(&ctx->body);
	buf_free(&ctx->resp.body);
	arena_free(ctx->req.arena); /* ctx itself lives in the arena */
	pthread_mutex_lock(&s->lock);
	s->inflight--;
	if (s->inflight == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

/* --- sending ------------------------------------------------------------ */

static int has_header(const struct http_kv *h, const char *name)
{
	for (; h != NULL; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return 1;
	return 0;
}

static enum MHD_Result send_response(struct http_ctx *ctx)
{
	struct http_resp *resp = &ctx->resp;
	if (resp->status == 0)
		resp->status = 200;
	size_t len = resp->body.len;
	char *data = buf_steal(&resp->body);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
	                        resp->content_type ? resp->content_type
	                                           : "text/html; charset=utf-8");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (!has_header(resp->headers, "Cache-Control"))
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (resp->location != NULL && http_local_path(resp->location))
		MHD_add_response_header(r, "Location", resp->location);
	for (const struct http_kv *h = resp->headers; h != NULL; h = h->next)
		if (http_header_ok(h->name, h->value))
			MHD_add_response_header(r, h->name, h->value);
	enum MHD_Result ok = MHD_queue_response(ctx->conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	/* The answer is built (libmicrohttpd copied the headers and owns the body): give the
	 * database connection back now rather than in completed(). completed() runs from this
	 * thread's event loop once the bytes are sent, and that loop may first run other
	 * handlers that wait in store_acquire(): a connection held by an answered request is
	 * then given back only by a thread that is waiting for one. A server under 50 sign-ins
	 * a second was found stopped once with every HTTP thread and the dispatcher waiting in
	 * store_acquire() and no connection free. */
	if (ctx->req.db != NULL) {
		store_release(ctx->req.db);
		ctx->req.db = NULL;
	}
	ctx->answered = 1;
	ctx->status = resp->status;
	ctx->bytes = len;
	return ok;
}

/* The JSON error of an HTTP_APIKEY route: {"error": "..."} with a fixed text per status. */
static void api_error(struct http_ctx *ctx, int status)
{
	static const struct {
		int status;
		const char *text;
	} texts[] = {
	    {400, "bad request"},
	    {401, "unauthorized"},
	    {404, "not found"},
	    {405, "method not allowed"},
	    {413, "request body too large"},
	    {415, "unsupported media type"},
	    {503, "busy, try again"},
	};
	const char *text = "internal error";
	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		if (texts[i].status == status)
			text = texts[i].text;
	ctx->resp.status = status;
	ctx->resp.content_type = "application/json";
	buf_printf(&ctx->resp.body, "{\"error\": \"%s\"}\n", text);
	if (status == 401)
		http_add_header(&ctx->req, &ctx->resp, "WWW-Authenticate",
		                "Bearer realm=\"invito\"");
	if (status == 503)
		http_add_header(&ctx->req, &ctx->resp, "Retry-After", "5");
}

/* Throws away what a handler put in the response and answers with an error page (JSON on
 * an API route). */
static enum MHD_Result send_error(struct http_ctx *ctx, int status)
{
	ctx->resp.headers = NULL;
	ctx->resp.location = NULL;
	ctx->resp.content_type = NULL;
	buf_reset(&ctx->resp.body);
	if (ctx->api)
		api_error(ctx, status);
	else
		http_error(&ctx->req, &ctx->resp, status);
	return send_response(ctx);
}

/* HTTP_APIKEY: "Authorization: Bearer KEY" of a live key sets req->api_org. 0, or -1 for a
 * missing, malformed, unknown or revoked key alike. */
static int api_auth(struct http_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	const char *h = http_header(req, "Authorization");
	unsigned char hash[32];
	struct store_apikey k;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	h += 7;
	while (*h == ' ')
		h++;
	if (http_apikey_hash(h, hash) != 0)
		return -1;
	int rc = store_apikey_find(req->db, hash, now_utc(), &k);
	if (rc != 0) {
		if (rc != STORE_NOTFOUND)
			log_warn("http: API key lookup failed: %s", store_strerror(rc));
		return -1;
	}
	req->api_org = k.org_id;
	req->api_key_id = k.id;
	return 0;
}

/* HTTP_METRICS without the operator's token: a plain 401, nothing about the metrics. */
static enum MHD_Result metrics_refused(struct http_ctx *ctx)
{
	ctx->resp.headers = NULL;
	ctx->resp.location = NULL;
	buf_reset(&ctx->resp.body);
	ctx->resp.status = 401;
	ctx->resp.content_type = "text/plain; charset=utf-8";
	buf_puts(&ctx->resp.body, "unauthorized\n");
	http_add_header(&ctx->req, &ctx->resp, "WWW-Authenticate", "Bearer realm=\"invito\"");
	return send_response(ctx);
}

/* --- parsing ------------------------------------------------------------ */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct http_req *req = cls;
	(void)kind;
	if (key == NULL)
		return MHD_YES;
	struct http_kv *kv = arena_alloc(req->arena, sizeof(*kv));
	kv->name = arena_strdup(req->arena, key);
	kv->value = arena_strdup(req->arena, value ? value : "");
	kv->value_len = strlen(kv->value);
	/* Prepend, then reverse below: keeps the order sent. */
	kv->next = req->headers;
	req->headers = kv;
	return MHD_YES;
}

static void read_headers(struct http_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	MHD_get_connection_values(ctx->conn, MHD_HEADER_KIND, collect_header, req);
	struct http_kv *rev = NULL;
	while (req->headers != NULL) {
		struct http_kv *next = req->headers->next;
		req->headers->next = rev;
		rev = req->headers;
		req->headers = next;
	}
	req->headers = rev;
	/* Cookies: every Cookie header, in order. */
	struct http_kv **tail = &req->cookies;
	for (struct http_kv *h = req->headers; h != NULL; h = h->next) {
		if (strcasecmp(h->name, "Cookie") != 0)
			continue;
		http_parse_cookies(h->value, tail, req->arena);
		while (*tail != NULL)
			tail = &(*tail)->next;
	}
}

static void read_client_ip(struct http_ctx *ctx)
{
	char ip[INET6_ADDRSTRLEN] = "-";
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(ctx->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
			          &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
			          sizeof(ip));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
			          &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
			          sizeof(ip));
	}
	ctx->req.ip = arena_strdup(ctx->req.arena, ip);
}

/* One multipart part being collected. */
struct part {
	char *key, *filename, *content_type;
	struct buf data;
};

struct multipart {
	struct part *parts;
	size_t n, cap;
	size_t max;
	int failed;
};

static enum MHD_Result multipart_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *filename, const char *content_type,
                                      const char *transfer_encoding, const char *data, uint64_t off,
                                      size_t size)
{
	struct multipart *mp = cls;
	(void)kind;
	(void)transfer_encoding;
	if (key == NULL)
		return MHD_YES;
	if (off == 0 || mp->n == 0) {
		if (mp->n == mp->cap) {
			mp->cap = mp->cap ? mp->cap * 2 : 8;
			mp->parts = xrealloc(mp->parts, mp->cap * sizeof(struct part));
		}
		struct part *p = &mp->parts[mp->n++];
		memset(p, 0, sizeof(*p));
		p->key = xstrdup(key);
		p->filename = filename ? xstrdup(filename) : NULL;
		p->content_type = content_type ? xstrdup(content_type) : NULL;
		buf_init(&p->data, mp->max);
	}
	if (size > 0 && buf_append(&mp->parts[mp->n - 1].data, data, size) < 0) {
		mp->failed = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

static int parse_multipart(struct http_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	struct multipart mp = {0};
	int rc = -1;
	mp.max = ctx->body.max;
	struct MHD_PostProcessor *pp =
	    MHD_create_post_processor(ctx->conn, 16 * 1024, multipart_iter, &mp);
	if (pp == NULL)
		goto out;
	enum MHD_Result ok =
	    MHD_post_process(pp, ctx->body.data ? ctx->body.data : "", ctx->body.len);
	if (MHD_destroy_post_processor(pp) != MHD_YES || ok != MHD_YES || mp.failed)
		goto out;
	struct http_kv **ftail = &req->form;
	struct http_file **utail = &req->files;
	for (size_t i = 0; i < mp.n; i++) {
		struct part *p = &mp.parts[i];
		const char *data = p->data.data ? p->data.data : "";
		if (p->filename != NULL) {
			struct http_file *f = arena_alloc(req->arena, sizeof(*f));
			f->field = arena_strdup(req->arena, p->key);
			f->filename = arena_strdup(req->arena, p->filename);
			f->content_type =
			    arena_strdup(req->arena, p->content_type ? p->content_type
			                                             : "application/octet-stream");
			f->data = arena_strndup(req->arena, data, p->data.len);
			f->len = p->data.len;
			*utail = f;
			utail = &f->next;
		} else {
			struct http_kv *kv = arena_alloc(req->arena, sizeof(*kv));
			kv->name = arena_strdup(req->arena, p->key);
			kv->value = arena_strndup(req->arena, data, p->data.len);
			kv->value_len = p->data.len;
			*ftail = kv;
			ftail = &kv->next;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < mp.n; i++) {
		free(mp.parts[i].key);
		free(mp.parts[i].filename);
		free(mp.parts[i].content_type);
		buf_free(&mp.parts[i].data);
	}
	free(mp.parts);
	return rc;
}

static int content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Form or multipart body into req->form / req->files; the raw body into req->body. */
static int parse_body(struct http_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	if (ctx->body.len == 0)
		return 0;
	req->body = arena_strndup(req->arena, ctx->body.data, ctx->body.len);
	req->body_len = ctx->body.len;
	const char *ct = http_header(req, "Content-Type");
	if (content_type_is(ct, "application/x-www-form-urlencoded"))
		return http_parse_urlencoded(req->body, req->body_len, &req->form, req->arena);
	if (content_type_is(ct, "multipart/form-data"))
		return parse_multipart(ctx);
	return 0;
}

/* --- checks ------------------------------------------------------------- */

static int unsafe_method(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* 1 when the Origin header is absent, "null" (sent for same-origin POSTs under
 * Referrer-Policy: no-referrer) or our own origin. */
static int origin_ok(const struct http_req *req)
{
	const char *origin = http_header(req, "Origin");
	if (origin == NULL || strcmp(origin, "null") == 0)
		return 1;
	const char *base = req->app->cfg->base_url;
	if (base != NULL && strcasecmp(origin, base) == 0)
		return 1;
	const char *host = http_header(req, "Host");
	if (host == NULL || *host == '\0')
		return 0;
	const char *rest = NULL;
	if (strncasecmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	return rest != NULL && strcasecmp(rest, host) == 0;
}

static void load_session(struct http_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	const struct config *cfg = req->app->cfg;
	unsigned char hash[32];
	if (req->db == NULL || http_sid_hash(http_cookie(req, "sid"), hash) < 0)
		return;
	struct store_session *s = arena_alloc(req->arena, sizeof(*s));
	int64_t now = now_utc();
	int err = store_session_get(req->db, hash, now, cfg->session_idle, cfg->session_absolute, s,
	                            req->arena);
	if (err < 0) {
		if (err != STORE_NOTFOUND)
			log_warn("http: session lookup failed: %s", store_strerror(err));
		return;
	}
	/* a patient session of another host's portal is treated as signed out (portal_host.c) */
	if (!http_portal_session_ok(req, s))
		return;
	if (now - s->last_seen >= TOUCH_EVERY_SECS && store_session_touch(req->db, s->id, now) == 0)
		s->last_seen = now;
	req->session = s;
}

/* 303 to the sign-in page; with_next adds ?next=path[?query] for a GET, to come back to. */
static void redirect_to_login(struct http_ctx *ctx, const char *login, int with_next)
{
	struct http_req *req = &ctx->req;
	struct buf b;
	buf_init(&b, 8192);
	buf_puts(&b, login);
	if (with_next && strcmp(req->method, "GET") == 0) {
		const char *q = strchr(ctx->raw_uri, '?');
		const char *next = q ? arena_printf(req->arena, "%s%s", req->path, q) : req->path;
		buf_puts(&b, "?next=");
		buf_urlenc(&b, next);
	}
	http_redirect(&ctx->resp, b.overflow ? login : arena_strdup(req->arena, b.data));
	buf_free(&b);
}

/* --- the access handler ------------------------------------------------- */

static int needs_db(const struct http_route *r)
{
	return r == NULL || r->handler != http_static;
}

/* 1 when the configuration turns route r off: it is then answered as an unknown path. */
static int route_off(const struct config *cfg, const struct http_route *r)
{
	if (r == NULL)
		return 0;
	if ((r->flags & HTTP_DEV) && strcmp(cfg->transport, "log") != 0)
		return 1;
	return (r->flags & HTTP_METRICS) && cfg->metrics_token[0] == '\0';
}

/* Runs the handler and answers; called again after a resumption. */
static enum MHD_Result run_handler(struct http_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	if (req->db == NULL && needs_db(ctx->route))
		req->db = store_acquire(req->app->store);
	int rc = ctx->route->handler(req, &ctx->resp);
	if (rc == HTTP_SUSPEND) {
		if (ctx->suspended)
			return MHD_YES; /* http_blocking() took it; we are called back */
		log_error("http: handler for %s returned HTTP_SUSPEND without http_blocking()",
		          ctx->route->pattern);
		return send_error(ctx, 500);
	}
	if (rc < 0 && store_conn_full(req->db)) {
		/* Said as what it is, so staff call whoever runs the server instead of retrying. */
		log_error("http: %s: the database's disk is full, answered 507",
		          ctx->route->pattern);
		return send_error(ctx, 507);
	}
	if (rc < 0 && store_conn_busy(req->db)) {
		/* The database stayed locked past the timeout: a temporary state, said as one. */
		log_warn("http: %s: database busy, answered 503", ctx->route->pattern);
		return send_error(ctx, 503);
	}
	if (rc < 0) {
		log_error("http: handler for %s failed (%d)", ctx->route->pattern, rc);
		return send_error(ctx, 500);
	}
	return send_response(ctx);
}

static enum MHD_Result process(struct http_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	const struct config *cfg = req->app->cfg;

	if (ctx->too_large)
		return send_error(ctx, 413);

	const char *q = strchr(ctx->raw_uri, '?');
	size_t plen = q ? (size_t)(q - ctx->raw_uri) : strlen(ctx->raw_uri);
	char *path;
	if (http_path_decode(ctx->raw_uri, plen, &path, req->arena) < 0)
		return send_error(ctx, 400);
	req->path = path;
	if (q != NULL && http_parse_urlencoded(q + 1, strlen(q + 1), &req->query, req->arena) < 0)
		return send_error(ctx, 400);

	int known = 0;
	struct buf allow;
	buf_init(&allow, 1024);
	ctx->route = http_route_find(req->method, req->path, req->params, &req->nparams, &known,
	                             &allow, req->arena);
	/* The session, for pages and for error pages alike (a signed-in 404 keeps its layout). */
	if (ctx->route == NULL || needs_db(ctx->route)) {
		req->db = store_acquire(req->app->store);
		/* the Host header picks among configured portals, nothing more */
		http_portal_resolve(req);
		load_session(ctx);
	}
	if (req->session != NULL && req->session->lang != NULL)
		req->lang = i18n_pick(http_cookie(req, "lang"), req->session->lang,
		                      http_header(req, "Accept-Language"));
	if (req->session != NULL) {
		req->csrf_token = http_csrf_for_session(req->session, req->arena);
	} else {
		const char *c = http_cookie(req, "csrf");
		req->csrf_token = c != NULL && strlen(c) == 43 ? c : NULL;
	}

	if (ctx->route == NULL || route_off(cfg, ctx->route)) {
		int status = 404;
		/* a route turned off does not exist for any method: 404, not 405 naming GET */
		if (ctx->route == NULL && known &&
		    !route_off(cfg, http_route_for_path(req->path, req->arena))) {
			status = 405;
			http_add_header(req, &ctx->resp, "Allow", allow.data ? allow.data : "");
		}
		buf_free(&allow);
		if (ctx->api)
			api_error(ctx, status);
		else
			http_error(req, &ctx->resp, status);
		return send_response(ctx);
	}
	buf_free(&allow);
	req->flags = ctx->route->flags;

	if (parse_body(ctx) < 0)
		return send_error(ctx, 400);

	if (req->flags & HTTP_APIKEY) {
		/* the key travels with each request, nothing ambient: no CSRF, no Origin check */
		if (req->db == NULL)
			req->db = store_acquire(req->app->store);
		if (api_auth(ctx) != 0) {
			if (store_conn_busy(req->db))
				return send_error(ctx, 503);
			return send_error(ctx, 401);
		}
		if (ctx->body.len > HTTP_API_MAX_BODY)
			return send_error(ctx, 413);
		return run_handler(ctx);
	}

	if (req->flags & HTTP_METRICS) {
		/* the token travels with each scrape, nothing ambient: no CSRF, no Origin check */
		if (!http_metrics_authorized(req))
			return metrics_refused(ctx);
		return run_handler(ctx);
	}

	if ((req->flags & HTTP_STAFF) &&
	    (req->session == NULL || req->session->kind != STORE_SESSION_STAFF)) {
		redirect_to_login(ctx, "/staff/login", 0);
		return send_response(ctx);
	}
	if ((req->flags & HTTP_PATIENT) &&
	    (req->session == NULL || req->session->kind != STORE_SESSION_PATIENT)) {
		redirect_to_login(ctx, "/login", 1);
		return send_response(ctx);
	}
	if (unsafe_method(req->method)) {
		if (!origin_ok(req)) {
			log_warn("http: refused a cross-origin %s", safe_method(req->method));
			return send_error(ctx, 403);
		}
		if ((req->flags & HTTP_CSRF) &&
		    !http_token_equal(http_form(req, "csrf"), req->csrf_token))
			return send_error(ctx, 403);
	}
	return run_handler(ctx);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
	struct http_server *s = cls;
	struct http_ctx *ctx = *con_cls;
	(void)version;
	if (ctx == NULL) /* no URI log call (should not happen): start here */
		*con_cls = ctx = ctx_new(s, url);
	if (!ctx->started) {
		ctx->started = 1;
		ctx->conn = conn;
		ctx->req.method = arena_strdup(ctx->req.arena, method);
		read_headers(ctx);
		read_client_ip(ctx);
		ctx->req.lang = i18n_pick(http_cookie(&ctx->req, "lang"), NULL,
		                          http_header(&ctx->req, "Accept-Language"));
		/* What the access log may show: the path without query, token routes redacted. */
		const char *q = strchr(ctx->raw_uri, '?');
		size_t plen = q ? (size_t)(q - ctx->raw_uri) : strlen(ctx->raw_uri);
		char *path;
		if (http_path_decode(ctx->raw_uri, plen, &path, ctx->req.arena) == 0) {
			const struct http_route *lr = http_route_for_path(path, ctx->req.arena);
			ctx->log_path = http_log_path(path, lr, ctx->req.arena);
			ctx->api = lr != NULL && (lr->flags & HTTP_APIKEY);
		} else {
			ctx->log_path = "(malformed)";
		}
		const char *cl = http_header(&ctx->req, "Content-Length");
		int64_t n = 0;
		if (cl != NULL && parse_i64(cl, 0, INT64_MAX, &n) < 0)
			return send_error(ctx, 400);
		if (n > (ctx->api ? HTTP_API_MAX_BODY : s->app->cfg->max_body)) {
			ctx->too_large = 1;
			return send_error(ctx, 413); /* before the body is read */
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!ctx->too_large && !ctx->answered && ctx->api &&
		    ctx->body.len + *upload_data_size > HTTP_API_MAX_BODY) {
			ctx->too_large = 1;
			buf_free(&ctx->body);
		}
		if (!ctx->too_large && !ctx->answered &&
		    buf_append(&ctx->body, upload_data, *upload_data_size) < 0) {
			ctx->too_large = 1;
			buf_free(&ctx->body);
		}
		if (ctx->too_large) {
			/* A body without Content-Length that outgrew the limit is read and dropped
			 * so the client gets its 413, but only up to a bound: past it, hang up. */
			ctx->discarded += *upload_data_size;
			if (ctx->discarded > DISCARD_FACTOR * (uint64_t)s->app->cfg->max_body)
				return MHD_NO;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (ctx->answered)
		return MHD_YES;
	if (ctx->suspended) {
		ctx->suspended = 0;
		ctx->req.resumed = 1;
		return run_handler(ctx);
	}
	return process(ctx);
}

/* --- daemon ------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("microhttpd: %s", msg);
}

int http_server_start(struct http_server **out, struct app *app)
{
	const struct config *cfg = app->cfg;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	unsigned flags =
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, cfg->listen, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)cfg->port);
		sa = (const struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, cfg->listen, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)cfg->port);
		sa = (const struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else {
		log_error("http: listen address \"%s\" is not an IPv4 or IPv6 address",
		          cfg->listen);
		return -1;
	}
	if (sodium_init() < 0) {
		log_error("http: libsodium failed to start");
		return -1;
	}
	http_metrics_start();
	struct http_server *s = xcalloc(1, sizeof(*s));
	s->app = app;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (http_pool_create(&s->pool, cfg->workers, cfg->workers * POOL_QUEUE_PER_WORKER) < 0)
		goto fail;
	s->daemon = MHD_start_daemon(
	    flags, (uint16_t)cfg->port, NULL, NULL, access_handler, s, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, s, /* first, so every message goes through it */
	    MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_log, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_SECS,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (s->daemon == NULL) {
		log_error("http: cannot listen on %s port %d", cfg->listen, cfg->port);
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : cfg->port;
	*out = s;
	return 0;
fail:
	http_pool_free(s->pool);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return -1;
}

int http_server_port(const struct http_server *s)
{
	return s ? s->port : 0;
}

void http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	/* Stop accepting; let in-flight requests finish (bounded), then the pool (it resumes
	 * every suspended connection), then the daemon. */
	MHD_socket fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DRAIN_TIMEOUT_SECS;
	pthread_mutex_lock(&s->lock);
	while (s->inflight > 0)
		if (pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == ETIMEDOUT)
			break;
	if (s->inflight > 0)
		log_warn("http: stopping with %d requests still in flight", s->inflight);
	pthread_mutex_unlock(&s->lock);
	http_pool_free(s->pool);
	MHD_stop_daemon(s->daemon);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
