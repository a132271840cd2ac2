/*
 * Tests of src/comms/dispatch.c with the log transport (and an SMS gateway
 * that is not there, for failures): claiming (due, not due, stale claims),
 * backoff and dead after max_attempts, the given-back rest of a pass when a
 * provider is down, two dispatchers on one database (every message claimed
 * once: run them with scripts/pg-test.sh for PostgreSQL), the token bucket,
 * the thread, and the staff page's queries (list, counts, retry).
 */
#include "dispatch_fixture.h"

#include "../../smtp/sink.h"
#include "lib/util.h"

#include <pthread.h>

TestSuite(dispatch, .init = dq_setup, .fini = dq_teardown);

Test(dispatch, backoff_schedule)
{
	const int64_t want[] = {60, 300, 1800, 7200, 43200, 43200, 43200};
	for (int i = 0; i < 7; i++)
		cr_assert_eq(comms_dispatch_backoff(i + 1), want[i], "after try %d", i + 1);
	cr_assert_eq(comms_dispatch_backoff(0), 60);
}

Test(dispatch, log_transport_marks_sent_and_keeps_the_body)
{
	int64_t a = dq_add(ORG_A, "email", "a@example.it", "Subject", "Body http://x/i/1");
	int64_t b = dq_add(ORG_B, "sms", "+393331234567", NULL, "SMS body");
	struct comms_dispatcher *d = dq_dispatcher();
	struct comms_dispatch_stats st = {0};
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, &st), 2);
	cr_assert_eq(st.sent, 2);
	cr_assert_str_eq(dq_text(a, "state"), "sent");
	cr_assert_str_eq(dq_text(a, "provider_ref"), "log");
	cr_assert_str_eq(dq_text(a, "body"), "Body http://x/i/1");
	cr_assert_eq(dq_int(a, "attempts"), 1);
	cr_assert_leq(dq_int(a, "sent_at") - DQ_NOW, 2);
	cr_assert_str_eq(dq_text(b, "state"), "sent");
	/* nothing is due any more: a second pass claims nothing, sends nothing twice */
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 3600, NULL), 0);
	cr_assert_eq(dq_int(a, "attempts"), 1);
	comms_dispatcher_free(d);
}

Test(dispatch, not_due_is_left_alone)
{
	int64_t a = dq_add(ORG_A, "email", "a@example.it", "S", "B");
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE messages SET next_attempt_at = ? WHERE id = ?", "ii",
	                        DQ_NOW + 100, a),
	             0);
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 0);
	cr_assert_str_eq(dq_text(a, "state"), "queued");
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 100, NULL), 1);
	cr_assert_str_eq(dq_text(a, "state"), "sent");
	comms_dispatcher_free(d);
}

Test(dispatch, stale_claim_is_reclaimed_only_after_the_timeout)
{
	dq_set("dispatch_claim_timeout", "300");
	int64_t a = dq_add(ORG_A, "email", "a@example.it", "S", "B");
	/* a node claimed it at DQ_NOW and died */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE messages SET state = 'sending', claimed_by = 'dead:1:1', "
	                        "claimed_at = ?, attempts = 1 WHERE id = ?",
	                        "ii", DQ_NOW, a),
	             0);
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 299, NULL), 0);
	cr_assert_str_eq(dq_text(a, "state"), "sending");
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 301, NULL), 1);
	cr_assert_str_eq(dq_text(a, "state"), "sent");
	cr_assert_eq(dq_int(a, "attempts"), 2);
	cr_assert_neq(strcmp(dq_text(a, "claimed_by"), "dead:1:1"), 0);
	comms_dispatcher_free(d);
}

Test(dispatch, stale_claim_without_tries_left_is_dead)
{
	dq_set("max_attempts", "2");
	int64_t a = dq_add(ORG_A, "email", "a@example.it", "S", "B");
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE messages SET state = 'sending', claimed_by = 'x', "
	                        "claimed_at = 0, attempts = 2 WHERE id = ?",
	                        "i", a),
	             0);
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	cr_assert_str_eq(dq_text(a, "state"), "dead");
	cr_assert(strstr(dq_text(a, "last_error"), "interrupted") != NULL);
	comms_dispatcher_free(d);
}

/* An SMS gateway URL where nothing listens. */
static void gateway_down(void)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/sms", sink_dead_port());
	dq_set("transport", "sms-http");
	dq_set("sms_url", url);
}

Test(dispatch, retries_with_backoff_then_dead)
{
	gateway_down();
	dq_set("max_attempts", "3");
	int64_t a = dq_add(ORG_A, "sms", "+393331234567", NULL, "secret body text");
	struct comms_dispatcher *d = dq_dispatcher();
	int64_t now = DQ_NOW;
	for (int try = 1; try <= 2; try++) {
		cr_assert_eq(comms_dispatch_pass(d, now, NULL), 1);
		cr_assert_str_eq(dq_text(a, "state"), "failed");
		cr_assert_eq(dq_int(a, "attempts"), try);
		/* the pass's clock runs on in real time: a second may tick during the try */
		int64_t next = dq_int(a, "next_attempt_at");
		cr_assert_geq(next, now + comms_dispatch_backoff(try));
		cr_assert_leq(next, now + comms_dispatch_backoff(try) + 2);
		cr_assert_eq(comms_dispatch_pass(d, next - 1, NULL), 0);
		now = next;
	}
	cr_assert_eq(comms_dispatch_pass(d, now, NULL), 1);
	cr_assert_str_eq(dq_text(a, "state"), "dead");
	cr_assert_eq(dq_int(a, "attempts"), 3);
	const char *err = dq_text(a, "last_error");
	cr_assert(strstr(err, "gave up after 3 tries") != NULL, "%s", err);
	cr_assert(strstr(err, "secret") == NULL);
	cr_assert_eq(comms_dispatch_pass(d, now + 86400 * 30, NULL), 0);
	comms_dispatcher_free(d);
}

Test(dispatch, provider_down_gives_the_rest_back_untried)
{
	gateway_down();
	int64_t ids[5];
	for (int i = 0; i < 5; i++)
		ids[i] = dq_add(ORG_A, "sms", "+393331234567", NULL, "x");
	int64_t mail = dq_add(ORG_A, "email", "a@example.it", "S", "B"); /* no smtp_url: stays */
	struct comms_dispatcher *d = dq_dispatcher();
	struct comms_dispatch_stats st = {0};
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, &st), 5);
	cr_assert_eq(st.retried, 1);
	cr_assert_eq(st.released, 4);
	cr_assert_eq(dq_int(ids[0], "attempts"), 1);
	for (int i = 1; i < 5; i++) {
		cr_assert_str_eq(dq_text(ids[i], "state"), "queued");
		cr_assert_eq(dq_int(ids[i], "attempts"), 0);
		cr_assert_leq(dq_int(ids[i], "next_attempt_at") - (DQ_NOW + 60), 2);
	}
	cr_assert_str_eq(dq_text(mail, "state"), "queued");
	cr_assert_eq(dq_int(mail, "attempts"), 0);
	comms_dispatcher_free(d);
}

/* --- two nodes ---------------------------------------------------------------- */

struct node {
	struct store *st;
	struct comms_dispatcher *d;
	struct comms_dispatch_stats stats;
	pthread_barrier_t *go;
};

static void *node_run(void *arg)
{
	struct node *n = arg;
	pthread_barrier_wait(n->go);
	while (comms_dispatch_pass(n->d, DQ_NOW, &n->stats) > 0)
		;
	return NULL;
}

Test(dispatch, two_nodes_send_every_message_once, .timeout = 120)
{
	enum { N = 600 };
	dq_set("dispatch_batch", "25");
	cr_assert_eq(store_begin(fx_conn), 0);
	for (int i = 0; i < N; i++)
		dq_add(i % 2 ? ORG_A : ORG_B, i % 3 ? "email" : "sms", "a@example.it", "S", "B");
	cr_assert_eq(store_commit(fx_conn), 0);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	struct node nodes[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].go = &go;
		/* each node its own store: its own connections, as two processes have */
		cr_assert_eq(store_open(&nodes[i].st, fx_url, 2), 0);
		cr_assert_eq(comms_dispatcher_create(&nodes[i].d, nodes[i].st, &dq_cfg), 0);
		cr_assert_eq(pthread_create(&th[i], NULL, node_run, &nodes[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	int sent = nodes[0].stats.sent + nodes[1].stats.sent;
	cr_assert_eq(sent, N, "sent %d + %d", nodes[0].stats.sent, nodes[1].stats.sent);
	cr_assert_eq(dq_count("sent"), N, "sent %lld, sending %lld, queued %lld",
	             (long long)dq_count("sent"), (long long)dq_count("sending"),
	             (long long)dq_count("queued"));
	int64_t twice = -1;
	cr_assert_eq(
	    store_scalar(fx_conn, &twice, "SELECT COUNT(*) FROM messages WHERE attempts <> 1", ""),
	    0);
	cr_assert_eq(twice, 0);
	for (int i = 0; i < 2; i++) {
		comms_dispatcher_free(nodes[i].d);
		store_free(nodes[i].st);
	}
	pthread_barrier_destroy(&go);
}

/* --- throttle and thread ---------------------------------------------------------- */

Test(dispatch, token_bucket_limits_the_rate, .timeout = 30)
{
	dq_set("rate_email_per_sec", "20");
	for (int i = 0; i < 50; i++)
		dq_add(ORG_A, "email", "a@example.it", "S", "B");
	struct comms_dispatcher *d = dq_dispatcher();
	int64_t t0 = now_ms();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 50);
	int64_t ms = now_ms() - t0;
	/* 20 at once (the bucket starts full), then 30 at 20 a second: 1.5 s */
	cr_assert_geq(ms, 1400, "took %lld ms", (long long)ms);
	cr_assert_eq(dq_count("sent"), 50);
	comms_dispatcher_free(d);
}

Test(dispatch, thread_sends_and_stops_promptly, .timeout = 30)
{
	dq_set("dispatch_interval_ms", "50");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatcher_start(d), 0);
	int64_t a = dq_add(ORG_A, "email", "a@example.it", "S", "B");
	for (int i = 0; i < 100 && strcmp(dq_text(a, "state"), "sent") != 0; i++)
		usleep(50000);
	cr_assert_str_eq(dq_text(a, "state"), "sent");
	dq_set("dispatch_interval_ms", "3600000"); /* a stop must not wait for the pause */
	usleep(100000);
	int64_t t0 = now_ms();
	comms_dispatcher_stop(d);
	cr_assert_lt(now_ms() - t0, 15000, "a stop waited for the hour-long pause");
	comms_dispatcher_free(d);
}

Test(dispatch, stop_during_throttle_gives_the_rest_back, .timeout = 30)
{
	dq_set("rate_email_per_sec", "1");
	for (int i = 0; i < 5; i++)
		dq_add(ORG_A, "email", "a@example.it", "S", "B");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatcher_start(d), 0);
	usleep(300000);
	comms_dispatcher_stop(d);
	cr_assert_eq(dq_count("sending"), 0);
	cr_assert_eq(dq_count("sent") + dq_count("queued"), 5);
	cr_assert_geq(dq_count("queued"), 3);
	comms_dispatcher_free(d);
}

/* --- the staff page's queries -------------------------------------------------------- */

Test(dispatch, list_is_confined_filtered_and_paged)
{
	int64_t ids[7];
	for (int i = 0; i < 7; i++)
		ids[i] = dq_add(ORG_A, "email", "a@example.it", "S", "B");
	dq_add(ORG_B, "email", "b@example.it", "S", "B");
	cr_assert_eq(store_exec(fx_conn, NULL, "UPDATE messages SET state = 'dead' WHERE id = ?",
	                        "i", ids[2]),
	             0);
	struct comms_message_row *rows;
	int n, more;
	struct comms_message_filter f = {.state = "", .before_id = 0, .limit = 3};
	cr_assert_eq(comms_message_list(fx_conn, ORG_A, &f, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 3);
	cr_assert(more);
	cr_assert_eq(rows[0].id, ids[6]);
	cr_assert_eq(rows[2].id, ids[4]);
	f.before_id = rows[2].id;
	cr_assert_eq(comms_message_list(fx_conn, ORG_A, &f, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 3);
	f.before_id = rows[2].id;
	cr_assert_eq(comms_message_list(fx_conn, ORG_A, &f, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_not(more);
	cr_assert_eq(rows[0].id, ids[0]);
	struct comms_message_filter dead = {.state = "dead", .limit = 50};
	cr_assert_eq(comms_message_list(fx_conn, ORG_A, &dead, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].id, ids[2]);
	struct comms_message_filter bad = {.state = "x' OR 1=1", .limit = 50};
	cr_assert_eq(comms_message_list(fx_conn, ORG_A, &bad, &rows, &n, &more, fx_arena),
	             STORE_INVALID);
	int64_t counts[5];
	cr_assert_eq(comms_message_counts(fx_conn, ORG_A, counts), 0);
	cr_assert_eq(counts[0], 6); /* queued */
	cr_assert_eq(counts[4], 1); /* dead */
}

Test(dispatch, retry_revives_only_a_dead_message_of_the_org)
{
	int64_t a = dq_add(ORG_A, "email", "a@example.it", "S", "B");
	int64_t q = dq_add(ORG_A, "email", "a@example.it", "S", "B");
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE messages SET state = 'dead', attempts = 6, "
	                        "last_error = 'SMTP 550' WHERE id = ?",
	                        "i", a),
	             0);
	cr_assert_eq(comms_message_retry(fx_conn, ORG_B, a, DQ_NOW), STORE_NOTFOUND);
	cr_assert_eq(comms_message_retry(fx_conn, ORG_A, q, DQ_NOW), STORE_NOTFOUND);
	cr_assert_eq(comms_message_retry(fx_conn, ORG_A, a, DQ_NOW), 0);
	cr_assert_str_eq(dq_text(a, "state"), "queued");
	cr_assert_eq(dq_int(a, "attempts"), 0);
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 2);
	cr_assert_str_eq(dq_text(a, "state"), "sent");
	comms_dispatcher_free(d);
}
