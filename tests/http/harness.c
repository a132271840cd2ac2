/*
 * harness: starts the real server on a fresh database for one test process
 * and drives it with libcurl. See harness.h for the API. Test code only: it
 * may abort on any setup failure (Criterion reports it) and never touches a
 * database other than its own temporary one (an SQLite file, or with
 * INVITO_TEST_PG a PostgreSQL schema of its own, tests/common/pgtest.h).
 */
#include "harness.h"

#include "../common/pgtest.h"
#include "http/http.h"
#include "http/internal.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pay/pay.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <pthread.h>
#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct harness H;

#define MAX_CLIENTS 32
#define MAX_HEADERS 64

struct h_client {
	CURL *curl;
	char *csrf;      /* derived session token after h_staff_signin */
	char *cookie;    /* scratch for h_cookie */
	char *page_csrf; /* scratch for h_client_csrf */
};

struct resp_priv {
	char *names[MAX_HEADERS], *values[MAX_HEADERS];
	int n;
	char *csrf;
};

static struct h_client *clients[MAX_CLIENTS];
static int nclients;
static int started, i18n_started;

/* --- server ------------------------------------------------------------ */

static void must(int ok, const char *what)
{
	if (!ok)
		cr_assert_fail("harness: %s", what);
}

static void cfg_set(const char *key, const char *value)
{
	char err[256];
	if (config_set(&H.cfg, key, value, err, sizeof(err)) < 0)
		cr_assert_fail("harness: config %s: %s", key, err);
}

static void seed(void)
{
	char hash[crypto_pwhash_STRBYTES];
	/* The weakest Argon2id parameters: verifies like any other hash, costs nothing here. */
	must(crypto_pwhash_str(hash, H_STAFF_PASSWORD, strlen(H_STAFF_PASSWORD),
	                       crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0,
	     "crypto_pwhash_str");
	struct store_conn *c = store_acquire(H.store);
	for (int i = 0; i < H_ORGS; i++) {
		struct h_org *o = &H.org[i];
		snprintf(o->name, sizeof(o->name), "Clinic %d", i);
		snprintf(o->staff_email, sizeof(o->staff_email), "staff%d@clinic%d.test", i, i);
		must(store_insert(c, &o->portal_id,
		                  "INSERT INTO portals (name, base_url) VALUES (?, ?) RETURNING id",
		                  "tt", o->name, H.base) == 0,
		     "insert portal");
		must(store_insert(c, &o->org_id,
		                  "INSERT INTO organisations (kind, portal_id, name) "
		                  "VALUES ('customer', ?, ?) RETURNING id",
		                  "it", o->portal_id, o->name) == 0,
		     "insert organisation");
		char name[64];
		snprintf(name, sizeof(name), "Staff %d", i);
		must(store_staff_add(c, o->org_id, o->staff_email, name, hash, STORE_ROLE_ADMIN,
		                     &o->staff_id) == 0,
		     "store_staff_add");
	}
	store_release(c);
}

void h_start_with(void (*tweak)(struct config *cfg))
{
	const char *lvl = getenv("INVITO_TEST_LOG");
	log_set_level(lvl && strcmp(lvl, "info") == 0 ? LOG_INFO : LOG_WARN);
	must(sodium_init() >= 0, "sodium_init");
	must(curl_global_init(CURL_GLOBAL_DEFAULT) == 0, "curl_global_init");
	memset(&H, 0, sizeof(H));
	/* Defaults, no invito.conf (an empty file instead), then the test settings. */
	must(config_load(&H.cfg, "/dev/null") == 0, "config_load");
	char db[512];
	if (pgtest_server() != NULL) {
		char err[512];
		if (pgtest_schema_create(H.pg_schema, db, sizeof(db), err, sizeof(err)) < 0)
			cr_assert_fail("harness: %s", err);
	} else {
		snprintf(H.dir, sizeof(H.dir), "/tmp/invito-http-XXXXXX");
		must(mkdtemp(H.dir) != NULL, "mkdtemp");
		snprintf(db, sizeof(db), "%s/test.db", H.dir);
	}
	cfg_set("listen", "127.0.0.1");
	cfg_set("port", "0");
	cfg_set("database", db);
	cfg_set("transport", "log");
	cfg_set("threads", "2");
	cfg_set("workers", "2");
	cfg_set("db_pool", "4");
	cfg_set("secure_cookies", "0");
	if (tweak != NULL)
		tweak(&H.cfg);
	if (!i18n_started) {
		i18n_init(H.cfg.locale_dir); /* missing catalogs only mean English pages */
		i18n_started = 1;
	}
	int err = store_open(&H.store, H.cfg.database, H.cfg.db_pool);
	if (err < 0)
		cr_assert_fail("harness: store_open: %s", store_strerror(err));
	H.app.cfg = &H.cfg;
	H.app.store = H.store;
	must(pay_create(&H.app.pay, &H.cfg) == 0, "pay_create");
	must(http_server_start(&H.srv, &H.app) == 0, "http_server_start");
	H.port = http_server_port(H.srv);
	must(H.port > 0, "bound port");
	snprintf(H.base, sizeof(H.base), "http://127.0.0.1:%d", H.port);
	cfg_set("base_url", H.base); /* read by the server per request (Origin checks) */
	started = 1;
	seed();
}

void h_start(void)
{
	h_start_with(NULL);
}

void h_stop_server(void)
{
	if (H.srv != NULL) {
		http_server_stop(H.srv);
		H.srv = NULL;
	}
}

void h_stop(void)
{
	for (int i = 0; i < nclients; i++) {
		curl_easy_cleanup(clients[i]->curl);
		free(clients[i]->csrf);
		free(clients[i]->cookie);
		free(clients[i]->page_csrf);
		free(clients[i]);
	}
	nclients = 0;
	if (!started)
		return;
	h_stop_server();
	pay_free(H.app.pay);
	H.app.pay = NULL;
	store_free(H.store);
	H.store = NULL;
	if (H.pg_schema[0] != '\0') {
		char err[512];
		if (pgtest_schema_drop(H.pg_schema, err, sizeof(err)) < 0)
			cr_log_warn("harness: %s", err);
		H.pg_schema[0] = '\0';
	} else if (H.dir[0] != '\0') {
		const char *suffix[] = {"", "-wal", "-shm", "-journal"};
		for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
			char p[160];
			snprintf(p, sizeof(p), "%s/test.db%s", H.dir, suffix[i]);
			unlink(p);
		}
		rmdir(H.dir);
	}
	config_free(&H.cfg);
	if (i18n_started) {
		i18n_free();
		i18n_started = 0;
	}
	curl_global_cleanup();
	started = 0;
}

struct store_conn *h_db(void)
{
	return store_acquire(H.store);
}

/* --- requests ---------------------------------------------------------- */

struct collect {
	struct buf body, head;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct collect *c = arg;
	return buf_append(&c->body, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct collect *c = arg;
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		buf_reset(&c->head); /* a new response (after 100 Continue): keep only the last */
	return buf_append(&c->head, p, size * n) == 0 ? size * n : 0;
}

/* Sets every option a request uses, back to the defaults for the ones some requests change:
 * the handle is reused (cookies, connection) and never reset. */
static void prepare(CURL *h, const char *url, struct collect *col)
{
	curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L); /* last: the settings above imply POST */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, col);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, col);
}

struct h_client *h_client(void)
{
	must(nclients < MAX_CLIENTS, "too many clients");
	struct h_client *c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	must(c->curl != NULL, "curl_easy_init");
	/* The cookie engine, in memory, once: the handle is never reset (a reset turns the
	 * engine off and each new setting queues a file name that leaks). */
	curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, "");
	clients[nclients++] = c;
	return c;
}

static void parse_headers(struct h_resp *r)
{
	struct resp_priv *p = xcalloc(1, sizeof(*p));
	r->priv = p;
	char *line = r->headers;
	while (line != NULL && *line) {
		char *end = strstr(line, "\r\n");
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *colon = memchr(line, ':', len);
		if (colon != NULL && p->n < MAX_HEADERS && strncmp(line, "HTTP/", 5) != 0) {
			char *v = colon + 1;
			while (v < line + len && (*v == ' ' || *v == '\t'))
				v++;
			p->names[p->n] = strndup(line, (size_t)(colon - line));
			p->values[p->n] = strndup(v, (size_t)(line + len - v));
			p->n++;
		}
		line = end ? end + 2 : NULL;
	}
}

long h_request(struct h_client *c, const char *method, const char *path, const char *content_type,
               const char *body, size_t len, const char *const *headers, struct h_resp *r)
{
	struct collect col;
	struct curl_slist *hl = NULL;
	char url[2048];
	memset(r, 0, sizeof(*r));
	buf_init(&col.body, 0);
	buf_init(&col.head, 0);
	snprintf(url, sizeof(url), "%s%s", H.base, path);
	CURL *h = c->curl;
	prepare(h, url, &col);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	if (content_type != NULL) {
		char ct[256];
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		hl = curl_slist_append(hl, ct);
	}
	for (int i = 0; headers != NULL && headers[i] != NULL; i++)
		hl = curl_slist_append(hl, headers[i]);
	if (hl != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	CURLcode cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	r->len = col.body.len;
	r->body = buf_steal(&col.body);
	r->headers = buf_steal(&col.head);
	parse_headers(r);
	return r->status;
}

long h_get(struct h_client *c, const char *path, struct h_resp *r)
{
	return h_request(c, "GET", path, NULL, NULL, 0, NULL, r);
}

long h_post(struct h_client *c, const char *path, const char *body, struct h_resp *r)
{
	return h_request(c, "POST", path, "application/x-www-form-urlencoded", body, strlen(body),
	                 NULL, r);
}

long h_post_form(struct h_client *c, const char *path, struct h_resp *r, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, 0);
	buf_puts(&b, "");
	va_start(ap, r);
	for (;;) {
		const char *name = va_arg(ap, const char *);
		if (name == NULL)
			break;
		const char *value = va_arg(ap, const char *);
		if (b.len > 0)
			buf_putc(&b, '&');
		buf_urlenc(&b, name);
		buf_putc(&b, '=');
		buf_urlenc(&b, value ? value : "");
	}
	va_end(ap);
	long st = h_post(c, path, b.data, r);
	buf_free(&b);
	return st;
}

/* POSTs the parts that fill(mime, arg) adds. */
static long post_mime(struct h_client *c, const char *path, struct h_resp *r,
                      void (*fill)(curl_mime *mime, void *arg), void *arg)
{
	struct collect col;
	char url[2048];
	memset(r, 0, sizeof(*r));
	buf_init(&col.body, 0);
	buf_init(&col.head, 0);
	snprintf(url, sizeof(url), "%s%s", H.base, path);
	CURL *h = c->curl;
	prepare(h, url, &col);
	curl_mime *mime = curl_mime_init(h);
	fill(mime, arg);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
	curl_mime_free(mime);
	r->len = col.body.len;
	r->body = buf_steal(&col.body);
	r->headers = buf_steal(&col.head);
	parse_headers(r);
	return r->status;
}

static void fill_pairs(curl_mime *mime, void *arg)
{
	va_list *ap = arg;
	for (;;) {
		const char *name = va_arg(*ap, const char *);
		if (name == NULL)
			break;
		const char *value = va_arg(*ap, const char *);
		curl_mimepart *part = curl_mime_addpart(mime);
		curl_mime_name(part, name);
		curl_mime_data(part, value ? value : "", CURL_ZERO_TERMINATED);
	}
}

long h_post_multipart(struct h_client *c, const char *path, struct h_resp *r, ...)
{
	va_list ap;
	va_start(ap, r);
	long st = post_mime(c, path, r, fill_pairs, &ap);
	va_end(ap);
	return st;
}

struct parts {
	const struct h_part *p;
	int n;
};

static void fill_parts(curl_mime *mime, void *arg)
{
	const struct parts *ps = arg;
	for (int i = 0; i < ps->n; i++) {
		const struct h_part *p = &ps->p[i];
		curl_mimepart *part = curl_mime_addpart(mime);
		curl_mime_name(part, p->name);
		curl_mime_data(part, p->value ? p->value : "",
		               p->filename != NULL && p->len > 0 ? p->len : CURL_ZERO_TERMINATED);
		if (p->filename != NULL)
			curl_mime_filename(part, p->filename);
		if (p->type != NULL)
			curl_mime_type(part, p->type);
	}
}

long h_post_parts(struct h_client *c, const char *path, struct h_resp *r,
                  const struct h_part *parts, int n)
{
	struct parts ps = {parts, n};
	return post_mime(c, path, r, fill_parts, &ps);
}

void h_resp_free(struct h_resp *r)
{
	if (r == NULL)
		return;
	struct resp_priv *p = r->priv;
	if (p != NULL) {
		for (int i = 0; i < p->n; i++) {
			free(p->names[i]);
			free(p->values[i]);
		}
		free(p->csrf);
		free(p);
	}
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

const char *h_header(const struct h_resp *r, const char *name)
{
	const struct resp_priv *p = r->priv;
	for (int i = 0; p != NULL && i < p->n; i++)
		if (strcasecmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

int h_header_count(const struct h_resp *r, const char *name)
{
	const struct resp_priv *p = r->priv;
	int n = 0;
	for (int i = 0; p != NULL && i < p->n; i++)
		n += strcasecmp(p->names[i], name) == 0;
	return n;
}

const char *h_csrf(const struct h_resp *r)
{
	struct resp_priv *p = r->priv;
	if (p == NULL || r->body == NULL)
		return NULL;
	if (p->csrf != NULL)
		return p->csrf;
	const char *at = strstr(r->body, "name=\"csrf\"");
	if (at == NULL)
		return NULL;
	const char *tag = at;
	while (tag > r->body && *tag != '<')
		tag--;
	const char *close = strchr(at, '>');
	const char *v = strstr(tag, "value=\"");
	if (v == NULL || (close != NULL && v > close))
		return NULL;
	v += 7;
	const char *e = strchr(v, '"');
	if (e == NULL)
		return NULL;
	p->csrf = strndup(v, (size_t)(e - v));
	return p->csrf;
}

/* --- cookies and sessions ---------------------------------------------- */

const char *h_cookie(struct h_client *c, const char *name)
{
	struct curl_slist *list = NULL;
	const char *found = NULL;
	free(c->cookie);
	c->cookie = NULL;
	curl_easy_getinfo(c->curl, CURLINFO_COOKIELIST, &list);
	for (struct curl_slist *l = list; l != NULL; l = l->next) {
		/* Netscape format: domain, tailmatch, path, secure, expires, name, value. */
		const char *f = l->data;
		for (int i = 0; i < 5 && f != NULL; i++) {
			f = strchr(f, '\t');
			if (f)
				f++;
		}
		if (f == NULL)
			continue;
		const char *tab = strchr(f, '\t');
		if (tab == NULL || (size_t)(tab - f) != strlen(name) ||
		    strncmp(f, name, strlen(name)))
			continue;
		c->cookie = xstrdup(tab + 1);
		found = c->cookie;
		break;
	}
	curl_slist_free_all(list);
	return found;
}

void h_set_cookie(struct h_client *c, const char *name, const char *value)
{
	char line[512];
	snprintf(line, sizeof(line), "127.0.0.1\tFALSE\t/\tFALSE\t0\t%s\t%s", name, value);
	curl_easy_setopt(c->curl, CURLOPT_COOKIELIST, line);
}

void h_staff_signin(struct h_client *c, int org)
{
	must(org >= 0 && org < H_ORGS, "org index");
	h_signin(c, STORE_SESSION_STAFF, H.org[org].staff_id, H.org[org].org_id);
}

void h_signin(struct h_client *c, enum store_session_kind kind, int64_t user_id, int64_t org_id)
{
	unsigned char raw[HTTP_SID_BYTES], hash[32], secret[32];
	char sid[64], secret_hex[65];
	randombytes_buf(raw, sizeof(raw));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2base64(sid, sizeof(sid), raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2hex(secret_hex, sizeof(secret_hex), secret, sizeof(secret));
	must(http_sid_hash(sid, hash) == 0, "sid hash");
	struct store_conn *db = store_acquire(H.store);
	int err = store_session_create(db, hash, kind, user_id, org_id, secret_hex, now_utc());
	store_release(db);
	must(err == 0, "store_session_create");
	h_set_cookie(c, "sid", sid);
	struct arena *a = arena_create();
	struct store_session s = {0};
	s.csrf = secret_hex;
	free(c->csrf);
	c->csrf = xstrdup(http_csrf_for_session(&s, a));
	arena_free(a);
}

const char *h_client_csrf(struct h_client *c)
{
	if (c->csrf != NULL)
		return c->csrf;
	/* Every rendered page carries the token in the layout's language form; a 404 page
	 * is the cheapest one, and it sets the signed-out cookie when there is none. */
	struct h_resp r;
	h_get(c, "/harness-csrf-probe", &r);
	const char *t = h_csrf(&r);
	free(c->page_csrf);
	c->page_csrf = t ? xstrdup(t) : NULL;
	h_resp_free(&r);
	return c->page_csrf;
}

long h_staff_login(struct h_client *c, const char *email, const char *password)
{
	struct h_resp r;
	h_get(c, "/staff/login", &r);
	const char *tok = h_csrf(&r);
	if (tok == NULL) /* already signed in: the page redirects; any page has the token */
		tok = h_client_csrf(c);
	char *csrf = xstrdup(tok ? tok : "");
	h_resp_free(&r);
	long st = h_post_form(c, "/staff/login", &r, "csrf", csrf, "email", email, "password",
	                      password, NULL);
	h_resp_free(&r);
	free(csrf);
	free(c->csrf); /* a real sign-in: the token now comes from pages */
	c->csrf = NULL;
	return st;
}

char *h_read_stderr(void)
{
	FILE *f = cr_get_redirected_stderr();
	int fd = fileno(f);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	size_t cap = 1 << 16, len = 0;
	char *s = calloc(1, cap);
	ssize_t n;
	while ((n = read(fd, s + len, cap - len - 1)) > 0)
		len += (size_t)n;
	return s;
}

/* One client of h_signin_burst: its form token, then its answer. */
struct burst_signer {
	struct h_client *c;
	char *csrf;
	int i;
	pthread_barrier_t *go;
	long status;
	int retry_after;
};

static void *burst_sign_in(void *arg)
{
	struct burst_signer *x = arg;
	struct h_resp r;
	char email[64];
	snprintf(email, sizeof(email), "nobody%d@example.test", x->i);
	pthread_barrier_wait(x->go);
	x->status = h_post_form(x->c, "/staff/login", &r, "csrf", x->csrf, "email", email,
	                        "password", "not the password", NULL);
	x->retry_after = h_header(&r, "Retry-After") != NULL;
	h_resp_free(&r);
	return NULL;
}

void h_signin_burst(int n, long *status, int *retry_after)
{
	struct burst_signer x[H_BURST_MAX];
	pthread_t t[H_BURST_MAX];
	pthread_barrier_t go;
	cr_assert(n > 0 && n <= H_BURST_MAX);
	pthread_barrier_init(&go, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		struct h_resp r;
		x[i] = (struct burst_signer){.c = h_client(), .i = i, .go = &go};
		cr_assert_eq(h_get(x[i].c, "/staff/login", &r), 200);
		x[i].csrf = strdup(h_csrf(&r));
		h_resp_free(&r);
	}
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, burst_sign_in, &x[i]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < n; i++) {
		status[i] = x[i].status;
		retry_after[i] = x[i].retry_after;
		free(x[i].csrf);
	}
	pthread_barrier_destroy(&go);
}
