/*
 * Tests of src/pay/stripe_webhook.c. First pay_stripe_verify() alone (no
 * database): a known answer computed outside invito, then every way a header
 * can be wrong. Then pay_webhook() end to end on the store: a paid checkout is
 * marked paid once, a replay changes nothing, forged and stale deliveries are
 * refused, and concurrent deliveries on several "nodes" (own store and own
 * struct pay each) change the payment exactly once.
 */
#include "fixture.h"

#include "lib/arena.h"

#include <pthread.h>
#include <time.h>

#define NOW 1700000000

/* --- signature ---------------------------------------------------------- */

TestSuite(pay_signature);

/* python3: hmac.new(b'whsec_test_secret', b'1700000000.' + body, sha256).hexdigest() */
static const char kat_body[] = "{\"id\":\"evt_1\",\"type\":\"ping\"}";
static const char kat_sig[] = "74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2";

static int verify(const char *header, const char *body, int64_t now)
{
	return pay_stripe_verify(header, body, strlen(body), "whsec_test_secret", 300, now);
}

static const char *hdr(const char *fmt, const char *a, const char *b)
{
	static char h[1024];
	snprintf(h, sizeof(h), fmt, a, b);
	return h;
}

Test(pay_signature, known_answer_verifies)
{
	cr_assert_eq(verify(hdr("t=1700000000,v1=%s", kat_sig, ""), kat_body, NOW), 0);
	/* spaces around elements, as some proxies write them */
	cr_assert_eq(verify(hdr("t=1700000000, v1=%s ", kat_sig, ""), kat_body, NOW), 0);
	/* other schemes are ignored */
	cr_assert_eq(verify(hdr("t=1700000000,v0=abc,v1=%s", kat_sig, ""), kat_body, NOW), 0);
}

Test(pay_signature, wrong_secret_refused)
{
	const char *h = hdr("t=1700000000,v1=%s", kat_sig, "");
	cr_assert_eq(pay_stripe_verify(h, kat_body, strlen(kat_body), "whsec_other", 300, NOW),
	             PAY_SIGNATURE);
	cr_assert_eq(pay_stripe_verify(h, kat_body, strlen(kat_body), "", 300, NOW), PAY_CONFIG);
}

Test(pay_signature, tampered_payload_refused)
{
	const char *h = hdr("t=1700000000,v1=%s", kat_sig, "");
	cr_assert_eq(verify(h, "{\"id\":\"evt_1\",\"type\":\"pong\"}", NOW), PAY_SIGNATURE);
	cr_assert_eq(verify(h, "{\"id\":\"evt_1\",\"type\":\"ping\"} ", NOW), PAY_SIGNATURE);
	/* the signed timestamp is part of the message: changing it breaks the signature */
	cr_assert_eq(verify(hdr("t=1700000001,v1=%s", kat_sig, ""), kat_body, NOW), PAY_SIGNATURE);
	/* only len bytes are signed */
	cr_assert_eq(
	    pay_stripe_verify(h, kat_body, strlen(kat_body) - 1, "whsec_test_secret", 300, NOW),
	    PAY_SIGNATURE);
}

Test(pay_signature, stale_timestamp_refused)
{
	const char *h = hdr("t=1700000000,v1=%s", kat_sig, "");
	cr_assert_eq(verify(h, kat_body, NOW + 300), 0); /* at the edge */
	cr_assert_eq(verify(h, kat_body, NOW + 301), PAY_STALE);
	cr_assert_eq(verify(h, kat_body, NOW + 86400), PAY_STALE);
	/* the tolerance is the caller's */
	cr_assert_eq(
	    pay_stripe_verify(h, kat_body, strlen(kat_body), "whsec_test_secret", 3600, NOW + 3000),
	    0);
}

Test(pay_signature, future_timestamp_refused)
{
	const char *h = hdr("t=1700000000,v1=%s", kat_sig, "");
	cr_assert_eq(verify(h, kat_body, NOW - 300), 0);
	cr_assert_eq(verify(h, kat_body, NOW - 301), PAY_STALE);
}

Test(pay_signature, several_v1_one_valid)
{
	const char *bad = "0000000000000000000000000000000000000000000000000000000000000000";
	cr_assert_eq(verify(hdr("t=1700000000,v1=%s,v1=%s", bad, kat_sig), kat_body, NOW), 0);
	cr_assert_eq(verify(hdr("t=1700000000,v1=%s,v1=%s", kat_sig, bad), kat_body, NOW), 0);
	/* a malformed v1 beside a good one does not spoil it */
	cr_assert_eq(verify(hdr("t=1700000000,v1=%s,v1=%s", "zz", kat_sig), kat_body, NOW), 0);
	cr_assert_eq(verify(hdr("t=1700000000,v1=%s,v1=%s", bad, bad), kat_body, NOW),
	             PAY_SIGNATURE);
}

Test(pay_signature, malformed_headers_refused)
{
	const char *cases[] = {
	    "",
	    "garbage",
	    "t=1700000000",                                                        /* no v1 */
	    "v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2", /* no t */
	    "t=,v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2",
	    "t=17e8,v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2",
	    "t=-1,v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2",
	    "t=1700000000,t=1700000000,"
	    "v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2",
	    "t=1700000000,v1=74A11ABDD08483D064A2A1571E7881B084C522F9F3CCD0B800EC8C74ABA47FC",
	    "t=1700000000,v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47f",
	    "t=1700000000;v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2",
	    "t=99999999999999999999,v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74a"
	    "ba47fc2",
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		cr_expect_eq(verify(cases[i], kat_body, NOW), PAY_SIGNATURE, "case %zu: %s", i,
		             cases[i]);
	cr_assert_eq(verify(NULL, kat_body, NOW), PAY_SIGNATURE);
	/* more v1 entries than anyone sends */
	char many[2048] = "t=1700000000";
	for (int i = 0; i < 9; i++) {
		strcat(many, ",v1=");
		strcat(many, kat_sig);
	}
	cr_assert_eq(verify(many, kat_body, NOW), PAY_SIGNATURE);
	/* a huge header */
	static char huge[20000];
	memset(huge, ' ', sizeof(huge) - 1);
	memcpy(huge, "t=1700000000,v1=", 16);
	cr_assert_eq(verify(huge, kat_body, NOW), PAY_SIGNATURE);
}

Test(pay_signature, matches_our_test_signer)
{
	char h[256];
	pf_sign(h, sizeof(h), "whsec_test_secret", NOW, kat_body);
	cr_assert_str_eq(h, hdr("t=1700000000,v1=%s", kat_sig, ""));
}

/* --- webhook on the store ------------------------------------------------ */

TestSuite(pay_webhook, .init = pf_setup, .fini = pf_teardown);

static struct pay *pay;

/* A pending Stripe payment for a new appointment, as if a checkout had run. */
static int64_t stripe_payment(const char *session, int64_t amount, int64_t *appt)
{
	int64_t id = 0;
	*appt = pf_appointment("mandatory", amount);
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO payments (appointment_id, provider, provider_ref, "
	                          "state, amount_cents, currency, created_at, updated_at) "
	                          "VALUES (?, 'stripe', ?, 'pending', ?, 'EUR', ?, ?) RETURNING id",
	                          "itiii", *appt, session, amount, now_utc(), now_utc()),
	             0);
	return id;
}

static char *event(const char *evt, const char *type, const char *session, const char *status,
                   int64_t amount)
{
	return arena_printf(fx_arena,
	                    "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"%s\","
	                    "\"data\":{\"object\":{\"id\":\"%s\",\"object\":\"checkout.session\","
	                    "\"payment_status\":\"%s\",\"amount_total\":%lld,\"currency\":\"eur\","
	                    "\"client_reference_id\":\"1\",\"metadata\":{}}}}",
	                    evt, type, session, status, (long long)amount);
}

static int deliver(struct pay *p, struct store_conn *c, const char *body, int64_t ts,
                   struct pay_result *r)
{
	char h[256];
	pf_sign(h, sizeof(h), PF_SECRET, ts, body);
	return pay_webhook(p, c, h, body, strlen(body), now_utc(), r);
}

static void stripe_pay(void)
{
	cr_assert_eq(pay_create(&pay, pf_config("stripe", NULL)), 0);
}

Test(pay_webhook, paid_once_then_replay_changes_nothing)
{
	int64_t appt = 0, pid = stripe_payment("cs_test_a1", 8000, &appt);
	struct pay_result r;
	stripe_pay();
	char *body = event("evt_1", "checkout.session.completed", "cs_test_a1", "paid", 8000);
	cr_assert_eq(deliver(pay, fx_conn, body, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_PAID);
	cr_assert_eq(r.payment_id, pid);
	cr_assert_eq(r.appointment_id, appt);
	cr_assert_str_eq(pf_state(pid), "succeeded");
	int64_t paid = pf_paid_at(appt);
	cr_assert_neq(paid, 0);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM audit_events WHERE subject_id = ? AND "
	                      "action = 'appointment.paid'",
	                      appt),
	             1);

	/* the same event again, freshly signed: acknowledged (200), nothing changes */
	cr_assert_eq(deliver(pay, fx_conn, body, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_DUPLICATE);
	cr_assert_eq(pay_webhook_status(0), 200);
	cr_assert_eq(pf_paid_at(appt), paid);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM payment_events WHERE payment_id = ?", pid), 1);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM audit_events WHERE subject_id = ? AND "
	                      "action = 'appointment.paid'",
	                      appt),
	             1);

	/* another event for the same session: the payment is no longer pending */
	char *body2 = event("evt_2", "checkout.session.completed", "cs_test_a1", "paid", 8000);
	cr_assert_eq(deliver(pay, fx_conn, body2, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_DUPLICATE);
	cr_assert_eq(pf_paid_at(appt), paid);
	pay_free(pay);
}

Test(pay_webhook, forged_and_stale_refused)
{
	int64_t appt = 0, pid = stripe_payment("cs_test_f1", 8000, &appt);
	struct pay_result r;
	char h[256];
	stripe_pay();
	char *body = event("evt_f", "checkout.session.completed", "cs_test_f1", "paid", 8000);

	pf_sign(h, sizeof(h), "whsec_attacker", now_utc(), body);
	int rc = pay_webhook(pay, fx_conn, h, body, strlen(body), now_utc(), &r);
	cr_assert_eq(rc, PAY_SIGNATURE);
	cr_assert_eq(pay_webhook_status(rc), 400);

	rc = deliver(pay, fx_conn, body, now_utc() - 301, &r);
	cr_assert_eq(rc, PAY_STALE);
	cr_assert_eq(pay_webhook_status(rc), 400);

	rc = pay_webhook(pay, fx_conn, NULL, body, strlen(body), now_utc(), &r);
	cr_assert_eq(rc, PAY_SIGNATURE);

	/* signed with the right secret, then altered to point at another amount */
	pf_sign(h, sizeof(h), PF_SECRET, now_utc(), body);
	char *tampered = event("evt_f", "checkout.session.completed", "cs_test_f1", "paid", 1);
	cr_assert_eq(pay_webhook(pay, fx_conn, h, tampered, strlen(tampered), now_utc(), &r),
	             PAY_SIGNATURE);

	cr_assert_str_eq(pf_state(pid), "pending");
	cr_assert_eq(pf_paid_at(appt), 0);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM payment_events WHERE payment_id = ?", pid), 0);
	/* the refused event id is still usable by the real delivery */
	cr_assert_eq(deliver(pay, fx_conn, body, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_PAID);
	pay_free(pay);
}

Test(pay_webhook, events_that_pay_nothing)
{
	int64_t appt = 0, pid = stripe_payment("cs_test_n1", 8000, &appt);
	struct pay_result r;
	stripe_pay();
	/* other types */
	cr_assert_eq(
	    deliver(pay, fx_conn, "{\"id\":\"evt_x\",\"type\":\"charge.refunded\"}", now_utc(), &r),
	    0);
	cr_assert_eq(r.outcome, PAY_OUT_IGNORED);
	/* completed but not paid yet (delayed methods) */
	cr_assert_eq(
	    deliver(pay, fx_conn,
	            event("evt_u", "checkout.session.completed", "cs_test_n1", "unpaid", 8000),
	            now_utc(), &r),
	    0);
	cr_assert_eq(r.outcome, PAY_OUT_IGNORED);
	/* a session that is not ours */
	cr_assert_eq(
	    deliver(pay, fx_conn,
	            event("evt_o", "checkout.session.completed", "cs_test_other", "paid", 8000),
	            now_utc(), &r),
	    0);
	cr_assert_eq(r.outcome, PAY_OUT_IGNORED);
	/* an amount that differs from the checkout's */
	cr_assert_eq(
	    deliver(pay, fx_conn,
	            event("evt_m", "checkout.session.completed", "cs_test_n1", "paid", 100),
	            now_utc(), &r),
	    0);
	cr_assert_eq(r.outcome, PAY_OUT_IGNORED);
	cr_assert_str_eq(pf_state(pid), "pending");
	cr_assert_eq(pf_paid_at(appt), 0);
	/* signed but not an event */
	int rc = deliver(pay, fx_conn, "[1,2]", now_utc(), &r);
	cr_assert_eq(rc, PAY_INVALID);
	cr_assert_eq(pay_webhook_status(rc), 400);
	rc = deliver(pay, fx_conn, "{\"id\":\"evt_b\",\"type\":\"checkout.session.completed\"}",
	             now_utc(), &r);
	cr_assert_eq(rc, PAY_INVALID);
	pay_free(pay);
}

Test(pay_webhook, sandbox_takes_no_webhooks)
{
	struct pay_result r;
	cr_assert_eq(pay_create(&pay, pf_config("sandbox", NULL)), 0);
	int rc = pay_webhook(pay, fx_conn, "t=1,v1=00", "{}", 2, now_utc(), &r);
	cr_assert_eq(rc, PAY_DISABLED);
	cr_assert_eq(pay_webhook_status(rc), 404);
	pay_free(pay);
}

/* --- concurrent deliveries ----------------------------------------------- */

#define NODES 8

struct race {
	pthread_barrier_t start;
	const char *bodies[NODES]; /* what each node receives */
	int rc[NODES];
	enum pay_outcome outcome[NODES];
};

struct node_arg {
	struct race *r;
	int n;
};

static void *node(void *arg)
{
	struct node_arg *na = arg;
	struct store *st = NULL;
	struct pay *p = NULL;
	struct pay_result res = {0};
	struct config cfg;
	char h[256];
	/* One node: its own store (connections) and its own configured provider. No
	 * cr_assert here: Criterion's assertions belong to the test's thread. */
	int setup = store_open(&st, fx_url, 1) == 0 &&
	            pay_create(&p, pf_config_fill(&cfg, "stripe", NULL)) == 0;
	struct store_conn *c = setup ? store_acquire(st) : NULL;
	const char *body = na->r->bodies[na->n];
	pf_sign(h, sizeof(h), PF_SECRET, now_utc(), body);
	pthread_barrier_wait(&na->r->start);
	na->r->rc[na->n] = setup ? pay_webhook(p, c, h, body, strlen(body), now_utc(), &res) : -100;
	na->r->outcome[na->n] = res.outcome;
	if (c != NULL)
		store_release(c);
	store_free(st);
	pay_free(p);
	return NULL;
}

static void run_race(struct race *r)
{
	pthread_t t[NODES];
	struct node_arg args[NODES];
	pthread_barrier_init(&r->start, NULL, NODES);
	for (int i = 0; i < NODES; i++) {
		args[i] = (struct node_arg){r, i};
		cr_assert_eq(pthread_create(&t[i], NULL, node, &args[i]), 0);
	}
	for (int i = 0; i < NODES; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&r->start);
}

static void expect_one_paid(struct race *r, int64_t appt, int64_t pid)
{
	int paid = 0, dup = 0;
	for (int i = 0; i < NODES; i++) {
		cr_assert_eq(r->rc[i], 0, "node %d: %s", i, pay_strerror(r->rc[i]));
		paid += r->outcome[i] == PAY_OUT_PAID;
		dup += r->outcome[i] == PAY_OUT_DUPLICATE;
	}
	cr_assert_eq(paid, 1);
	cr_assert_eq(dup, NODES - 1);
	cr_assert_str_eq(pf_state(pid), "succeeded");
	cr_assert_neq(pf_paid_at(appt), 0);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM audit_events WHERE subject_id = ? AND "
	                      "action = 'appointment.paid'",
	                      appt),
	             1);
}

Test(pay_webhook, concurrent_deliveries_of_one_event_change_once)
{
	int64_t appt = 0, pid = stripe_payment("cs_test_race1", 8000, &appt);
	struct race r = {0};
	char *body = event("evt_race", "checkout.session.completed", "cs_test_race1", "paid", 8000);
	for (int i = 0; i < NODES; i++)
		r.bodies[i] = body;
	run_race(&r);
	expect_one_paid(&r, appt, pid);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM payment_events WHERE payment_id = ?", pid), 1);
}

Test(pay_webhook, concurrent_events_for_one_session_change_once)
{
	int64_t appt = 0, pid = stripe_payment("cs_test_race2", 8000, &appt);
	struct race r = {0};
	for (int i = 0; i < NODES; i++)
		r.bodies[i] = event(arena_printf(fx_arena, "evt_race2_%d", i),
		                    "checkout.session.completed", "cs_test_race2", "paid", 8000);
	run_race(&r);
	expect_one_paid(&r, appt, pid);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM payment_events WHERE payment_id = ?", pid),
	             NODES);
}

/* A deterministic interleaving: node A has inserted the event and settled the
 * payment but not committed when node B's delivery arrives. B must wait for A
 * and then change nothing (PostgreSQL: B blocks on A's index entry; SQLite: on
 * A's write lock). */
struct late {
	const char *body;
	int rc;
	enum pay_outcome outcome;
};

static void *late_node(void *arg)
{
	struct late *l = arg;
	struct store *st = NULL;
	struct pay *p = NULL;
	struct pay_result res = {0};
	struct config cfg;
	l->rc = -100;
	if (store_open(&st, fx_url, 1) == 0 &&
	    pay_create(&p, pf_config_fill(&cfg, "stripe", NULL)) == 0) {
		struct store_conn *c = store_acquire(st);
		l->rc = deliver(p, c, l->body, now_utc(), &res);
		store_release(c);
	}
	l->outcome = res.outcome;
	store_free(st);
	pay_free(p);
	return NULL;
}

Test(pay_webhook, delivery_during_another_nodes_transaction_waits_and_changes_nothing)
{
	int64_t appt = 0, pid = stripe_payment("cs_test_late", 8000, &appt);
	struct late l = {
	    .body = event("evt_late", "checkout.session.completed", "cs_test_late", "paid", 8000)};
	struct store *a_st = NULL;
	cr_assert_eq(store_open(&a_st, fx_url, 1), 0);
	struct store_conn *a = store_acquire(a_st);
	cr_assert_eq(store_begin(a), 0);
	cr_assert_eq(store_exec(a, NULL,
	                        "INSERT INTO payment_events (provider, event_id, type, payment_id, "
	                        "received_at) VALUES ('stripe', 'evt_late', 'x', ?, ?)",
	                        "ii", pid, now_utc()),
	             0);
	cr_assert_eq(store_exec(a, NULL,
	                        "UPDATE payments SET state = 'succeeded' WHERE id = ? "
	                        "AND state = 'pending'",
	                        "i", pid),
	             0);
	cr_assert_eq(
	    store_exec(a, NULL, "UPDATE appointments SET paid_at = 42 WHERE id = ?", "i", appt), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, late_node, &l), 0);
	struct timespec ts = {0, 300 * 1000000L};
	nanosleep(&ts, NULL);
	cr_assert_eq(store_commit(a), 0);
	pthread_join(t, NULL);
	store_release(a);
	store_free(a_st);
	cr_assert_eq(l.rc, 0, "%s", pay_strerror(l.rc));
	cr_assert_eq(l.outcome, PAY_OUT_DUPLICATE);
	cr_assert_eq(pf_paid_at(appt), 42);
	cr_assert_eq(pf_count("SELECT COUNT(*) FROM payment_events WHERE payment_id = ?", pid), 1);
}
