/*
 * cli: the subcommands of `invito`, one function each, bound to their names
 * in the one command table in main.c. Each takes the arguments after its own
 * name (argv[0] is the command name) and a loaded configuration, and returns
 * the process exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef INVITO_CLI_H
#define INVITO_CLI_H

#include <signal.h>

struct config;
struct store;
struct comms_dispatcher;
struct comms_scheduler;

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

/* Runs the outbox dispatcher and the scheduler until SIGINT/SIGTERM (worker.c). */
int cli_worker(int argc, char **argv, struct config *cfg);

/* The dispatcher and the scheduler on threads of their own (serve, worker). */
struct cli_background {
	struct comms_dispatcher *disp;
	struct comms_scheduler *sched;
};
/* 0, or -1 after saying on stderr which did not start (cli_background_stop still due). */
int cli_background_start(struct cli_background *bg, struct store *st, struct config *cfg,
                         const char *cmd);
/* Accepts a zeroed or half-started bg. */
void cli_background_stop(struct cli_background *bg);
/* Blocks SIGINT and SIGTERM in the calling thread (before any other starts, so that all
 * inherit it) and ignores SIGPIPE; cli_wait_stop_signal returns the one that came. */
void cli_block_stop_signals(sigset_t *sigs);
int cli_wait_stop_signal(const sigset_t *sigs);

/* Prints "invito CMD: msg" on stderr; returns 2 for usage errors. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
