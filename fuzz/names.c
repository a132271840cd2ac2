/*
 * fuzz/names: names_key and names_match, the family-name normaliser (utf8proc).
 * Properties: a key is valid UTF-8 that names_key accepts again; it holds no
 * ASCII blank, apostrophe, hyphen or other ASCII punctuation and no ASCII
 * capital; a name matches itself exactly when its key is not empty.
 */
#include "fuzz.h"

#include "lib/arena.h"
#include "lib/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct arena *a = arena_create();
	char *k = names_key(s, a);
	if (k != NULL) {
		for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
			FUZZ_CHECK(*p >= 0x80 || (*p >= '0' && *p <= '9') ||
			           (*p >= 'a' && *p <= 'z'));
		}
		FUZZ_CHECK(names_key(k, a) != NULL);
		FUZZ_CHECK(names_match(s, s) == (k[0] != '\0'));
	} else {
		FUZZ_CHECK(names_match(s, s) == 0);
	}
	arena_free(a);
	free(s);
	return 0;
}
