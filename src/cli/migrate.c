/*
 * cli/migrate: `invito migrate`. Opens the configured database, which applies
 * every pending embedded migration, and reports where the schema stands. Safe
 * to run any number of times and beside a running server (each migration is
 * one write transaction).
 * It must never print anything from the database but its version, nor the
 * password a postgresql:// URL may carry (store_url_redact).
 */
#include "cli/cli.h"
#include "config.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

int cli_migrate(int argc, char **argv, struct config *cfg)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf(
			    "usage: invito migrate\n\nApplies pending database migrations to the "
			    "configured database (setting \"database\") and prints its schema "
			    "version.\n");
			return 0;
		}
		return cli_usage_error("migrate", "unknown option %s (usage: invito migrate)",
		                       argv[i]);
	}
	struct store *st = NULL;
	char name[1024];
	store_url_redact(cfg->database, name, sizeof(name));
	int rc = store_open(&st, cfg->database, 1);
	if (rc != 0) {
		fprintf(stderr, "invito migrate: cannot open database %s: %s\n", name,
		        store_strerror(rc));
		return 1;
	}
	int version = store_schema_version(st);
	int ret = 1;
	if (version < 0) {
		fprintf(stderr, "invito migrate: cannot read schema version of %s: %s\n", name,
		        store_strerror(version));
		goto out;
	}
	printf("database %s at schema version %d (%d applied)\n", name, version,
	       store_last_applied(st));
	ret = 0;
out:
	store_free(st);
	return ret;
}
