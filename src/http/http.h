/*
 * http: the web server (libmicrohttpd, epoll, its own thread pool) and what a
 * handler needs: the request, the response, forms, cookies, sessions, CSRF,
 * rendering, errors. Handlers never talk to libmicrohttpd directly.
 *
 * A request owns an arena (req->arena) freed when libmicrohttpd reports the
 * request complete, and a database connection (req->db) given back then.
 * Every response gets the security headers (CSP, frame-ancestors 'none',
 * Referrer-Policy no-referrer, X-Content-Type-Options nosniff). The access log
 * never prints a token, a password or the query of a token route.
 */
#ifndef INVITO_HTTP_H
#define INVITO_HTTP_H

#include "../lib/buf.h"
#include "../store/store.h"

#include <stdint.h>

struct app;
struct arena;
struct view;
struct http_server;

/* A name/value list (query, form fields, cookies, extra headers). */
struct http_kv {
	const char *name, *value;
	size_t value_len; /* form values may hold NULs in uploads */
	struct http_kv *next;
};

/* One multipart upload. */
struct http_file {
	const char *field, *filename, *content_type;
	const char *data; /* NUL-terminated copy in the arena */
	size_t len;
	struct http_file *next;
};

struct http_req {
	struct app *app;
	struct arena *arena;
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* decoded path, no query */
	const char *ip;
	const char *params[4]; /* path parameters, in the order of {} in the route pattern */
	int nparams;
	struct http_kv *query, *form, *cookies;
	struct http_file *files;
	struct store_conn *db;         /* taken for this request */
	struct store_session *session; /* NULL when signed out */
	const char *lang;              /* "it" or "en" for this request */
	const char *csrf_token;        /* the value forms must carry in field "csrf" */
	unsigned flags;                /* the matched route's flags */
	int resumed;                   /* 1 when called again after http_blocking() */
	void *cont;                    /* the handler's own state across a suspension */
	void *internal;                /* the server's, not the handler's */
	struct http_kv *headers;       /* request headers; use http_header() (case-insensitive) */
	const char *body;              /* the raw body (NUL-terminated, arena), e.g. for JSON */
	size_t body_len;
	struct store_portal *portal; /* this request's portal (portal_host.c); NULL: static files */
	int portal_strict; /* 1: portals have hosts; another portal's things are refused */
	int64_t api_org, api_key_id; /* HTTP_APIKEY routes: the key's organisation and id */
};

struct http_resp {
	int status;
	struct buf body;
	const char *content_type; /* default "text/html; charset=utf-8" */
	const char *location;     /* for redirects */
	struct http_kv *headers;  /* extra headers; Set-Cookie goes here too */
};

/* Handler result: 0 when resp is filled, HTTP_SUSPEND after http_blocking(), negative for 500. */
#define HTTP_SUSPEND 1
typedef int (*http_handler)(struct http_req *req, struct http_resp *resp);

/* Route flags. */
enum {
	HTTP_STAFF = 1u << 0,   /* staff session required (else redirect to /staff/login) */
	HTTP_PATIENT = 1u << 1, /* patient session required (else redirect to /login?next=) */
	HTTP_CSRF = 1u << 2,    /* unsafe methods must carry a valid CSRF token (403 otherwise) */
	HTTP_TOKEN = 1u << 3,   /* the path holds a secret: the access log prints the prefix only */
	HTTP_DEV = 1u << 4,     /* only when the transport is "log" (else 404) */
	/* an organisation API key in "Authorization: Bearer" (401 JSON otherwise) sets
	 * req->api_org; no session, no CSRF or Origin check (nothing ambient to forge), a
	 * body of at most HTTP_API_MAX_BODY (413), errors answered in JSON */
	HTTP_APIKEY = 1u << 5,
	/* the operator's metrics_token in "Authorization: Bearer" (401 otherwise), compared in
	 * constant time; while metrics_token is unset the route is answered as an unknown path
	 * (404). No session needed, no CSRF or Origin check: Prometheus has no cookies */
	HTTP_METRICS = 1u << 6,
};

/* Largest request body of an HTTP_APIKEY route: one appointment is far smaller. */
#define HTTP_API_MAX_BODY 16384

struct http_route {
	const char *method;  /* "GET", "POST" */
	const char *pattern; /* "/staff/patients/{id}": {x} matches one non-empty segment */
	http_handler handler;
	unsigned flags;
};

/* The one route table (routes.c). */
extern const struct http_route http_routes[];
extern const int http_nroutes;

/* --- server ------------------------------------------------------------ */

/* Starts listening on cfg->listen:port (port 0: any free port, see http_server_port). */
int http_server_start(struct http_server **out, struct app *app);
int http_server_port(const struct http_server *s);
/* Stops accepting, drains in-flight requests, frees. Accepts NULL. */
void http_server_stop(struct http_server *s);

/* Matches path against pattern; fills params (max 4). 1 on match, 0 otherwise. */
int http_match(const char *pattern, const char *path, const char **params, int *nparams,
               struct arena *a);

/* --- request helpers ---------------------------------------------------- */

const char *http_query(const struct http_req *req, const char *name);
const char *http_form(const struct http_req *req, const char *name);
const char *http_cookie(const struct http_req *req, const char *name);
const char *http_header(const struct http_req *req, const char *name);
/* Path parameter i parsed as a positive id; -1 when not a valid id. */
int64_t http_param_id(const struct http_req *req, int i);

/* Parses application/x-www-form-urlencoded text into a list (arena). -1 when malformed. */
int http_parse_urlencoded(const char *s, size_t n, struct http_kv **out, struct arena *a);
/* Parses a Cookie header. */
int http_parse_cookies(const char *s, struct http_kv **out, struct arena *a);

/* --- response helpers --------------------------------------------------- */

void http_add_header(struct http_req *req, struct http_resp *resp, const char *name,
                     const char *value);
/* HttpOnly; SameSite=Lax; Path=/; Secure when configured. max_age < 0 deletes. */
void http_set_cookie(struct http_req *req, struct http_resp *resp, const char *name,
                     const char *value, int64_t max_age);
/* 303 See Other to a local path (must start with "/" and not "//"). */
void http_redirect(struct http_resp *resp, const char *location);
/* Renders web/templates/<name> inside the layout, with lang, csrf and the signed-in user
 * added to the view. Returns 0, or negative (then the caller answers 500). */
int http_render(struct http_req *req, struct http_resp *resp, int status, const char *name,
                struct view *v);
/* A clean error page for 400/403/404/405/413/500/503. */
void http_error(struct http_req *req, struct http_resp *resp, int status);

/* --- sessions ----------------------------------------------------------- */

/* Starts a fresh session (a new random token; any previous one is deleted). */
int http_session_start(struct http_req *req, struct http_resp *resp, enum store_session_kind kind,
                       int64_t user_id, int64_t org_id);
void http_session_end(struct http_req *req, struct http_resp *resp);

/* --- blocking work ------------------------------------------------------ */

/*
 * Runs work(arg) on the worker pool (password hashing) while the connection is
 * suspended; the handler returns HTTP_SUSPEND right after. When work is done
 * the handler is called again with req->resumed = 1 (keep state in req->cont).
 * When the pool's queue is full, returns -1: answer 503 with Retry-After.
 */
int http_blocking(struct http_req *req, void (*work)(void *arg), void *arg);

/* --- API keys (apikey.c) ----------------------------------------------- */

/* "ivk_" and 43 base64url characters (32 random bytes). */
#define HTTP_APIKEY_CHARS 47
/* A new key into key (printed once, never stored) and the BLAKE2b-256 of its text. */
void http_apikey_new(char key[HTTP_APIKEY_CHARS + 1], unsigned char hash[32]);
/* The hash of a presented key; -1 when it is not shaped like one (then nothing matches). */
int http_apikey_hash(const char *key, unsigned char hash[32]);

/* --- portals (portal_host.c) ------------------------------------------- */

/* Sets req->portal from the Host header (server.c, once per request, before the session):
 * the portal whose configured host it is, else the default (lowest id). Never builds a link. */
void http_portal_resolve(struct http_req *req);
/* 1 when something of portal_id (a session, a link) may be served on this request, 0 when
 * another host's portal owns it (treat it as absent). With no host configured anywhere it
 * is always 1 and req->portal becomes that portal. */
int http_portal_allows(struct http_req *req, int64_t portal_id);
/* 1 when the session may be used here: staff always; a patient only on their own portal. */
int http_portal_session_ok(struct http_req *req, const struct store_session *s);
/* req->portal's id, or 0 (account.h: "the first portal") when there is none. */
int64_t http_portal_id(const struct http_req *req);
/* GET /portal/{id}/theme.css: the portal's primary colour as --brand, the logo's size. */
int http_portal_theme(struct http_req *req, struct http_resp *resp);
/* GET /portal/{id}/logo: the portal's logo image (404 without one). */
int http_portal_logo(struct http_req *req, struct http_resp *resp);

#endif
