/*
 * Tests for cli/worker.c: `invito worker` in a child process on the test's
 * database sends a due message (the dispatcher), empties an old message's
 * text at once (the scheduler's purge runs on start), keeps running, and
 * exits 0 soon after SIGTERM. Runs on SQLite, and on PostgreSQL under
 * scripts/pg-test.sh (store fixture).
 */
#include "../store/fixture.h"

#include "child.h"

#include "cli/cli.h"
#include "config.h"
#include "lib/util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

TestSuite(worker, .init = fx_setup, .fini = fx_teardown);

static int64_t message(const char *state, int64_t sent_at)
{
	int64_t id = 0;
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO messages (org_id, kind, channel, recipient, body, "
	                          "state, next_attempt_at, created_at, sent_at) VALUES (?, "
	                          "'recall', 'sms', '+393330000009', 'Ciao', ?, 0, ?, ?) "
	                          "RETURNING id",
	                          "itiI", ORG_A, state, sent_at > 0 ? sent_at : now_utc(), sent_at),
	             0);
	return id;
}

static pid_t worker_start(void)
{
	/* the test's own setting for serving nodes: the worker runs regardless */
	char *argv[] = {"worker", NULL};
	return cli_child_start(cli_worker, argv, "INVITO_DISPATCHER", "0");
}

static int64_t value(const char *sql, int64_t id)
{
	int64_t v = -1;
	cr_assert_eq(store_scalar(fx_conn, &v, sql, "i", id), 0);
	return v;
}

/* Waits up to 15 s for sql (one id parameter) to answer 1. */
static int eventually(const char *sql, int64_t id)
{
	for (int i = 0; i < 150; i++) {
		if (value(sql, id) == 1)
			return 1;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return 0;
}

Test(worker, sends_purges_and_stops_on_sigterm, .timeout = 60)
{
	int64_t due = message("queued", 0);
	int64_t old = message("sent", now_utc() - 40 * 86400);
	pid_t pid = worker_start();
	cr_assert(eventually("SELECT state = 'sent' FROM messages WHERE id = ?", due),
	          "the worker's dispatcher sent nothing");
	cr_assert(eventually("SELECT body = '' FROM messages WHERE id = ?", old),
	          "the worker's scheduler did not purge");
	cr_assert_eq(value("SELECT body = 'Ciao' FROM messages WHERE id = ?", due), 1,
	             "a message sent moments ago keeps its text");
	/* still running: a message queued now is sent too */
	int64_t later = message("queued", 0);
	cr_assert(eventually("SELECT state = 'sent' FROM messages WHERE id = ?", later));
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "the worker exited by itself");
	cr_assert_eq(kill(pid, SIGTERM), 0);
	for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker: status %d", status);
}

Test(worker, an_argument_is_a_usage_error)
{
	struct config cfg;
	cr_assert_eq(config_load(&cfg, "/dev/null"), 0);
	char *argv[] = {"worker", "--port", NULL};
	int null = open("/dev/null", O_WRONLY), err = dup(2);
	dup2(null, 2);
	int rc = cli_worker(2, argv, &cfg);
	dup2(err, 2);
	close(err);
	close(null);
	config_free(&cfg);
	cr_assert_eq(rc, 2);
}
