/*
 * form: application/x-www-form-urlencoded parsing (query strings and POST
 * bodies) and the lookups handlers use (http_query, http_form, http_header,
 * http_param_id). The parser is strict: a malformed %-escape, a NUL or text
 * that is not UTF-8 makes the whole input malformed (the server answers 400)
 * rather than being guessed at. All values live in the request's arena.
 */
#include "http/http.h"

#include "lib/arena.h"
#include "lib/util.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000))
			return 0;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte) into the arena. -1 when malformed. */
static int decode(const char *s, size_t n, char **out, size_t *outlen, struct arena *a)
{
	char *p = arena_alloc(a, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (n - i < 3)
				return -1;
			int hi = hexval((unsigned char)s[i + 1]);
			int lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		p[j++] = (char)c;
	}
	p[j] = '\0';
	if (!utf8_valid((const unsigned char *)p, j))
		return -1;
	*out = p;
	if (outlen)
		*outlen = j;
	return 0;
}

int http_parse_urlencoded(const char *s, size_t n, struct http_kv **out, struct arena *a)
{
	struct http_kv *head = NULL, **tail = &head;
	size_t i = 0;
	*out = NULL;
	if (s == NULL)
		return 0;
	while (i < n) {
		size_t start = i;
		while (i < n && s[i] != '&')
			i++;
		size_t end = i;
		if (i < n)
			i++; /* skip '&' */
		if (end == start)
			continue; /* "a=1&&b=2", a trailing '&' */
		const char *eq = memchr(s + start, '=', end - start);
		size_t nlen = eq ? (size_t)(eq - (s + start)) : end - start;
		char *name, *value;
		size_t vlen = 0;
		if (decode(s + start, nlen, &name, NULL, a) < 0)
			return -1;
		if (eq) {
			if (decode(eq + 1, (size_t)(s + end - (eq + 1)), &value, &vlen, a) < 0)
				return -1;
		} else {
			value = arena_strdup(a, "");
		}
		if (name[0] == '\0')
			continue; /* "=x": no name to look it up by */
		struct http_kv *kv = arena_alloc(a, sizeof(*kv));
		kv->name = name;
		kv->value = value;
		kv->value_len = vlen;
		*tail = kv;
		tail = &kv->next;
	}
	*out = head;
	return 0;
}

static const char *kv_find(const struct http_kv *kv, const char *name, int nocase)
{
	if (name == NULL)
		return NULL;
	for (; kv != NULL; kv = kv->next)
		if (nocase ? strcasecmp(kv->name, name) == 0 : strcmp(kv->name, name) == 0)
			return kv->value;
	return NULL;
}

const char *http_query(const struct http_req *req, const char *name)
{
	return kv_find(req->query, name, 0);
}

const char *http_form(const struct http_req *req, const char *name)
{
	return kv_find(req->form, name, 0);
}

const char *http_cookie(const struct http_req *req, const char *name)
{
	return kv_find(req->cookies, name, 0);
}

const char *http_header(const struct http_req *req, const char *name)
{
	return kv_find(req->headers, name, 1);
}

int64_t http_param_id(const struct http_req *req, int i)
{
	int64_t v;
	if (i < 0 || i >= req->nparams || req->params[i] == NULL)
		return -1;
	/* Digits only: parse_i64 alone would take " 7" and "+7". */
	for (const char *p = req->params[i]; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	if (parse_i64(req->params[i], 1, INT64_MAX, &v) < 0)
		return -1;
	return v;
}
