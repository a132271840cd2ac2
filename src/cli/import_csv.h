/*
 * import_csv: the CSV reading that every `invito import` shares (patients,
 * appointments). RFC 4180, UTF-8 (a byte order mark is skipped), a header
 * row naming the columns in any order (case-insensitive), CRLF or LF line
 * ends. The file is read one physical line at a time and fed to libcsv, so
 * the line where every row starts is known even when a quoted field spans
 * several lines: every problem is reported as "FILE:LINE: reason".
 *
 * The reader checks what does not depend on the kind of row (the header,
 * field counts, UTF-8, field and row sizes, quoting) and hands each row that
 * passed to the caller's callback by column. It never touches the database.
 */
#ifndef INVITO_IMPORT_CSV_H
#define INVITO_IMPORT_CSV_H

#include "cli/import.h"

#include <stdint.h>
#include <stdio.h>

#define IMPORT_CSV_MAX_COLS 32 /* known columns of one import */

struct import_csv; /* one file being read; lives inside import_csv_run() */

struct import_csv_spec {
	const char *const *cols; /* the known column names, lower case */
	int ncols;               /* 1..IMPORT_CSV_MAX_COLS */
	unsigned required;       /* bit k set: column k must be in the header */
	/*
	 * One data row: v[k] is column k's value (NUL-terminated, valid UTF-8, no NUL
	 * bytes) or NULL when the header has no such column. Count the row in rep
	 * (import_csv_reject() counts rejections). Returns 0 to go on, or a negative enum
	 * import_err to stop reading, its reason already reported.
	 */
	int (*row)(void *ud, struct import_csv *r, const char *const *v);
	/* Optional: called once after the last row when nothing failed (the last commit).
	 * 0, or a negative enum import_err. */
	int (*finish)(void *ud, struct import_csv *r);
	void *ud;
};

/*
 * Reads path and calls spec->row for each row. rep->lines counts physical
 * lines; rep->rejected the rows refused here or by import_csv_reject().
 * Returns 0 when the whole file was read (some rows may have been rejected),
 * else a negative enum import_err with the reason already on errs.
 */
int import_csv_run(const char *path, const struct import_csv_spec *spec, struct import_report *rep,
                   FILE *errs);

/* "FILE:LINE: reason" for the current row, counted in rep->rejected. */
void import_csv_reject(struct import_csv *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "FILE:LINE: reason" for the current row, not counted (a database error, a summary). */
void import_csv_report(struct import_csv *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The physical line where the current row starts. */
int64_t import_csv_line(const struct import_csv *r);
/* When errs is a terminal: a progress line with these counts (cleared before any report). */
void import_csv_progress(struct import_csv *r, int64_t imported, int64_t present);

#endif
