/*
 * fuzz: what every libFuzzer target here shares. Each target is one file,
 * fuzz/<name>.c, defining LLVMFuzzerTestOneInput; fuzz/run.sh builds it with
 * clang-14 -fsanitize=fuzzer,address,undefined against the library objects in
 * build/fuzz and runs it on its seed corpus fuzz/corpus/<name>/. A property a
 * target checks beyond "no crash" fails through FUZZ_CHECK, which aborts so
 * libFuzzer saves the input.
 */
#ifndef INVITO_FUZZ_H
#define INVITO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,        \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a NUL-terminated string (malloc'd: the caller frees). Bytes after an
 * embedded NUL are cut off, as a C string API would see them. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
