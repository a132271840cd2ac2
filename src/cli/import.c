/*
 * import: `invito import patients FILE.csv [--org ID]`.
 *
 * The file is read one physical line at a time (getline) and each line is
 * fed to libcsv, so the line where every row starts is known even when a
 * quoted field spans several lines. Rows are handled in the row callback:
 * checked (UTF-8, field count, lib/validate.h), matched against existing
 * patients, and inserted through store_patient_add() in transactions of
 * IMPORT_BATCH rows with the connection's cached statements. It must never
 * update an existing patient: a match is counted and skipped.
 */
#include "cli/import.h"

#include "cli/cli.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/names.h"
#include "lib/util.h"
#include "lib/validate.h"
#include "store/store.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum col { COL_GIVEN, COL_FAMILY, COL_BIRTH, COL_MOBILE, COL_EMAIL, COL_LANG, COL_REF, COL_N };

static const char *const col_names[COL_N] = {
    "given_name", "family_name", "birth_date", "mobile", "email", "lang", "external_ref",
};

#define MAX_FIELDS    64            /* fields kept per row; more are only counted */
#define MAX_FIELD_LEN 4096          /* longer fields reject their row */
#define MAX_ROW_BYTES (1024 * 1024) /* a row this long is an unterminated quote */
#define MAX_REF_LEN   100

struct field {
	char *s;
	size_t len, cap;
};

struct ctx {
	struct store_conn *c;
	int64_t org_id;
	const char *path;
	FILE *errs;
	struct import_report *rep;
	struct field f[MAX_FIELDS];
	size_t nf;    /* fields seen in the current row (may exceed MAX_FIELDS) */
	int too_long; /* a field of the current row passed MAX_FIELD_LEN */
	int header_done;
	int pos_col[MAX_FIELDS]; /* header position -> enum col */
	size_t ncols;
	int64_t row_line; /* physical line where the current row starts */
	int in_row;
	int rc; /* first fatal error; rows are ignored once set */
	int in_tx;
	int64_t batch_rows, batch_imported, batch_present;
	struct arena *a; /* per batch */
	int progress;    /* errs is a terminal */
	int progress_shown;
	int64_t now;
};

/* Clears the progress line so that the next text starts at column 0. */
static void progress_clear(struct ctx *x)
{
	if (x->progress_shown) {
		fputs("\r\033[K", x->errs);
		x->progress_shown = 0;
	}
}

static void progress_show(struct ctx *x)
{
	fprintf(x->errs, "\rline %lld: imported %lld, already present %lld, rejected %lld",
	        (long long)x->rep->lines, (long long)(x->rep->imported + x->batch_imported),
	        (long long)(x->rep->present + x->batch_present), (long long)x->rep->rejected);
	fflush(x->errs);
	x->progress_shown = 1;
}

static void report(struct ctx *x, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "FILE:LINE: reason" on errs. */
static void report(struct ctx *x, int64_t line, const char *fmt, ...)
{
	va_list ap;
	progress_clear(x);
	fprintf(x->errs, "%s:%lld: ", x->path, (long long)line);
	va_start(ap, fmt);
	vfprintf(x->errs, fmt, ap);
	va_end(ap);
	fputc('\n', x->errs);
}

static void reject(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reject(struct ctx *x, const char *fmt, ...)
{
	va_list ap;
	progress_clear(x);
	fprintf(x->errs, "%s:%lld: ", x->path, (long long)x->row_line);
	va_start(ap, fmt);
	vfprintf(x->errs, fmt, ap);
	va_end(ap);
	fputc('\n', x->errs);
	x->rep->rejected++;
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

static int batch_commit(struct ctx *x)
{
	if (!x->in_tx)
		return 0;
	int rc = store_commit(x->c);
	x->in_tx = 0;
	if (rc < 0) {
		store_rollback(x->c);
		report(x, x->row_line, "database error: %s; this batch of rows was not imported",
		       store_strerror(rc));
		x->batch_imported = x->batch_present = x->batch_rows = 0;
		return IMPORT_ERR_STORE;
	}
	x->rep->imported += x->batch_imported;
	x->rep->present += x->batch_present;
	x->batch_imported = x->batch_present = x->batch_rows = 0;
	arena_free(x->a);
	x->a = arena_create();
	return 0;
}

static void fail_store(struct ctx *x, int err)
{
	report(x, x->row_line, "database error: %s; stopped, rows since line %lld not imported",
	       store_strerror(err), (long long)x->row_line);
	if (x->in_tx)
		store_rollback(x->c);
	x->in_tx = 0;
	x->batch_imported = x->batch_present = x->batch_rows = 0;
	x->rc = IMPORT_ERR_STORE;
}

static int do_header(struct ctx *x)
{
	int seen[COL_N] = {0};
	int bad = 0;
	if (x->nf > MAX_FIELDS) {
		report(x, x->row_line, "header has %zu columns, at most %d allowed", x->nf,
		       MAX_FIELDS);
		return IMPORT_ERR_HEADER;
	}
	for (size_t i = 0; i < x->nf; i++) {
		char *name = x->f[i].s;
		if (!utf8_ok(name, x->f[i].len)) {
			report(x, x->row_line, "header is not valid UTF-8");
			return IMPORT_ERR_HEADER;
		}
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		int col = -1;
		for (int k = 0; k < COL_N; k++)
			if (strcmp(name, col_names[k]) == 0)
				col = k;
		if (col < 0) {
			progress_clear(x);
			fprintf(x->errs, "%s:%lld: unknown column \"", x->path,
			        (long long)x->row_line);
			put_safe(x->errs, name);
			fprintf(x->errs, "\" (known columns: given_name, family_name, birth_date, "
			                 "mobile, email, lang, external_ref)\n");
			bad = 1;
			continue;
		}
		if (seen[col]) {
			report(x, x->row_line, "column %s appears twice", col_names[col]);
			bad = 1;
		}
		seen[col] = 1;
		x->pos_col[i] = col;
	}
	for (int k = COL_GIVEN; k <= COL_FAMILY; k++)
		if (!seen[k]) {
			report(x, x->row_line, "missing column %s", col_names[k]);
			bad = 1;
		}
	if (bad)
		return IMPORT_ERR_HEADER;
	x->ncols = x->nf;
	x->header_done = 1;
	return 0;
}

/* 1 when s holds a CR that does not end a CRLF pair. */
static int has_bare_cr(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			return 1;
	return 0;
}

/* 0 and *found when a patient of the org matches p (after validation). */
static int find_existing(struct ctx *x, const struct validate_patient *p, const char *ref,
                         const char *family_key, const char *search_key, int *found)
{
	int64_t id;
	int rc;
	if (ref != NULL) {
		rc = store_patient_by_ref(x->c, x->org_id, ref, &id);
	} else if (p->birth_date != NULL) {
		rc = store_scalar(x->c, &id,
		                  "SELECT id FROM patients WHERE org_id = ? AND family_key = ? AND "
		                  "search_key = ? AND birth_date = ? LIMIT 1",
		                  "ittt", x->org_id, family_key, search_key, p->birth_date);
	} else {
		rc = store_scalar(x->c, &id,
		                  "SELECT id FROM patients WHERE org_id = ? AND family_key = ? AND "
		                  "search_key = ? AND birth_date IS NULL LIMIT 1",
		                  "itt", x->org_id, family_key, search_key);
	}
	if (rc == STORE_NOTFOUND) {
		*found = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	*found = 1;
	return 0;
}

static void do_row(struct ctx *x)
{
	const char *v[COL_N] = {NULL};
	struct validate_result res;

	if (x->too_long) {
		reject(x, "a field is longer than %d bytes", MAX_FIELD_LEN);
		return;
	}
	if (x->nf != x->ncols) {
		reject(x, "%zu fields, but the header has %zu columns", x->nf, x->ncols);
		return;
	}
	for (size_t i = 0; i < x->nf; i++) {
		if (!utf8_ok(x->f[i].s, x->f[i].len)) {
			reject(x, "%s is not valid UTF-8", col_names[x->pos_col[i]]);
			return;
		}
		v[x->pos_col[i]] = x->f[i].s;
	}
	struct validate_patient p = {
	    .given_name = v[COL_GIVEN],
	    .family_name = v[COL_FAMILY],
	    .birth_date = v[COL_BIRTH],
	    .mobile = v[COL_MOBILE],
	    .email = v[COL_EMAIL],
	    .lang = v[COL_LANG],
	};
	if (validate_patient(&p, x->now, x->a, &res) < 0) {
		progress_clear(x);
		fprintf(x->errs, "%s:%lld: ", x->path, (long long)x->row_line);
		for (int i = 0; i < res.n; i++)
			fprintf(x->errs, "%s%s: %s", i ? "; " : "", res.err[i].field,
			        res.err[i].msg);
		fputc('\n', x->errs);
		x->rep->rejected++;
		return;
	}
	const char *ref = v[COL_REF];
	if (ref != NULL && ref[0] == '\0')
		ref = NULL;
	if (ref != NULL) {
		if (strlen(ref) > MAX_REF_LEN) {
			reject(x, "external_ref is longer than %d bytes", MAX_REF_LEN);
			return;
		}
		for (const char *q = ref; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f) {
				reject(x, "external_ref contains control characters");
				return;
			}
	}

	/* search_key is names_key("given family"): with the family key fixed it pins the
	 * given name's key, so (family_key, search_key) is (family key, given-name key). */
	char *family_key = names_key(p.family_name, x->a);
	char *both = arena_printf(x->a, "%s %s", p.given_name, p.family_name);
	char *search_key = names_key(both, x->a);

	if (!x->in_tx) {
		int rc = store_begin(x->c);
		if (rc < 0) {
			fail_store(x, rc);
			return;
		}
		x->in_tx = 1;
	}
	int found = 0;
	int rc = find_existing(x, &p, ref, family_key, search_key, &found);
	if (rc < 0) {
		fail_store(x, rc);
		return;
	}
	if (found) {
		x->batch_present++;
	} else {
		struct store_patient sp = {
		    .org_id = x->org_id,
		    .given_name = (char *)p.given_name,
		    .family_name = (char *)p.family_name,
		    .birth_date = (char *)p.birth_date,
		    .mobile = (char *)p.mobile,
		    .email = (char *)p.email,
		    .lang = (char *)p.lang,
		    .external_ref = (char *)ref,
		    .created_at = x->now,
		    .updated_at = x->now,
		};
		rc = store_patient_add(x->c, &sp);
		if (rc < 0) {
			fail_store(x, rc);
			return;
		}
		x->batch_imported++;
	}
	if (++x->batch_rows >= IMPORT_BATCH) {
		rc = batch_commit(x);
		if (rc < 0) {
			x->rc = rc;
			return;
		}
		if (x->progress)
			progress_show(x);
	}
}

static void on_field(void *s, size_t len, void *data)
{
	struct ctx *x = data;
	size_t i = x->nf++;
	if (i >= MAX_FIELDS)
		return;
	if (len > MAX_FIELD_LEN) {
		x->too_long = 1;
		len = 0;
	}
	struct field *f = &x->f[i];
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
	struct ctx *x = data;
	(void)term;
	size_t nf = x->nf;
	x->in_row = 0;
	x->nf = 0;
	if (x->rc < 0)
		goto out;
	/* A line of blanks: libcsv reports one empty field. */
	if (nf == 1 && x->f[0].len == 0 && !x->too_long)
		goto out;
	x->nf = nf;
	if (!x->header_done)
		x->rc = do_header(x);
	else
		do_row(x);
	x->nf = 0;
out:
	x->too_long = 0;
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

int import_patients_csv(struct store *st, int64_t org_id, const char *path,
                        struct import_report *rep, FILE *errs)
{
	struct ctx x = {0};
	struct csv_parser parser;
	int parser_live = 0, tuned = 0;
	char *line = NULL;
	size_t cap = 0, row_bytes = 0;
	FILE *in = NULL;

	memset(rep, 0, sizeof(*rep));
	x.org_id = org_id;
	x.path = path;
	x.errs = errs;
	x.rep = rep;
	x.a = arena_create();
	x.now = now_utc();
	x.progress = isatty(fileno(errs));
	x.c = store_acquire(st);
	/* SQLite only, for the duration of the import:
	 *  - temp_store=MEMORY: each INSERT inside a batch keeps a statement journal (so
	 *    that one failing row can be undone alone); on disk that was 20 writes to a
	 *    /var/tmp file per row, the main cost of an import;
	 *  - a page cache larger than the indexes it touches (the default 2 MiB spills);
	 *  - synchronous=NORMAL, which in WAL mode may lose the last batches on a power
	 *    cut but never corrupts the file: harmless, a re-run imports what is missing. */
	if (strcmp(store_backend_name(st), "sqlite") == 0)
		tuned = store_exec(x.c, NULL, "PRAGMA temp_store = MEMORY", "") == 0 &&
		        store_exec(x.c, NULL, "PRAGMA cache_size = -65536", "") == 0 &&
		        store_exec(x.c, NULL, "PRAGMA synchronous = NORMAL", "") == 0;

	in = fopen(path, "rb");
	if (in == NULL) {
		fprintf(errs, "%s: %s\n", path, strerror(errno));
		x.rc = IMPORT_ERR_IO;
		goto out;
	}
	if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fprintf(errs, "%s: out of memory\n", path);
		x.rc = IMPORT_ERR_IO;
		goto out;
	}
	parser_live = 1;

	ssize_t n;
	while (x.rc == 0 && (n = getline(&line, &cap, in)) > 0) {
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
			report(&x, 1,
			       "lines end with a bare CR (an old Mac format); save the file "
			       "with Windows or Unix line endings and import it again");
			x.rc = IMPORT_ERR_FORMAT;
			break;
		}
		if (!x.in_row && !line_is_blank(s, len)) {
			x.in_row = 1;
			x.row_line = rep->lines;
			row_bytes = 0;
		}
		row_bytes += len;
		if (x.in_row && row_bytes > MAX_ROW_BYTES) {
			report(&x, x.row_line,
			       "row longer than %d bytes (an unterminated quote?); stopped",
			       MAX_ROW_BYTES);
			x.rc = IMPORT_ERR_FORMAT;
			break;
		}
		if (csv_parse(&parser, s, len, on_field, on_row, &x) != len) {
			if (!x.header_done) {
				report(&x, x.row_line, "malformed header: %s",
				       csv_strerror(csv_error(&parser)));
				x.rc = IMPORT_ERR_HEADER;
				break;
			}
			/* A stray quote: drop the row and start again on the next line. */
			reject(&x, "malformed quoting (a quote inside an unquoted field, or text "
			           "after a closing quote)");
			parser_reset(&parser);
			x.in_row = 0;
			x.nf = 0;
			x.too_long = 0;
		}
	}
	if (ferror(in)) {
		report(&x, rep->lines, "read error: %s", strerror(errno));
		if (x.rc == 0)
			x.rc = IMPORT_ERR_IO;
	}
	if (x.rc == 0 && csv_fini(&parser, on_field, on_row, &x) != 0) {
		reject(&x, "unterminated quoted field");
		x.nf = 0;
	}
	if (x.rc == 0 && !x.header_done) {
		report(&x, 1, "empty file: expected a header row (given_name, family_name, ...)");
		x.rc = IMPORT_ERR_HEADER;
	}
	if (x.rc == 0)
		x.rc = batch_commit(&x);
out:
	if (x.in_tx)
		store_rollback(x.c);
	progress_clear(&x);
	if (parser_live)
		csv_free(&parser);
	for (size_t i = 0; i < MAX_FIELDS; i++)
		free(x.f[i].s);
	free(line);
	if (in != NULL)
		fclose(in);
	if (tuned) {
		store_exec(x.c, NULL, "PRAGMA temp_store = DEFAULT", "");
		store_exec(x.c, NULL, "PRAGMA cache_size = -2000", "");
		store_exec(x.c, NULL, "PRAGMA synchronous = FULL", "");
	}
	store_release(x.c);
	arena_free(x.a);
	return x.rc;
}

/* --- the command --------------------------------------------------------- */

#define CMD_NAME "import"

/* *n customer organisations (counting stops at 2); *org the first one. */
static int customer_orgs(struct store *st, int64_t *org, int *n)
{
	struct store_conn *c = store_acquire(st);
	struct store_stmt *s = NULL;
	int rc = store_query(
	    c, &s, "SELECT id FROM organisations WHERE kind = 'customer' ORDER BY id LIMIT 2", "");
	*n = 0;
	if (rc == 0) {
		while ((rc = store_step(s)) == 1)
			if ((*n)++ == 0)
				*org = store_col_int(s, 0);
		store_done(s);
	}
	store_release(c);
	return rc < 0 ? rc : 0;
}

int cli_import(int argc, char **argv, struct config *cfg)
{
	const char *file = NULL, *org_arg = NULL;
	int64_t org = 0;
	struct store *st = NULL;
	struct import_report rep;
	int ret = 1;

	if (argc < 2 || strcmp(argv[1], "patients") != 0)
		return cli_usage_error(CMD_NAME,
		                       "usage: invito import patients FILE.csv [--org ID]");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--org") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error(CMD_NAME, "--org needs an organisation id");
			org_arg = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error(CMD_NAME, "unknown option %s", argv[i]);
		else if (file == NULL)
			file = argv[i];
		else
			return cli_usage_error(CMD_NAME, "only one FILE.csv, got %s too", argv[i]);
	}
	if (file == NULL)
		return cli_usage_error(CMD_NAME,
		                       "usage: invito import patients FILE.csv [--org ID]");
	if (org_arg != NULL && parse_i64(org_arg, 1, INT64_MAX, &org) < 0)
		return cli_usage_error(CMD_NAME, "--org needs an organisation id, not \"%s\"",
		                       org_arg);

	int rc = store_open(&st, cfg->database, 1);
	if (rc < 0) {
		fprintf(stderr, "invito import: cannot open database %s: %s\n", cfg->database,
		        store_strerror(rc));
		goto out;
	}
	if (org_arg == NULL) {
		int n = 0;
		rc = customer_orgs(st, &org, &n);
		if (rc < 0) {
			fprintf(stderr, "invito import: %s\n", store_strerror(rc));
			goto out;
		} else if (n == 0) {
			fprintf(stderr, "invito import: no organisation in %s (create one first)\n",
			        cfg->database);
			goto out;
		} else if (n > 1) {
			ret = cli_usage_error(CMD_NAME,
			                      "several organisations: choose one with --org ID");
			goto out;
		}
	} else {
		struct arena *a = arena_create();
		struct store_org o;
		struct store_conn *c = store_acquire(st);
		rc = store_org_get(c, org, &o, a);
		store_release(c);
		arena_free(a);
		if (rc < 0) {
			fprintf(stderr, "invito import: no organisation with id %lld\n",
			        (long long)org);
			goto out;
		}
	}

	int64_t t0 = now_ms();
	rc = import_patients_csv(st, org, file, &rep, stderr);
	int64_t ms = now_ms() - t0;
	printf("imported %lld, already present %lld, rejected %lld\n", (long long)rep.imported,
	       (long long)rep.present, (long long)rep.rejected);
	fprintf(stderr, "invito import: %lld lines in %lld.%03lld s\n", (long long)rep.lines,
	        (long long)(ms / 1000), (long long)(ms % 1000));
	ret = (rc == 0 && rep.rejected == 0) ? 0 : 1;
out:
	store_free(st);
	return ret;
}
