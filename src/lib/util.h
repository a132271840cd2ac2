/*
 * util: allocation that aborts on failure, strict number parsing, time.
 * The parsers never accept trailing garbage: "12abc" is an error, not 12.
 */
#ifndef INVITO_UTIL_H
#define INVITO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* 0 on success; -1 when s is empty, not a number, out of [min, max], or has trailing text. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Seconds since the epoch, UTC. */
int64_t now_utc(void);
/* Monotonic milliseconds, for measuring durations. */
int64_t now_ms(void);

/* Constant-time comparison of equal-length byte strings; 0 when equal. */
int ct_compare(const void *a, const void *b, size_t n);

#endif
