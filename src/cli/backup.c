/*
 * cli/backup: `invito backup FILE`. Copies the configured SQLite database to
 * FILE while the server keeps running (store_backup: SQLite's online backup
 * API, one consistent snapshot, checked with PRAGMA quick_check before it
 * replaces FILE). On PostgreSQL it refuses and
 * points to pg_dump. It must never print anything from the database, nor
 * the password a postgresql:// URL may carry (store_url_redact).
 */
#include "cli/cli.h"
#include "config.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cli_backup(int argc, char **argv, struct config *cfg)
{
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: invito backup FILE\n\nWrites a consistent copy of the "
			       "configured SQLite database to FILE while the server keeps running "
			       "(FILE is replaced only once the copy is complete). On PostgreSQL, "
			       "use pg_dump.\n");
			return 0;
		}
		if (argv[i][0] == '-' || file != NULL)
			return cli_usage_error("backup",
			                       "unexpected argument %s (usage: invito "
			                       "backup FILE)",
			                       argv[i]);
		file = argv[i];
	}
	if (file == NULL)
		return cli_usage_error("backup", "which file? (usage: invito backup FILE)");

	struct store *st = NULL;
	char name[1024];
	int ret = 1;
	store_url_redact(cfg->database, name, sizeof(name));
	int rc = store_open(&st, cfg->database, 1);
	if (rc != 0) {
		fprintf(stderr, "invito backup: cannot open database %s: %s\n", name,
		        store_strerror(rc));
		return 1;
	}
	if (strcmp(store_backend_name(st), "sqlite") != 0) {
		fprintf(stderr,
		        "invito backup: %s is a PostgreSQL database: back it up with "
		        "pg_dump (e.g. pg_dump -Fc -f FILE URL)\n",
		        name);
		goto out;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = store_backup(st, file);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != 0) {
		fprintf(stderr, "invito backup: cannot write a copy of %s to %s: %s\n", name, file,
		        store_strerror(rc));
		goto out;
	}
	struct stat sb;
	long long size = stat(file, &sb) == 0 ? (long long)sb.st_size : -1;
	printf("backup of %s written to %s (%lld bytes, %.2f s)\n", name, file, size,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	ret = 0;
out:
	store_free(st);
	return ret;
}
