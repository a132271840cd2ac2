/*
 * Tests for http/router.c: pattern matching, path decoding, route lookup with
 * 405 detection, and the access-log path redaction of token routes.
 */
#include "http/internal.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <criterion/criterion.h>
#include <string.h>

static struct arena *a;

static void setup(void)
{
	a = arena_create();
}

static void teardown(void)
{
	arena_free(a);
}

TestSuite(router, .init = setup, .fini = teardown);

static int match(const char *pattern, const char *path, const char **params, int *n)
{
	return http_match(pattern, path, params, n, a);
}

Test(router, literal)
{
	const char *p[4];
	int n = -1;
	cr_assert_eq(match("/healthz", "/healthz", p, &n), 1);
	cr_assert_eq(n, 0);
	cr_assert_eq(match("/healthz", "/healthz/", p, &n), 0);
	cr_assert_eq(match("/healthz", "/health", p, &n), 0);
	cr_assert_eq(match("/healthz", "/healthzz", p, &n), 0);
	cr_assert_eq(match("/staff/login", "/staff", p, &n), 0);
	cr_assert_eq(match("/staff", "/staff/login", p, &n), 0);
}

Test(router, root)
{
	int n = -1;
	cr_assert_eq(match("/", "/", NULL, &n), 1);
	cr_assert_eq(n, 0);
	cr_assert_eq(match("/", "//", NULL, &n), 0);
	cr_assert_eq(match("/", "/x", NULL, &n), 0);
	cr_assert_eq(match("/x", "/", NULL, &n), 0);
}

Test(router, params)
{
	const char *p[4] = {0};
	int n = 0;
	cr_assert_eq(match("/staff/patients/{id}", "/staff/patients/42", p, &n), 1);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p[0], "42");
	cr_assert_eq(match("/staff/patients/{id}/edit", "/staff/patients/7/edit", p, &n), 1);
	cr_assert_str_eq(p[0], "7");
	cr_assert_eq(match("/staff/patients/{id}/edit", "/staff/patients/7", p, &n), 0);
	cr_assert_eq(match("/staff/patients/{id}", "/staff/patients/7/edit", p, &n), 0);
	cr_assert_eq(match("/a/{x}/b/{y}", "/a/1/b/two", p, &n), 1);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(p[0], "1");
	cr_assert_str_eq(p[1], "two");
}

Test(router, empty_segments_refused)
{
	const char *p[4];
	int n;
	cr_assert_eq(match("/staff/patients/{id}", "/staff/patients/", p, &n), 0);
	cr_assert_eq(match("/staff/patients/{id}", "/staff//patients/1", p, &n), 0);
	cr_assert_eq(match("/i/{token}", "/i//", p, &n), 0);
	cr_assert_eq(match("/i/{token}", "//i/abc", p, &n), 0);
	cr_assert_eq(match("/i/{token}", "/i/abc/", p, &n), 0);
}

Test(router, dotdot_refused)
{
	const char *p[4];
	int n;
	cr_assert_eq(match("/static/{file}", "/static/..", p, &n), 0);
	cr_assert_eq(match("/static/{file}", "/static/..%2Fetc", p, &n), 0);
	cr_assert_eq(match("/a/{x}/{y}", "/a/../b", p, &n), 0);
	cr_assert_eq(match("/static/{file}", "/static/a..css", p, &n), 0);
	cr_assert_eq(match("/static/{file}", "/static/app.css", p, &n), 1);
}

Test(router, max_four_params)
{
	const char *p[4];
	int n;
	cr_assert_eq(match("/{a}/{b}/{c}/{d}", "/1/2/3/4", p, &n), 1);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(p[3], "4");
	cr_assert_eq(match("/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", p, &n), 0);
}

Test(router, relative_refused)
{
	cr_assert_eq(match("/x", "x", NULL, NULL), 0);
	cr_assert_eq(match("x", "/x", NULL, NULL), 0);
	cr_assert_eq(match("/x", "", NULL, NULL), 0);
}

Test(router, path_decode)
{
	char *out;
	cr_assert_eq(http_path_decode("/a%20b", 6, &out, a), 0);
	cr_assert_str_eq(out, "/a b");
	cr_assert_eq(http_path_decode("/caf%C3%A9", 10, &out, a), 0);
	cr_assert_str_eq(out, "/café");
	cr_assert_eq(http_path_decode("/a+b", 4, &out, a), 0);
	cr_assert_str_eq(out, "/a+b", "a plus stays a plus in a path");
	cr_assert_eq(http_path_decode("/a%00b", 6, &out, a), -1);
	cr_assert_eq(http_path_decode("/a%0d%0ab", 9, &out, a), -1);
	cr_assert_eq(http_path_decode("/a%", 3, &out, a), -1);
	cr_assert_eq(http_path_decode("/a%4", 4, &out, a), -1);
	cr_assert_eq(http_path_decode("/a%zz", 5, &out, a), -1);
	cr_assert_eq(http_path_decode("a", 1, &out, a), -1);
	cr_assert_eq(http_path_decode("", 0, &out, a), -1);
	cr_assert_eq(http_path_decode("/a\tb", 4, &out, a), -1);
}

Test(router, route_table_lookup)
{
	const char *p[4];
	int n = 0, known = 0;
	struct buf allow;
	buf_init(&allow, 0);
	const struct http_route *r = http_route_find("GET", "/healthz", p, &n, &known, &allow, a);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->pattern, "/healthz");
	r = http_route_find("HEAD", "/healthz", p, &n, &known, &allow, a);
	cr_assert_not_null(r, "HEAD is served by GET routes");
	r = http_route_find("POST", "/healthz", p, &n, &known, &allow, a);
	cr_assert_null(r);
	cr_assert_eq(known, 1);
	cr_assert_str_eq(allow.data, "GET, HEAD");
	buf_reset(&allow);
	r = http_route_find("GET", "/no/such/page", p, &n, &known, &allow, a);
	cr_assert_null(r);
	cr_assert_eq(known, 0);
	buf_free(&allow);
}

Test(router, log_path_redacts_token_routes)
{
	static const struct http_route tok = {"GET", "/i/{token}", NULL, HTTP_TOKEN};
	static const struct http_route plain = {"GET", "/staff/patients/{id}", NULL, 0};
	const char *s = http_log_path("/i/SECRETTOKENVALUE", &tok, a);
	cr_assert_str_eq(s, "/i/\xe2\x80\xa6");
	cr_assert_null(strstr(s, "SECRET"));
	cr_assert_str_eq(http_log_path("/staff/patients/3", &plain, a), "/staff/patients/3");
	cr_assert_str_eq(http_log_path("/x\"y z", NULL, a), "/x?y?z");
	char longp[400];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	cr_assert_leq(strlen(http_log_path(longp, NULL, a)), 203);
}

Test(router, access_line)
{
	static const struct http_route tok = {"POST", "/r/{token}", NULL, HTTP_TOKEN};
	struct buf b;
	buf_init(&b, 0);
	http_access_line(&b, "POST", http_log_path("/r/abcdef", &tok, a), 303, 12, 0);
	cr_assert_str_eq(b.data, "POST /r/\xe2\x80\xa6 303 12ms 0b");
	buf_free(&b);
}
