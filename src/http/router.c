/*
 * router: matches a decoded request path against the patterns of the one
 * route table (routes.c), decodes raw paths, and says how the access log may
 * print a path. A pattern is literal segments and {name} segments; {name}
 * matches exactly one non-empty segment. It never matches a path holding
 * ".." or an empty segment, and never hands out more than four parameters.
 */
#include "http/internal.h"

#include "lib/arena.h"
#include "lib/buf.h"

#include <string.h>

#define MAX_PARAMS 4

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

int http_path_decode(const char *raw, size_t n, char **out, struct arena *a)
{
	if (raw == NULL || n == 0 || raw[0] != '/')
		return -1;
	char *p = arena_alloc(a, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int hi = hexval((unsigned char)raw[i + 1]);
			int lo = hexval((unsigned char)raw[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		p[j++] = (char)c;
	}
	p[j] = '\0';
	*out = p;
	return 0;
}

int http_match(const char *pattern, const char *path, const char **params, int *nparams,
               struct arena *a)
{
	int np = 0;
	if (pattern == NULL || path == NULL || pattern[0] != '/' || path[0] != '/')
		return 0;
	if (strstr(path, "..") != NULL)
		return 0;
	if (strcmp(pattern, "/") == 0 || strcmp(path, "/") == 0) {
		if (strcmp(pattern, path) != 0)
			return 0;
		if (nparams)
			*nparams = 0;
		return 1;
	}
	const char *pp = pattern + 1, *sp = path + 1;
	const char *found[MAX_PARAMS];
	size_t flen[MAX_PARAMS];
	for (;;) {
		const char *pe = strchr(pp, '/');
		const char *se = strchr(sp, '/');
		size_t pl = pe ? (size_t)(pe - pp) : strlen(pp);
		size_t sl = se ? (size_t)(se - sp) : strlen(sp);
		if (sl == 0 || pl == 0)
			return 0; /* empty segment: "//", a trailing "/" */
		if (pp[0] == '{' && pp[pl - 1] == '}') {
			if (np >= MAX_PARAMS)
				return 0;
			found[np] = sp;
			flen[np] = sl;
			np++;
		} else if (pl != sl || memcmp(pp, sp, pl) != 0) {
			return 0;
		}
		if ((pe == NULL) != (se == NULL))
			return 0; /* one has more segments than the other */
		if (pe == NULL)
			break;
		pp = pe + 1;
		sp = se + 1;
	}
	if (params != NULL)
		for (int i = 0; i < np; i++)
			params[i] = arena_strndup(a, found[i], flen[i]);
	if (nparams)
		*nparams = np;
	return 1;
}

static int method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

const struct http_route *http_route_find(const char *method, const char *path, const char **params,
                                         int *nparams, int *path_known, struct buf *allow,
                                         struct arena *a)
{
	const char *methods[16];
	int nm = 0;
	*path_known = 0;
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *r = &http_routes[i];
		if (method_matches(r->method, method)) {
			if (http_match(r->pattern, path, params, nparams, a))
				return r;
			continue;
		}
		if (!http_match(r->pattern, path, NULL, NULL, a))
			continue;
		*path_known = 1;
		int seen = 0;
		for (int k = 0; k < nm; k++)
			seen |= strcmp(methods[k], r->method) == 0;
		if (!seen && nm < (int)(sizeof(methods) / sizeof(methods[0])))
			methods[nm++] = r->method;
	}
	if (allow != NULL)
		for (int k = 0; k < nm; k++) {
			if (k > 0)
				buf_puts(allow, ", ");
			buf_puts(allow, methods[k]);
			if (strcmp(methods[k], "GET") == 0)
				buf_puts(allow, ", HEAD");
		}
	return NULL;
}

const struct http_route *http_route_for_path(const char *path, struct arena *a)
{
	for (int i = 0; i < http_nroutes; i++)
		if (http_match(http_routes[i].pattern, path, NULL, NULL, a))
			return &http_routes[i];
	return NULL;
}

#define LOG_PATH_MAX 200

const char *http_log_path(const char *path, const struct http_route *route, struct arena *a)
{
	if (route != NULL && (route->flags & HTTP_TOKEN)) {
		const char *brace = strchr(route->pattern, '{');
		size_t n = brace ? (size_t)(brace - route->pattern) : strlen(route->pattern);
		return arena_printf(a, "%.*s\xe2\x80\xa6", (int)n, route->pattern);
	}
	if (path == NULL)
		return "-";
	size_t n = strlen(path);
	int cut = n > LOG_PATH_MAX;
	if (cut)
		n = LOG_PATH_MAX;
	char *p = arena_alloc(a, n + 4);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		p[i] = (c < 0x20 || c == 0x7f || c == '"' || c == ' ' || c == '\\') ? '?' : (char)c;
	}
	if (cut)
		memcpy(p + n, "...", 3);
	return p;
}

void http_access_line(struct buf *out, const char *method, const char *log_path, int status,
                      int64_t ms, uint64_t bytes)
{
	buf_printf(out, "%s %s %d %lldms %llub", method ? method : "-", log_path ? log_path : "-",
	           status, (long long)ms, (unsigned long long)bytes);
}
