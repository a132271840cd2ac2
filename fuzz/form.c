/*
 * fuzz/form: http_parse_urlencoded (query strings and POST bodies). The input
 * is given as an exact-size buffer with no NUL after it, so a read past n is
 * caught by AddressSanitizer. Properties: on success every field has a
 * non-empty name and a NUL-terminated value whose length is value_len and
 * which holds no NUL; the list is no longer than the input has '&'s plus one.
 */
#include "fuzz.h"

#include "http/http.h"
#include "lib/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	struct arena *a = arena_create();
	struct http_kv *kv = NULL;
	int rc = http_parse_urlencoded(s, size, &kv, a);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		size_t amps = 0, n = 0;
		for (size_t i = 0; i < size; i++)
			amps += s[i] == '&';
		for (; kv != NULL; kv = kv->next, n++) {
			FUZZ_CHECK(kv->name != NULL && kv->name[0] != '\0');
			FUZZ_CHECK(kv->value != NULL);
			FUZZ_CHECK(strlen(kv->value) == kv->value_len);
		}
		FUZZ_CHECK(n <= amps + 1);
	} else {
		FUZZ_CHECK(kv == NULL);
	}
	arena_free(a);
	free(s);
	return 0;
}
