/*
 * HTTP tests of the server core (src/http/): health, 404/405, security
 * headers on every response, body limits, malformed forms, CSRF and Origin
 * checks, header injection, static files, local-only redirects, sign-in
 * flags and the access log.
 */
#include "harness.h"

#include "http/http.h"
#include "http/internal.h"
#include "lib/arena.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(server, .init = h_start, .fini = h_stop);

static void assert_security_headers(const struct h_resp *r)
{
	const char *csp = h_header(r, "Content-Security-Policy");
	cr_assert_not_null(csp, "CSP missing on %ld", r->status);
	cr_assert_not_null(strstr(csp, "default-src 'self'"));
	cr_assert_not_null(strstr(csp, "frame-ancestors 'none'"));
	cr_assert_not_null(strstr(csp, "form-action 'self'"));
	cr_assert_not_null(strstr(csp, "base-uri 'none'"));
	cr_assert_str_eq(h_header(r, "Referrer-Policy"), "no-referrer");
	cr_assert_str_eq(h_header(r, "X-Content-Type-Options"), "nosniff");
}

Test(server, healthz)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/healthz", &r), 200);
	cr_assert_str_eq(r.body, "ok\n");
	cr_assert_not_null(strstr(h_header(&r, "Content-Type"), "text/plain"));
	assert_security_headers(&r);
	h_resp_free(&r);
	cr_assert_eq(h_request(c, "HEAD", "/healthz", NULL, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, 0);
	h_resp_free(&r);
}

Test(server, not_found_page)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/no/such/page", &r), 404);
	assert_security_headers(&r);
	cr_assert_str_eq(h_header(&r, "Cache-Control"), "no-store");
	cr_assert_not_null(strstr(h_header(&r, "Content-Type"), "text/html"));
	cr_assert_not_null(strstr(r.body, "404"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/healthz/", &r), 404, "a trailing slash is another path");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff//patients", &r), 404);
	h_resp_free(&r);
}

Test(server, method_not_allowed_has_allow)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_post(c, "/healthz", "a=1", &r), 405);
	cr_assert_str_eq(h_header(&r, "Allow"), "GET, HEAD");
	assert_security_headers(&r);
	h_resp_free(&r);
	cr_assert_eq(h_request(c, "DELETE", "/lang", NULL, NULL, 0, NULL, &r), 405);
	cr_assert_str_eq(h_header(&r, "Allow"), "POST");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/lang", &r), 405);
	h_resp_free(&r);
}

Test(server, internal_error_is_clean_and_has_headers)
{
	/* A store failure inside a handler: the staff list without its table. */
	struct h_client *c = h_client();
	struct h_resp r;
	h_staff_signin(c, 0);
	struct store_conn *db = h_db();
	if (H.pg_schema[0] != '\0') {
		cr_assert_eq(store_exec(db, NULL, "DROP TABLE patients CASCADE", ""), 0);
	} else {
		cr_assert_eq(store_exec(db, NULL, "PRAGMA foreign_keys = OFF", ""), 0);
		cr_assert_eq(store_exec(db, NULL, "DROP TABLE patients", ""), 0);
	}
	store_release(db);
	cr_assert_eq(h_get(c, "/staff/patients", &r), 500);
	assert_security_headers(&r);
	cr_assert_str_eq(h_header(&r, "Cache-Control"), "no-store");
	cr_assert_null(strstr(r.body, "sqlite"), "no internals on the page");
	cr_assert_null(strstr(r.body, "SELECT"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/healthz", &r), 200, "the server carries on");
	h_resp_free(&r);
}

Test(server, oversized_body_413)
{
	struct h_client *c = h_client();
	struct h_resp r;
	size_t n = (size_t)H.cfg.max_body + 10;
	char *big = malloc(n);
	memset(big, 'a', n);
	memcpy(big, "x=", 2);
	/* With Expect: 100-continue the answer comes before the body is sent. */
	static const char *const expect[] = {"Expect: 100-continue", NULL};
	cr_assert_eq(
	    h_request(c, "POST", "/lang", "application/x-www-form-urlencoded", big, n, expect, &r),
	    413);
	assert_security_headers(&r);
	h_resp_free(&r);
	/* Chunked, no Content-Length: caught while reading. */
	static const char *const chunked[] = {"Transfer-Encoding: chunked", "Expect:", NULL};
	cr_assert_eq(
	    h_request(c, "POST", "/lang", "application/x-www-form-urlencoded", big, n, chunked, &r),
	    413);
	h_resp_free(&r);
	free(big);
	/* Far past the limit without Content-Length: dropped (413 or a hang-up), never stored. */
	size_t huge_n = (size_t)H.cfg.max_body * 6;
	char *huge = calloc(1, huge_n);
	memset(huge, 'b', huge_n);
	long st = h_request(c, "POST", "/lang", "application/x-www-form-urlencoded", huge, huge_n,
	                    chunked, &r);
	cr_assert(st == 413 || st == 0, "status %ld", st);
	h_resp_free(&r);
	free(huge);
	/* The server is still fine. */
	cr_assert_eq(h_get(h_client(), "/healthz", &r), 200);
	h_resp_free(&r);
}

Test(server, malformed_form_400)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_post(c, "/lang", "lang=%zz", &r), 400);
	assert_security_headers(&r);
	h_resp_free(&r);
	cr_assert_eq(h_post(c, "/lang", "lang=en&back=%", &r), 400);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/healthz?x=%G0", &r), 400, "a malformed query is a 400 too");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/heal%zzthz", &r), 400);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/healthz%00", &r), 400);
	h_resp_free(&r);
}

/* Loads a page so the client gets its signed-out "csrf" cookie; returns the token. */
static char *anon_token(struct h_client *c)
{
	struct h_resp r;
	h_get(c, "/no-such-page-for-a-token", &r);
	const char *form = h_csrf(&r);
	const char *cookie = h_cookie(c, "csrf");
	cr_assert_not_null(cookie, "a signed-out page sets the csrf cookie");
	if (form != NULL)
		cr_assert_str_eq(form, cookie, "the page's forms carry the cookie's token");
	char *t = strdup(cookie);
	h_resp_free(&r);
	return t;
}

Test(server, csrf_required)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "en", NULL), 403, "no token");
	assert_security_headers(&r);
	h_resp_free(&r);
	char *tok = anon_token(c);
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "en", NULL), 403, "cookie but no field");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "en", "csrf", "wrong", NULL), 403);
	h_resp_free(&r);
	char wrong[64];
	snprintf(wrong, sizeof(wrong), "%s", tok);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "en", "csrf", wrong, NULL), 403,
	             "same length, one byte off");
	h_resp_free(&r);
	cr_assert_eq(
	    h_post_form(c, "/lang", &r, "lang", "en", "csrf", tok, "back", "/staff/login", NULL),
	    303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	cr_assert_str_eq(h_cookie(c, "lang"), "en");
	h_resp_free(&r);
	/* Another browser's token is useless here. */
	struct h_client *other = h_client();
	char *tok2 = anon_token(other);
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "it", "csrf", tok2, NULL), 403);
	h_resp_free(&r);
	free(tok);
	free(tok2);
}

Test(server, csrf_signed_in_uses_session_token)
{
	struct h_client *c = h_client();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "en", "csrf", "x", NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "en", "csrf", h_client_csrf(c), NULL),
	             303);
	h_resp_free(&r);
}

Test(server, multipart_form)
{
	struct h_client *c = h_client();
	struct h_resp r;
	char *tok = anon_token(c);
	cr_assert_eq(
	    h_post_multipart(c, "/lang", &r, "csrf", tok, "lang", "en", "back", "/healthz", NULL),
	    303);
	cr_assert_str_eq(h_header(&r, "Location"), "/healthz");
	h_resp_free(&r);
	cr_assert_eq(h_post_multipart(c, "/lang", &r, "csrf", "bad", "lang", "en", NULL), 403);
	h_resp_free(&r);
	free(tok);
}

Test(server, cross_origin_post_refused)
{
	struct h_client *c = h_client();
	struct h_resp r;
	char *tok = anon_token(c);
	char body[256];
	snprintf(body, sizeof(body), "lang=en&csrf=%s", tok);
	static const char *const evil[] = {"Origin: https://evil.example", NULL};
	cr_assert_eq(h_request(c, "POST", "/lang", "application/x-www-form-urlencoded", body,
	                       strlen(body), evil, &r),
	             403);
	assert_security_headers(&r);
	h_resp_free(&r);
	char own[128];
	snprintf(own, sizeof(own), "Origin: %s", H.base);
	const char *const same[] = {own, NULL};
	cr_assert_eq(h_request(c, "POST", "/lang", "application/x-www-form-urlencoded", body,
	                       strlen(body), same, &r),
	             303);
	h_resp_free(&r);
	/* Browsers send "Origin: null" for same-origin posts under Referrer-Policy: no-referrer. */
	static const char *const null_origin[] = {"Origin: null", NULL};
	cr_assert_eq(h_request(c, "POST", "/lang", "application/x-www-form-urlencoded", body,
	                       strlen(body), null_origin, &r),
	             303);
	h_resp_free(&r);
	free(tok);
}

Test(server, redirect_is_local_only)
{
	struct h_client *c = h_client();
	struct h_resp r;
	char *tok = anon_token(c);
	const char *bad[] = {"//evil.example",
	                     "/\\evil.example",
	                     "https://evil.example/",
	                     "evil.example",
	                     "/\t/evil.example",
	                     "javascript:alert(1)",
	                     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(
		    h_post_form(c, "/lang", &r, "lang", "en", "csrf", tok, "back", bad[i], NULL),
		    303);
		cr_assert_str_eq(h_header(&r, "Location"), "/", "back=%s", bad[i]);
		h_resp_free(&r);
	}
	free(tok);
}

Test(server, header_injection_refused)
{
	struct h_client *c = h_client();
	struct h_resp r;
	char *tok = anon_token(c);
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "en", "csrf", tok, "back",
	                         "/x\r\nSet-Cookie: evil=1", NULL),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"), "/");
	cr_assert_null(strstr(r.headers, "evil"));
	h_resp_free(&r);
	free(tok);

	/* The helper itself refuses CR/LF in any header value or a bad name. */
	struct http_req req = {0};
	struct http_resp resp = {0};
	req.arena = arena_create();
	http_add_header(&req, &resp, "X-Test", "a\r\nSet-Cookie: evil=1");
	http_add_header(&req, &resp, "X-Test", "a\nb");
	http_add_header(&req, &resp, "Bad Name", "ok");
	http_add_header(&req, &resp, "X-Bad:", "ok");
	cr_assert_null(resp.headers);
	http_add_header(&req, &resp, "X-Test", "fine\tvalue");
	cr_assert_not_null(resp.headers);
	http_set_cookie(&req, &resp, "lang", "en; Domain=evil.example", 10);
	cr_assert_null(resp.headers->next, "a cookie value with ';' is refused");
	arena_free(req.arena);
}

Test(server, static_files)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/static/app.css", &r), 200);
	cr_assert_str_eq(h_header(&r, "Content-Type"), "text/css; charset=utf-8");
	cr_assert_str_eq(h_header(&r, "Cache-Control"), "public, max-age=86400");
	cr_assert_gt(r.len, 0);
	assert_security_headers(&r);
	h_resp_free(&r);
	const char *bad[] = {"/static/../Makefile",
	                     "/static/%2e%2e/Makefile",
	                     "/static/..%2fMakefile",
	                     "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
	                     "/static/missing.css",
	                     "/static/.hidden.css",
	                     "/static/app.css%00.txt",
	                     "/static/",
	                     "/static/..",
	                     "/static/app.css/",
	                     "/static/..%5cMakefile"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long st = h_get(c, bad[i], &r);
		cr_assert(st == 404 || st == 400, "%s gave %ld", bad[i], st);
		cr_assert_null(strstr(r.body, "CFLAGS"), "%s leaked a file", bad[i]);
		h_resp_free(&r);
	}
}

Test(server, staff_routes_need_staff_session)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/staff", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	h_resp_free(&r);
	h_set_cookie(c, "sid", "not-a-session");
	cr_assert_eq(h_get(c, "/staff", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	h_resp_free(&r);
	h_staff_signin(c, 1);
	cr_assert_eq(h_get(c, "/staff", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/patients");
	h_resp_free(&r);
}

Test(server, staff_login_through_worker_pool)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_staff_login(c, H.org[0].staff_email, H_STAFF_PASSWORD), 303);
	const char *sid = h_cookie(c, "sid");
	cr_assert_not_null(sid, "signed in");
	char *first = strdup(sid);
	cr_assert_eq(h_get(c, "/staff", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/patients");
	h_resp_free(&r);
	/* Signing in again regenerates the session id. */
	cr_assert_eq(h_staff_login(c, H.org[0].staff_email, H_STAFF_PASSWORD), 303);
	cr_assert_str_neq(h_cookie(c, "sid"), first);
	/* The old id is dead. */
	struct h_client *thief = h_client();
	h_set_cookie(thief, "sid", first);
	cr_assert_eq(h_get(thief, "/staff", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	h_resp_free(&r);
	free(first);
	/* A wrong password signs nobody in. */
	struct h_client *d = h_client();
	h_staff_login(d, H.org[0].staff_email, "wrong password here");
	cr_assert_null(h_cookie(d, "sid"));
}

Test(server, session_cookie_attributes)
{
	struct h_client *c = h_client();
	struct h_resp r;
	h_get(c, "/staff/login", &r);
	const char *tok = h_csrf(&r);
	cr_assert_not_null(tok);
	char *csrf = strdup(tok);
	const char *sc = h_header(&r, "Set-Cookie");
	cr_assert_not_null(sc);
	cr_assert_not_null(strstr(sc, "HttpOnly"));
	cr_assert_not_null(strstr(sc, "SameSite=Lax"));
	cr_assert_not_null(strstr(sc, "Path=/"));
	h_resp_free(&r);
	h_post_form(c, "/staff/login", &r, "csrf", csrf, "email", H.org[0].staff_email, "password",
	            H_STAFF_PASSWORD, NULL);
	cr_assert_eq(r.status, 303);
	int found = 0;
	const char *hdr = r.headers;
	for (const char *p = strstr(hdr, "sid="); p; p = strstr(p + 1, "sid=")) {
		const char *eol = strstr(p, "\r\n");
		char line[256];
		snprintf(line, sizeof(line), "%.*s", (int)(eol - p), p);
		cr_assert_not_null(strstr(line, "HttpOnly"));
		cr_assert_not_null(strstr(line, "SameSite=Lax"));
		found = 1;
	}
	cr_assert(found, "sid cookie set");
	h_resp_free(&r);
	free(csrf);
}

Test(server, lang_switch)
{
	struct h_client *c = h_client();
	struct h_resp r;
	char *tok = anon_token(c);
	cr_assert_eq(
	    h_post_form(c, "/lang", &r, "lang", "xx", "csrf", tok, "back", "/staff/login", NULL),
	    303);
	cr_assert_null(h_cookie(c, "lang"), "unsupported language ignored");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/lang", &r, "lang", "it", "csrf", tok, NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/");
	cr_assert_str_eq(h_cookie(c, "lang"), "it");
	h_resp_free(&r);
	h_get(c, "/no-such-page", &r);
	cr_assert_not_null(strstr(r.body, "lang=\"it\""));
	h_resp_free(&r);
	free(tok);
}

Test(server, access_log_has_no_query_or_cookies, .init = cr_redirect_stderr, .fini = h_stop)
{
	setenv("INVITO_TEST_LOG", "info", 1);
	h_start();
	struct h_client *c = h_client();
	struct h_resp r;
	h_set_cookie(c, "sid", "COOKIESECRETVALUE");
	h_get(c, "/healthz?token=QUERYSECRETVALUE", &r);
	h_resp_free(&r);
	h_post(c, "/lang", "lang=en&password=BODYSECRETVALUE", &r);
	h_resp_free(&r);
	h_stop_server(); /* writes the last lines */
	fflush(stderr);
	char *log = h_read_stderr();
	cr_assert_not_null(strstr(log, "GET /healthz 200"), "log: %s", log);
	cr_assert_not_null(strstr(log, "POST /lang 403"), "log: %s", log);
	cr_assert_null(strstr(log, "QUERYSECRETVALUE"));
	cr_assert_null(strstr(log, "COOKIESECRETVALUE"));
	cr_assert_null(strstr(log, "BODYSECRETVALUE"));
	free(log);
}

Test(server, token_route_log_path)
{
	/* The access log's formatter: a token route prints its literal prefix only. */
	static const struct http_route inv = {"GET", "/i/{token}", NULL, HTTP_TOKEN};
	struct arena *a = arena_create();
	struct buf line;
	buf_init(&line, 0);
	http_access_line(&line, "GET", http_log_path("/i/Zm9vYmFyYmF6cXV4", &inv, a), 200, 3, 512);
	cr_assert_str_eq(line.data, "GET /i/\xe2\x80\xa6 200 3ms 512b");
	buf_free(&line);
	arena_free(a);
}

/* Sends raw bytes on a new connection and returns the first line of the answer (static). */
static const char *raw_request(const char *bytes)
{
	static char line[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)H.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	char buf[4096];
	ssize_t n, len = 0;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fd);
	char *eol = strstr(buf, "\r\n");
	snprintf(line, sizeof(line), "%.*s", eol ? (int)(eol - buf) : (int)len, buf);
	return line;
}

Test(server, malformed_requests_leave_it_running)
{
	raw_request("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"); /* no Host */
	raw_request(
	    "GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\nConnection: close\r\n\r\n");
	cr_assert_str_eq(
	    raw_request("POST /lang HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
	    "HTTP/1.1 400 Bad Request");
	raw_request("GARBAGE\r\n\r\n");
	cr_assert_str_eq(raw_request("GET /healthz HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK");
	struct h_resp r;
	cr_assert_eq(h_get(h_client(), "/healthz", &r), 200);
	h_resp_free(&r);
}
