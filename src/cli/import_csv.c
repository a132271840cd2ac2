/*
 * import_csv: the line-by-line libcsv reader the imports share (see
 * import_csv.h). Rows are handled in libcsv's row callback: the header maps
 * positions to the caller's columns; a data row is checked for size, field
 * count and UTF-8, then given to spec->row. A stray quote drops its row and
 * reading starts again on the next line; a row that never ends (an
 * unterminated quote) stops the file.
 */
#include "cli/import_csv.h"

#include "lib/util.h"

#include <assert.h>
#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FIELDS    64            /* fields kept per row; more are only counted */
#define MAX_FIELD_LEN 4096          /* longer fields reject their row */
#define MAX_ROW_BYTES (1024 * 1024) /* a row this long is an unterminated quote */

struct field {
	char *s;
	size_t len, cap;
};

struct import_csv {
	const struct import_csv_spec *spec;
	const char *path;
	FILE *errs;
	struct import_report *rep;
	struct field f[MAX_FIELDS];
	size_t nf;    /* fields seen in the current row (may exceed MAX_FIELDS) */
	int too_long; /* a field of the current row passed MAX_FIELD_LEN */
	int header_done;
	int pos_col[MAX_FIELDS]; /* header position -> the spec's column */
	size_t ncols;
	int64_t row_line; /* physical line where the current row starts */
	int in_row;
	int rc;       /* first fatal error; rows are ignored once set */
	int progress; /* errs is a terminal */
	int progress_shown;
};

/* Clears the progress line so that the next text starts at column 0. */
static void progress_clear(struct import_csv *r)
{
	if (r->progress_shown) {
		fputs("\r\033[K", r->errs);
		r->progress_shown = 0;
	}
}

void import_csv_progress(struct import_csv *r, int64_t imported, int64_t present)
{
	if (!r->progress)
		return;
	fprintf(r->errs, "\rline %lld: imported %lld, already present %lld, rejected %lld",
	        (long long)r->rep->lines, (long long)imported, (long long)present,
	        (long long)r->rep->rejected);
	fflush(r->errs);
	r->progress_shown = 1;
}

static void vreport(struct import_csv *r, int64_t line, const char *fmt, va_list ap)
{
	progress_clear(r);
	fprintf(r->errs, "%s:%lld: ", r->path, (long long)line);
	vfprintf(r->errs, fmt, ap);
	fputc('\n', r->errs);
}

static void report_at(struct import_csv *r, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report_at(struct import_csv *r, int64_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, line, fmt, ap);
	va_end(ap);
}

void import_csv_report(struct import_csv *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, r->row_line, fmt, ap);
	va_end(ap);
}

void import_csv_reject(struct import_csv *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, r->row_line, fmt, ap);
	va_end(ap);
	r->rep->rejected++;
}

int64_t import_csv_line(const struct import_csv *r)
{
	return r->row_line;
}

/* 1 when s[0..n) is valid UTF-8 without NUL bytes. */
static int utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t k;
		uint32_t cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3F);
		}
		/* overlong, surrogates, beyond U+10FFFF */
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Writes s to errs with control characters replaced, for quoting column names. */
static void put_safe(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static int do_header(struct import_csv *r)
{
	const struct import_csv_spec *sp = r->spec;
	int seen[IMPORT_CSV_MAX_COLS] = {0};
	int bad = 0;
	if (r->nf > MAX_FIELDS) {
		report_at(r, r->row_line, "header has %zu columns, at most %d allowed", r->nf,
		          MAX_FIELDS);
		return IMPORT_ERR_HEADER;
	}
	for (size_t i = 0; i < r->nf; i++) {
		char *name = r->f[i].s;
		if (!utf8_ok(name, r->f[i].len)) {
			report_at(r, r->row_line, "header is not valid UTF-8");
			return IMPORT_ERR_HEADER;
		}
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		int col = -1;
		for (int k = 0; k < sp->ncols; k++)
			if (strcmp(name, sp->cols[k]) == 0)
				col = k;
		if (col < 0) {
			progress_clear(r);
			fprintf(r->errs, "%s:%lld: unknown column \"", r->path,
			        (long long)r->row_line);
			put_safe(r->errs, name);
			fputs("\" (known columns: ", r->errs);
			for (int k = 0; k < sp->ncols; k++)
				fprintf(r->errs, "%s%s", k ? ", " : "", sp->cols[k]);
			fputs(")\n", r->errs);
			bad = 1;
			continue;
		}
		if (seen[col]) {
			report_at(r, r->row_line, "column %s appears twice", sp->cols[col]);
			bad = 1;
		}
		seen[col] = 1;
		r->pos_col[i] = col;
	}
	for (int k = 0; k < sp->ncols; k++)
		if ((sp->required & (1u << k)) && !seen[k]) {
			report_at(r, r->row_line, "missing column %s", sp->cols[k]);
			bad = 1;
		}
	if (bad)
		return IMPORT_ERR_HEADER;
	r->ncols = r->nf;
	r->header_done = 1;
	return 0;
}

static void do_row(struct import_csv *r)
{
	const char *v[IMPORT_CSV_MAX_COLS] = {NULL};
	if (r->too_long) {
		import_csv_reject(r, "a field is longer than %d bytes", MAX_FIELD_LEN);
		return;
	}
	if (r->nf != r->ncols) {
		import_csv_reject(r, "%zu fields, but the header has %zu columns", r->nf, r->ncols);
		return;
	}
	for (size_t i = 0; i < r->nf; i++) {
		if (!utf8_ok(r->f[i].s, r->f[i].len)) {
			import_csv_reject(r, "%s is not valid UTF-8", r->spec->cols[r->pos_col[i]]);
			return;
		}
		v[r->pos_col[i]] = r->f[i].s;
	}
	int rc = r->spec->row(r->spec->ud, r, v);
	if (rc < 0)
		r->rc = rc;
}

/* 1 when s holds a CR that does not end a CRLF pair. */
static int has_bare_cr(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			return 1;
	return 0;
}

static void on_field(void *s, size_t len, void *data)
{
	struct import_csv *r = data;
	size_t i = r->nf++;
	if (i >= MAX_FIELDS)
		return;
	if (len > MAX_FIELD_LEN) {
		r->too_long = 1;
		len = 0;
	}
	struct field *f = &r->f[i];
	if (f->cap < len + 1) {
		f->cap = len + 1 < 64 ? 64 : len + 1;
		f->s = xrealloc(f->s, f->cap);
	}
	if (len > 0)
		memcpy(f->s, s, len);
	f->s[len] = '\0';
	f->len = len;
}

static void on_row(int term, void *data)
{
	struct import_csv *r = data;
	(void)term;
	size_t nf = r->nf;
	r->in_row = 0;
	r->nf = 0;
	if (r->rc < 0)
		goto out;
	/* A line of blanks: libcsv reports one empty field. */
	if (nf == 1 && r->f[0].len == 0 && !r->too_long)
		goto out;
	r->nf = nf;
	if (!r->header_done)
		r->rc = do_header(r);
	else
		do_row(r);
	r->nf = 0;
out:
	r->too_long = 0;
}

static int line_is_blank(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '\n') || (n == 2 && s[0] == '\r' && s[1] == '\n');
}

static void parser_reset(struct csv_parser *p)
{
	csv_free(p);
	csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
}

int import_csv_run(const char *path, const struct import_csv_spec *spec, struct import_report *rep,
                   FILE *errs)
{
	struct import_csv r = {0};
	struct csv_parser parser;
	int parser_live = 0;
	char *line = NULL;
	size_t cap = 0, row_bytes = 0;
	FILE *in = NULL;

	assert(spec->ncols > 0 && spec->ncols <= IMPORT_CSV_MAX_COLS);
	r.spec = spec;
	r.path = path;
	r.errs = errs;
	r.rep = rep;
	r.progress = isatty(fileno(errs));

	in = fopen(path, "rb");
	if (in == NULL) {
		fprintf(errs, "%s: %s\n", path, strerror(errno));
		r.rc = IMPORT_ERR_IO;
		goto out;
	}
	if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fprintf(errs, "%s: out of memory\n", path);
		r.rc = IMPORT_ERR_IO;
		goto out;
	}
	parser_live = 1;

	ssize_t n;
	while (r.rc == 0 && (n = getline(&line, &cap, in)) > 0) {
		const char *s = line;
		size_t len = (size_t)n;
		rep->lines++;
		if (rep->lines == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3; /* byte order mark */
			len -= 3;
		}
		if (rep->lines == 1 && has_bare_cr(s, len)) {
			/* libcsv would end rows there while lines are counted on \n: every line
			 * number reported would be wrong. Refuse rather than mislead. */
			report_at(&r, 1,
			          "lines end with a bare CR (an old Mac format); save the file "
			          "with Windows or Unix line endings and import it again");
			r.rc = IMPORT_ERR_FORMAT;
			break;
		}
		if (!r.in_row && !line_is_blank(s, len)) {
			r.in_row = 1;
			r.row_line = rep->lines;
			row_bytes = 0;
		}
		row_bytes += len;
		if (r.in_row && row_bytes > MAX_ROW_BYTES) {
			report_at(&r, r.row_line,
			          "row longer than %d bytes (an unterminated quote?); stopped",
			          MAX_ROW_BYTES);
			r.rc = IMPORT_ERR_FORMAT;
			break;
		}
		if (csv_parse(&parser, s, len, on_field, on_row, &r) != len) {
			if (!r.header_done) {
				report_at(&r, r.row_line, "malformed header: %s",
				          csv_strerror(csv_error(&parser)));
				r.rc = IMPORT_ERR_HEADER;
				break;
			}
			/* A stray quote: drop the row and start again on the next line. */
			import_csv_reject(&r,
			                  "malformed quoting (a quote inside an unquoted field, "
			                  "or text after a closing quote)");
			parser_reset(&parser);
			r.in_row = 0;
			r.nf = 0;
			r.too_long = 0;
		}
	}
	if (ferror(in)) {
		report_at(&r, rep->lines, "read error: %s", strerror(errno));
		if (r.rc == 0)
			r.rc = IMPORT_ERR_IO;
	}
	if (r.rc == 0 && csv_fini(&parser, on_field, on_row, &r) != 0) {
		import_csv_reject(&r, "unterminated quoted field");
		r.nf = 0;
	}
	if (r.rc == 0 && !r.header_done) {
		report_at(&r, 1, "empty file: expected a header row (%s, %s, ...)", spec->cols[0],
		          spec->ncols > 1 ? spec->cols[1] : "");
		r.rc = IMPORT_ERR_HEADER;
	}
	if (r.rc == 0 && spec->finish != NULL)
		r.rc = spec->finish(spec->ud, &r);
out:
	progress_clear(&r);
	if (parser_live)
		csv_free(&parser);
	for (size_t i = 0; i < MAX_FIELDS; i++)
		free(r.f[i].s);
	free(line);
	if (in != NULL)
		fclose(in);
	return r.rc;
}
