/*
 * run_due: `invito run-due` runs the work that is due now, once, and exits:
 * for cron, for operators, and for tests. The work is one table of due jobs,
 * run in order; the dispatcher pass comes last so that messages queued by
 * the jobs before it (reminders, recalls: appended to the table by the
 * triggers work) leave in the same run. Every job is idempotent: running
 * run-due twice sends nothing twice. It must never print a message body.
 */
#include "cli/cli.h"

#include "comms/dispatch.h"
#include "comms/outbox.h"
#include "comms/triggers.h"
#include "config.h"
#include "lib/util.h"
#include "store/store.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* One job: runs its due work on st; 0, or -1 after logging why. */
struct due_job {
	const char *name;
	int (*run)(struct store *st, const struct config *cfg);
};

/* The outbox: every due message, in passes of dispatch_batch, until none is left. */
static int due_dispatch(struct store *st, const struct config *cfg)
{
	struct comms_dispatcher *d = NULL;
	struct comms_dispatch_stats stats = {0};
	int rc = -1;

	if (comms_dispatcher_create(&d, st, cfg) < 0)
		goto out;
	if (comms_dispatch_drain(d, &stats) < 0)
		goto out;
	printf("dispatch: %d claimed, %d sent, %d to retry, %d dead, %d given back\n",
	       stats.claimed, stats.sent, stats.retried, stats.dead, stats.released);
	rc = 0;
out:
	comms_dispatcher_free(d);
	return rc;
}

/* The triggers (comms/triggers.h): payment requests and reminders, appointment reminders,
 * recalls, each once per due item; the messages they queue leave with "dispatch". */
static int due_triggers(struct store *st, const struct config *cfg)
{
	int n = 0;
	const struct comms_trigger *t = comms_trigger_table(&n);
	struct comms_trigger_stats stats[8];
	(void)cfg;
	if (n > (int)ARRAY_LEN(stats))
		return -1;
	int rc = comms_triggers_run(st, now_utc(), stats);
	for (int i = 0; i < n; i++)
		printf("%s: %d queued, %d skipped, %d failed\n", t[i].name, stats[i].queued,
		       stats[i].skipped, stats[i].failed);
	return rc < 0 ? -1 : 0;
}

/* Message texts older than each organisation's 'message_keep_days' (comms/outbox.h). */
static int due_purge(struct store *st, const struct config *cfg)
{
	int removed = 0;
	(void)cfg;
	if (comms_outbox_purge(st, now_utc(), &removed) != 0) {
		fprintf(stderr, "invito run-due: purge: cannot empty old message texts\n");
		return -1;
	}
	printf("purge: %d old message texts removed\n", removed);
	return 0;
}

/* Due jobs, in the order they run. Append new jobs before "dispatch". */
static const struct due_job due_jobs[] = {
    {"triggers", due_triggers},
    {"purge", due_purge},
    {"dispatch", due_dispatch},
};

int cli_run_due(int argc, char **argv, struct config *cfg)
{
	struct store *st = NULL;
	int rc = 1, failed = 0;

	if (argc > 1)
		return cli_usage_error(
		    "run-due", "unexpected argument %s (try invito run-due --help)", argv[1]);
	signal(SIGPIPE, SIG_IGN);
	int err = store_open(&st, cfg->database, 2);
	if (err < 0) {
		fprintf(stderr, "invito run-due: cannot open the database: %s\n",
		        store_strerror(err));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(due_jobs); i++) {
		if (due_jobs[i].run(st, cfg) < 0) {
			fprintf(stderr, "invito run-due: %s failed\n", due_jobs[i].name);
			failed = 1;
		}
	}
	rc = failed;
out:
	store_free(st);
	return rc;
}
