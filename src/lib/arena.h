/*
 * arena: a memory pool that lives as long as one request (or one command).
 * Everything allocated from it is released at once by arena_free(); nothing
 * allocated here may be freed on its own. Allocation failure aborts: a small
 * allocation that fails leaves nothing sensible to do.
 */
#ifndef INVITO_ARENA_H
#define INVITO_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct arena *arena_create(void);
/* Releases every block; accepts NULL. */
void arena_free(struct arena *a);

/* Zeroed memory, aligned for any type. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);

#endif
