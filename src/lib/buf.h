/*
 * buf: a growable byte buffer with a hard size cap. Appends past the cap fail
 * (and set buf->overflow) instead of growing without bound: a response or an
 * upload can never take all the memory.
 */
#ifndef INVITO_BUF_H
#define INVITO_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len, cap, max;
	int overflow;
};

#define BUF_DEFAULT_MAX (64u * 1024 * 1024)

/* max 0 means BUF_DEFAULT_MAX. */
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* 0 on success, -1 when the cap would be passed. */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends s with &, <, >, ", ' escaped for HTML text and attribute values. */
int buf_html(struct buf *b, const char *s);
/* Appends s percent-encoded for a URL query value or path segment. */
int buf_urlenc(struct buf *b, const char *s);
/* Takes the data out; the caller frees it; the buffer is left empty. */
char *buf_steal(struct buf *b);

#endif
