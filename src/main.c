/*
 * invito: one binary, one table of subcommands. Global options (--config,
 * --version, --help) come before the command; each command parses its own.
 */
#include "cli/cli.h"
#include "config.h"
#include "lib/log.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv, struct config *cfg);
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
    {"serve", cli_serve, "serve [--port N] [--listen ADDR]",
     "Run the web server, the outbox dispatcher and the scheduler."},
    {"migrate", cli_migrate, "migrate", "Apply pending database migrations and print the version."},
    {"migrate-to", cli_migrate_to, "migrate-to postgresql://... [--batch N]",
     "Copy every row of the SQLite database into a new PostgreSQL database; check counts."},
    {"demo", cli_demo, "demo [--fresh]",
     "Create the demo database (or reuse it) with a clinic, patients and a staff login."},
    {"import", cli_import, "import patients|appointments FILE.csv [--org ID]",
     "Import patients or appointments from a CSV file with a header row; bad rows are "
     "reported by line."},
    {"user", cli_user, "user add --org ID --email E --name N [--role admin|reception]",
     "Add a staff user; the password is read from INVITO_PASSWORD or standard input."},
    {"apikey", cli_apikey, "apikey add --org ID --name N | list [--org ID] | revoke ID",
     "Manage the organisation keys of the HTTP API; add prints the new key once."},
    {"backup", cli_backup, "backup FILE",
     "Write a consistent copy of the SQLite database to FILE while the server runs."},
    {"worker", cli_worker, "worker",
     "Run the outbox dispatcher and the scheduler without the web server, until stopped."},
    {"run-due", cli_run_due, "run-due",
     "Run the due work once (reminders, recalls, the outbox) and exit: for cron and tests."},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: invito [--config FILE] COMMAND [ARGS]\n\n"
	           "Patient portal with an invitation system.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-58s %s\n", commands[i].usage, commands[i].help);
	fprintf(f,
	        "\n`invito COMMAND --help` for one command. Settings: invito.conf, then INVITO_* "
	        "variables (see README).\n");
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("invito %s\n", INVITO_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			conf_path = argv[++i];
		} else {
			fprintf(stderr, "invito: unknown option %s (try --help)\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const struct command *cmd = NULL;
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			cmd = &commands[k];
	if (cmd == NULL) {
		fprintf(stderr, "invito: unknown command %s (try --help)\n", argv[i]);
		return 2;
	}
	if (i + 1 < argc &&
	    (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0)) {
		printf("usage: invito %s\n\n%s\n", cmd->usage, cmd->help);
		return 0;
	}
	struct config cfg;
	if (config_load(&cfg, conf_path) < 0)
		return 2;
	if (strcmp(cfg.log_level, "debug") == 0)
		log_set_level(LOG_DEBUG);
	else if (strcmp(cfg.log_level, "warn") == 0)
		log_set_level(LOG_WARN);
	else if (strcmp(cfg.log_level, "error") == 0)
		log_set_level(LOG_ERROR);
	int rc = cmd->run(argc - i, argv + i, &cfg);
	config_free(&cfg);
	return rc;
}
