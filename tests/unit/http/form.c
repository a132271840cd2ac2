/*
 * Tests for http/form.c and http/cookie.c: urlencoded parsing (+, %XX,
 * malformed escapes, empty values, duplicates, many fields), the lookups, and
 * Cookie header parsing.
 */
#include "http/http.h"
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

TestSuite(form, .init = setup, .fini = teardown);
TestSuite(cookie, .init = setup, .fini = teardown);

static struct http_kv *parse(const char *s)
{
	struct http_kv *kv = (struct http_kv *)1;
	cr_assert_eq(http_parse_urlencoded(s, strlen(s), &kv, a), 0, "parse failed: %s", s);
	return kv;
}

static int malformed(const char *s)
{
	struct http_kv *kv;
	return http_parse_urlencoded(s, strlen(s), &kv, a) == -1;
}

Test(form, basic)
{
	struct http_kv *kv = parse("a=1&b=two");
	cr_assert_str_eq(kv->name, "a");
	cr_assert_str_eq(kv->value, "1");
	cr_assert_str_eq(kv->next->name, "b");
	cr_assert_str_eq(kv->next->value, "two");
	cr_assert_eq(kv->next->value_len, 3);
	cr_assert_null(kv->next->next);
}

Test(form, plus_and_escapes)
{
	struct http_kv *kv = parse("q=Mario+Rossi&e=a%40b.it&n=Nicol%C3%B2&p=%2B39+333&x=%2b");
	cr_assert_str_eq(kv->value, "Mario Rossi");
	cr_assert_str_eq(kv->next->value, "a@b.it");
	cr_assert_str_eq(kv->next->next->value, "Nicolò");
	cr_assert_str_eq(kv->next->next->next->value, "+39 333");
	cr_assert_str_eq(kv->next->next->next->next->value, "+");
}

Test(form, empty_values_and_pairs)
{
	struct http_kv *kv = parse("a=&b&&c=3&");
	cr_assert_str_eq(kv->name, "a");
	cr_assert_str_eq(kv->value, "");
	cr_assert_str_eq(kv->next->name, "b");
	cr_assert_str_eq(kv->next->value, "");
	cr_assert_str_eq(kv->next->next->name, "c");
	cr_assert_null(kv->next->next->next);
	cr_assert_null(parse(""));
	cr_assert_null(parse("&&"));
	cr_assert_null(parse("=x"), "a pair without a name is dropped");
}

Test(form, value_with_equals)
{
	struct http_kv *kv = parse("t=a=b=c");
	cr_assert_str_eq(kv->value, "a=b=c");
}

Test(form, malformed_escapes)
{
	cr_assert(malformed("a=%"));
	cr_assert(malformed("a=%4"));
	cr_assert(malformed("a=%zz"));
	cr_assert(malformed("a=%G1"));
	cr_assert(malformed("%=1"));
	cr_assert(malformed("a=1&b=%4"));
	cr_assert(malformed("a=%00"), "NUL is refused");
	cr_assert(malformed("a%00b=1"));
	cr_assert(malformed("a=%C3"), "truncated UTF-8");
	cr_assert(malformed("a=%FF"), "not UTF-8");
	cr_assert(malformed("a=%C0%AF"), "overlong");
	cr_assert(malformed("a=%ED%A0%80"), "surrogate");
	cr_assert(!malformed("a=%41%42"));
}

Test(form, not_nul_terminated_input)
{
	const char s[] = "a=1&b=2XXXX";
	struct http_kv *kv;
	cr_assert_eq(http_parse_urlencoded(s, 7, &kv, a), 0);
	cr_assert_str_eq(kv->next->value, "2");
}

Test(form, duplicates_keep_first_and_all)
{
	struct http_req req = {0};
	req.form = parse("id=1&id=2&id=3&x=y");
	cr_assert_str_eq(http_form(&req, "id"), "1");
	int n = 0;
	for (struct http_kv *kv = req.form; kv; kv = kv->next)
		n += strcmp(kv->name, "id") == 0;
	cr_assert_eq(n, 3, "every value stays in the list for multi-valued fields");
	cr_assert_null(http_form(&req, "nope"));
	cr_assert_null(http_form(&req, NULL));
}

Test(form, many_fields)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 2000; i++)
		buf_printf(&b, "%sf%d=v%d", i ? "&" : "", i, i);
	struct http_kv *kv;
	cr_assert_eq(http_parse_urlencoded(b.data, b.len, &kv, a), 0);
	struct http_req req = {0};
	req.form = kv;
	cr_assert_str_eq(http_form(&req, "f0"), "v0");
	cr_assert_str_eq(http_form(&req, "f1999"), "v1999");
	buf_free(&b);
}

Test(form, query_header_param)
{
	struct http_req req = {0};
	req.query = parse("service=3");
	cr_assert_str_eq(http_query(&req, "service"), "3");
	static struct http_kv h2 = {"Accept-Language", "it", 2, NULL};
	static struct http_kv h1 = {"Host", "x", 1, &h2};
	req.headers = &h1;
	cr_assert_str_eq(http_header(&req, "accept-language"), "it");
	cr_assert_str_eq(http_header(&req, "HOST"), "x");
	cr_assert_null(http_header(&req, "Origin"));
}

Test(form, param_id)
{
	struct http_req req = {0};
	req.nparams = 1;
	const char *good[] = {"1", "42", "9223372036854775807"};
	const char *bad[] = {"0",   "-1",  "", "abc", "12abc", " 7", "+7", "9223372036854775808",
	                     "1e3", "0x10"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		req.params[0] = good[i];
		cr_assert_gt(http_param_id(&req, 0), 0, "%s", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req.params[0] = bad[i];
		cr_assert_eq(http_param_id(&req, 0), -1, "%s", bad[i]);
	}
	req.params[0] = "5";
	cr_assert_eq(http_param_id(&req, 1), -1, "out of range index");
	cr_assert_eq(http_param_id(&req, -1), -1);
}

Test(cookie, basic)
{
	struct http_kv *kv;
	cr_assert_eq(http_parse_cookies("sid=abc; lang=it;csrf=x-y_z", &kv, a), 0);
	struct http_req req = {0};
	req.cookies = kv;
	cr_assert_str_eq(http_cookie(&req, "sid"), "abc");
	cr_assert_str_eq(http_cookie(&req, "lang"), "it");
	cr_assert_str_eq(http_cookie(&req, "csrf"), "x-y_z");
	cr_assert_null(http_cookie(&req, "SID"), "names are case-sensitive");
}

Test(cookie, odd_inputs)
{
	struct http_kv *kv;
	struct http_req req = {0};
	cr_assert_eq(
	    http_parse_cookies("  a = 1 ; ; junk; =nameless; b=\"quoted\"; c=; d=x=y ", &kv, a), 0);
	req.cookies = kv;
	cr_assert_str_eq(http_cookie(&req, "a"), "1");
	cr_assert_str_eq(http_cookie(&req, "b"), "quoted");
	cr_assert_str_eq(http_cookie(&req, "c"), "");
	cr_assert_str_eq(http_cookie(&req, "d"), "x=y");
	cr_assert_null(http_cookie(&req, "junk"));
	cr_assert_null(http_cookie(&req, ""));
	cr_assert_eq(http_parse_cookies("", &kv, a), 0);
	cr_assert_null(kv);
	cr_assert_eq(http_parse_cookies(NULL, &kv, a), 0);
	cr_assert_null(kv);
	cr_assert_eq(http_parse_cookies(";;;", &kv, a), 0);
	cr_assert_null(kv);
}

Test(cookie, duplicates_first_wins)
{
	struct http_kv *kv;
	struct http_req req = {0};
	cr_assert_eq(http_parse_cookies("sid=first; sid=second", &kv, a), 0);
	req.cookies = kv;
	cr_assert_str_eq(http_cookie(&req, "sid"), "first");
}
