/*
 * cli: the subcommands of `invito`, one function each, bound to their names
 * in the one command table in main.c. Each takes the arguments after its own
 * name (argv[0] is the command name) and a loaded configuration, and returns
 * the process exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef INVITO_CLI_H
#define INVITO_CLI_H

struct config;

int cli_serve(int argc, char **argv, struct config *cfg);
int cli_migrate(int argc, char **argv, struct config *cfg);
int cli_migrate_to(int argc, char **argv, struct config *cfg);
int cli_demo(int argc, char **argv, struct config *cfg);
int cli_import(int argc, char **argv, struct config *cfg);
int cli_user(int argc, char **argv, struct config *cfg);
int cli_backup(int argc, char **argv, struct config *cfg);
/* API keys of an organisation (apikey.c): add (prints the key once), list, revoke. */
int cli_apikey(int argc, char **argv, struct config *cfg);
/* Runs the due work once (run_due.c): due jobs, then the outbox dispatcher. */
int cli_run_due(int argc, char **argv, struct config *cfg);

/* Prints "invito CMD: msg" on stderr; returns 2 for usage errors. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
