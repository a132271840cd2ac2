/*
 * cookie: parses the Cookie request header ("a=1; b=2") into an arena list,
 * in the order sent (http_cookie() returns the first of a name, which is the
 * most specific one a browser sends). Pairs without "=" or with an empty name
 * are skipped; a quoted value loses its quotes. Values are not decoded: the
 * cookies invito sets are plain tokens. It never logs a cookie.
 */
#include "http/http.h"

#include "lib/arena.h"

#include <string.h>

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int http_parse_cookies(const char *s, struct http_kv **out, struct arena *a)
{
	struct http_kv **tail = out;
	*out = NULL;
	if (s == NULL)
		return 0;
	while (*s) {
		while (is_space(*s) || *s == ';')
			s++;
		if (*s == '\0')
			break;
		const char *start = s;
		while (*s && *s != ';')
			s++;
		const char *end = s;
		while (end > start && is_space(end[-1]))
			end--;
		const char *eq = memchr(start, '=', (size_t)(end - start));
		if (eq == NULL)
			continue;
		const char *ne = eq;
		while (ne > start && is_space(ne[-1]))
			ne--;
		if (ne == start)
			continue;
		const char *v = eq + 1;
		while (v < end && is_space(*v))
			v++;
		const char *ve = end;
		if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		struct http_kv *kv = arena_alloc(a, sizeof(*kv));
		kv->name = arena_strndup(a, start, (size_t)(ne - start));
		kv->value = arena_strndup(a, v, (size_t)(ve - v));
		kv->value_len = (size_t)(ve - v);
		*tail = kv;
		tail = &kv->next;
	}
	return 0;
}
