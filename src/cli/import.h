/*
 * import: patients and appointments from CSV files (RFC 4180, UTF-8, a
 * header row naming the columns) into one organisation. A bad row is
 * reported as "FILE:LINE: reason" and skipped; a good row is written whole
 * or not at all. Patients are checked with the same rules as the staff form
 * (lib/validate.h), and a row that matches an existing patient (external_ref,
 * else family name + given name + birth date, compared by names_key) is left
 * alone; an appointment whose external_ref was already imported is left
 * alone too (but for a cancellation). Running the same file twice creates
 * nothing the second time.
 */
#ifndef INVITO_IMPORT_H
#define INVITO_IMPORT_H

#include <stdint.h>
#include <stdio.h>

struct store;

struct import_report {
	int64_t imported; /* new patients written */
	int64_t present;  /* rows that matched an existing patient: skipped */
	int64_t rejected; /* rows reported on errs and skipped */
	int64_t lines;    /* physical lines read */
	/* appointments only */
	int64_t cancelled; /* rows that cancelled an appointment imported before */
	int64_t queued;    /* payment requests queued right after their appointment */
};

enum import_err {
	IMPORT_OK = 0,
	IMPORT_ERR_IO = -1,     /* the file cannot be read */
	IMPORT_ERR_HEADER = -2, /* no header, a required column missing, an unknown column */
	IMPORT_ERR_STORE = -3,  /* the database failed; rows of the open batch were rolled back */
	IMPORT_ERR_FORMAT = -4, /* the file cannot be parsed any further (unterminated quote) */
};

/* Rows written per transaction: each commit rewrites every index page the batch
 * touched, so 1,000 took twice as long as 10,000 for 100,000 rows (bench/import.sh);
 * a batch holds the write lock well under the 5 s busy timeout of other writers. */
#define IMPORT_BATCH 10000

/*
 * Imports path into org_id. Problems go to errs, one "FILE:LINE: reason" line
 * each (LINE: the physical line where the row starts); when errs is a
 * terminal a progress line is kept up to date there as well. rep is filled
 * in every case (committed rows only). Returns 0 when the whole file was
 * read (even if some rows were rejected: see rep->rejected), else a negative
 * enum import_err, with the reason already written to errs.
 */
int import_patients_csv(struct store *st, int64_t org_id, const char *path,
                        struct import_report *rep, FILE *errs);

/*
 * Imports appointments from path into org_id (import_appointments.c), one
 * transaction per row through booking_import(): columns external_ref,
 * patient, service, start, duration_min or end, kind, payment, amount,
 * member, status. Same reporting and return values as import_patients_csv;
 * rep->present counts rows whose external_ref was already imported,
 * rep->cancelled those that cancelled one, rep->queued the payment requests
 * queued for new video consultations with mandatory payment.
 */
int import_appointments_csv(struct store *st, int64_t org_id, const char *path,
                            struct import_report *rep, FILE *errs);

#endif
