/*
 * fuzz/router: http_match, the router's path matching. The input is a path
 * tried against every pattern of the real route table; when it holds a NUL,
 * the part before it is also used as a pattern against the part after it.
 * Properties: a match fills at most 4 parameters, each non-empty and without
 * '/', and never matches a path holding ".." or an empty segment.
 */
#include "fuzz.h"

#include "http/http.h"
#include "lib/arena.h"

static void check(const char *pattern, const char *path, struct arena *a)
{
	const char *params[4] = {0};
	int n = -1;
	if (!http_match(pattern, path, params, &n, a))
		return;
	FUZZ_CHECK(n >= 0 && n <= 4);
	FUZZ_CHECK(strstr(path, "..") == NULL);
	FUZZ_CHECK(strcmp(path, "/") == 0 || strstr(path, "//") == NULL);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(params[i] != NULL && params[i][0] != '\0');
		FUZZ_CHECK(strchr(params[i], '/') == NULL);
		FUZZ_CHECK(strstr(path, params[i]) != NULL);
	}
	/* Without somewhere to put parameters the answer is the same. */
	FUZZ_CHECK(http_match(pattern, path, NULL, NULL, a) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	struct arena *a = arena_create();
	for (int i = 0; i < http_nroutes; i++)
		check(http_routes[i].pattern, s, a);
	size_t first = strlen(s);
	if (first < size)
		check(s, s + first + 1, a);
	arena_free(a);
	free(s);
	return 0;
}
