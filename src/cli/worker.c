/*
 * worker: `invito worker` runs the outbox dispatcher and the scheduler of due
 * work without the web server, until SIGINT or SIGTERM: the node that sends
 * while the web nodes run `serve` with `dispatcher = false` (that setting is
 * for serve; a worker always runs both). Several workers, or workers beside
 * serving nodes that dispatch, are safe: claims and due jobs are idempotent.
 * Also home of the start and stop of those two threads, shared with serve.
 */
#include "cli/cli.h"

#include "comms/dispatch.h"
#include "comms/triggers.h"
#include "config.h"
#include "lib/log.h"
#include "store/store.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* How often the scheduler looks for due reminders, recalls and payment requests. */
#define SCHEDULE_EVERY_S 60

int cli_background_start(struct cli_background *bg, struct store *st, struct config *cfg,
                         const char *cmd)
{
	memset(bg, 0, sizeof(*bg));
	if (comms_dispatcher_create(&bg->disp, st, cfg) < 0 ||
	    comms_dispatcher_start(bg->disp) < 0) {
		fprintf(stderr, "invito %s: the outbox dispatcher did not start\n", cmd);
		return -1;
	}
	if (comms_scheduler_start(&bg->sched, st, SCHEDULE_EVERY_S) < 0) {
		fprintf(stderr, "invito %s: the scheduler did not start\n", cmd);
		return -1;
	}
	return 0;
}

void cli_background_stop(struct cli_background *bg)
{
	/* first the scheduler (it queues), then the dispatcher: it finishes the message in
	 * hand and gives back the rest */
	comms_scheduler_stop(bg->sched);
	comms_dispatcher_free(bg->disp);
	bg->sched = NULL;
	bg->disp = NULL;
}

void cli_block_stop_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int cli_wait_stop_signal(const sigset_t *sigs)
{
	int sig = 0;
	while (sigwait(sigs, &sig) != 0)
		;
	return sig;
}

int cli_worker(int argc, char **argv, struct config *cfg)
{
	struct store *st = NULL;
	struct cli_background bg = {0};
	sigset_t sigs;
	int rc = 1;

	if (argc > 1)
		return cli_usage_error(
		    "worker", "unexpected argument %s (try invito worker --help)", argv[1]);
	/* Blocked before any thread starts, so every thread inherits the mask. */
	cli_block_stop_signals(&sigs);
	int err = store_open(&st, cfg->database, cfg->db_pool);
	if (err < 0) {
		fprintf(stderr, "invito worker: cannot open the database %s: %s\n", cfg->database,
		        store_strerror(err));
		goto out;
	}
	if (cli_background_start(&bg, st, cfg, "worker") < 0)
		goto out;
	printf("invito worker: sending messages and running due work\n");
	fflush(stdout);
	int sig = cli_wait_stop_signal(&sigs);
	log_info("worker: %s received, finishing the message in hand",
	         sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	cli_background_stop(&bg);
	store_free(st);
	return rc;
}
