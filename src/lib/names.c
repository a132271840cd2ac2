/*
 * names: the family-name comparison key, built with utf8proc only (no
 * hand-made tables of accents). NFKD + case fold + marks stripped, then only
 * letters and digits are kept, by Unicode category, so punctuation of any
 * script (apostrophes ' ’ ‘ `, hyphens - ‐ – —, dots, spaces) drops out.
 * It must never treat an empty key as a match: a name made only of
 * punctuation matches nothing.
 */
#include "names.h"

#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/*
 * 1 when the code point (after folding) belongs in the key. Letters and
 * numbers stay; the modifier letters of the Spacing Modifier Letters block
 * (U+02B0..U+02FF) go, because ʼ (U+02BC) and ʻ (U+02BB) are apostrophes
 * typed in names, not letters (the real modifier letters there, such as ʰ,
 * were already turned into plain letters by the compatibility mapping).
 */
static int keep(utf8proc_int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	case UTF8PROC_CATEGORY_LM:
		return cp < 0x02B0 || cp > 0x02FF;
	default:
		return 0;
	}
}

/* The key, malloc'd (the caller frees), or NULL for invalid UTF-8 or NULL input. */
static char *key_malloc(const char *s)
{
	utf8proc_uint8_t *out = NULL;
	if (s == NULL)
		return NULL;
	utf8proc_ssize_t n =
	    utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
	                 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
	                     UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* Filter in place: the output only ever shrinks. */
	utf8proc_ssize_t r = 0, w = 0;
	while (r < n) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(out + r, n - r, &cp);
		if (len <= 0) { /* cannot happen on utf8proc's own output */
			free(out);
			return NULL;
		}
		if (keep(cp)) {
			memmove(out + w, out + r, (size_t)len);
			w += len;
		}
		r += len;
	}
	out[w] = '\0';
	return (char *)out;
}

char *names_key(const char *s, struct arena *a)
{
	char *k = key_malloc(s);
	if (k == NULL)
		return NULL;
	char *ret = arena_strdup(a, k);
	free(k);
	return ret;
}

int names_match(const char *a, const char *b)
{
	int rc = 0;
	char *ka = key_malloc(a);
	char *kb = key_malloc(b);
	if (ka == NULL || kb == NULL || ka[0] == '\0')
		goto out;
	rc = strcmp(ka, kb) == 0;
out:
	free(ka);
	free(kb);
	return rc;
}
