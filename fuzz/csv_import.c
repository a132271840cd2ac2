/*
 * fuzz/csv_import: import_patients_csv, the whole CSV import (libcsv, the
 * header, UTF-8 and field checks, validation, the existing-patient lookup and
 * the writes) into an in-memory SQLite database made once per process. There
 * is no parse-only entry point, so each input is written to a temporary file
 * and imported. Properties: the return value is one of enum import_err; the
 * report's counts are never negative and imported + present + rejected rows
 * never outnumber the line ends (LF or CR) plus one; a second import of the same file
 * imports nothing new (the import is idempotent).
 */
#include "fuzz.h"

#include "cli/import.h"
#include "lib/log.h"
#include "store/store.h"

#include <unistd.h>

static struct store *st;
static int64_t org;
static char path[64];
static FILE *devnull;
static unsigned long runs;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level((enum log_level)(LOG_ERROR + 1)); /* quiet: rejected rows are expected */
	if (store_open(&st, ":memory:", 1) != 0)
		abort();
	struct store_conn *c = store_acquire(st);
	int64_t portal;
	if (store_insert(c, &portal,
	                 "INSERT INTO portals (name, base_url) VALUES (?, ?) RETURNING id", "tt",
	                 "Portal", "http://127.0.0.1:8080") != 0 ||
	    store_insert(c, &org,
	                 "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                 "('customer', ?, ?) RETURNING id",
	                 "it", portal, "Clinic") != 0)
		abort();
	store_release(c);
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(path, sizeof(path), "%s/invito-fuzz-%ld.csv", dir, (long)getpid());
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Keep the database small: the lookups must stay as quick as the first. */
	if (++runs % 500 == 0) {
		struct store_conn *c = store_acquire(st);
		if (store_exec(c, NULL, "DELETE FROM patients", "") != 0)
			abort();
		store_release(c);
	}
	write_file(data, size);
	struct import_report rep;
	memset(&rep, 0xff, sizeof(rep));
	int rc = import_patients_csv(st, org, path, &rep, devnull);
	FUZZ_CHECK(rc <= 0 && rc >= IMPORT_ERR_FORMAT);
	FUZZ_CHECK(rep.imported >= 0 && rep.present >= 0 && rep.rejected >= 0 && rep.lines >= 0);
	/* libcsv also ends a row at a bare CR, which rep.lines (LF-terminated lines) does not
	 * count: bound the rows by both. */
	int64_t ends = 0;
	for (size_t i = 0; i < size; i++)
		ends += data[i] == '\n' || data[i] == '\r';
	FUZZ_CHECK(rep.imported + rep.present + rep.rejected <= ends + 1);
	FUZZ_CHECK(rep.lines <= ends + 1);
	if (rc == 0) {
		struct import_report again;
		int rc2 = import_patients_csv(st, org, path, &again, devnull);
		FUZZ_CHECK(rc2 == 0);
		FUZZ_CHECK(again.imported == 0);
	}
	unlink(path);
	return 0;
}
