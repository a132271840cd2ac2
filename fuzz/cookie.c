/*
 * fuzz/cookie: http_parse_cookies on any Cookie header. Properties: every
 * cookie has a non-empty name with no ';' or '=' in it and no surrounding
 * blanks, a value with no ';', and value_len matching the value.
 */
#include "fuzz.h"

#include "http/http.h"
#include "lib/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct arena *a = arena_create();
	struct http_kv *kv = NULL;
	FUZZ_CHECK(http_parse_cookies(s, &kv, a) == 0);
	for (; kv != NULL; kv = kv->next) {
		size_t nl = strlen(kv->name);
		FUZZ_CHECK(nl > 0);
		FUZZ_CHECK(strpbrk(kv->name, ";=") == NULL);
		FUZZ_CHECK(kv->name[0] != ' ' && kv->name[0] != '\t');
		FUZZ_CHECK(kv->name[nl - 1] != ' ' && kv->name[nl - 1] != '\t');
		FUZZ_CHECK(kv->value != NULL && strchr(kv->value, ';') == NULL);
		FUZZ_CHECK(strlen(kv->value) == kv->value_len);
	}
	arena_free(a);
	free(s);
	return 0;
}
