/* Tests for src/invite/bulk.c: report counts, all-or-nothing, one-time batch keys. */
#include "fixture.h"

#include <pthread.h>

TestSuite(invite_bulk, .init = fx_setup, .fini = fx_teardown);

/* Six patients, one of each kind; ids in out[0..5]: ok, ok(sms only), account, family,
 * no contact, invited recently. */
static void six(int64_t out[6])
{
	out[0] = ix_damico();
	out[1] = ix_patient(ORG_A, "Marco", "Rossi", "1975-02-02", "+393330000002", NULL, "it");
	out[2] = ix_patient(ORG_A, "Eve", "Mail", "1990-01-01", NULL, "eve@example.org", "en");
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
	                        "VALUES (?, ?, 'eve@example.org', 'x')",
	                        "ii", out[2], PORTAL),
	             0);
	struct store_patient kid = {.org_id = ORG_A,
	                            .given_name = "Luca",
	                            .family_name = "D'Amico",
	                            .birth_date = "2015-03-03",
	                            .lang = "it",
	                            .managed_by = out[0]};
	cr_assert_eq(store_patient_add(fx_conn, &kid), 0);
	out[3] = kid.id;
	out[4] = ix_patient(ORG_A, "Ann", "Nocontact", "1990-01-01", NULL, NULL, "it");
	out[5] = ix_patient(ORG_A, "Sara", "Recent", "1990-01-01", "+393330000005", NULL, "it");
	struct invite_request r = {.org_id = ORG_A, .patient_id = out[5]};
	cr_assert_eq(invite_send(fx_conn, NULL, &r, NOW - 3600, NULL), 0);
}

Test(invite_bulk, report_counts_every_reason)
{
	int64_t ids[8];
	six(ids);
	ids[6] = ix_patient(ORG_B, "Bob", "Elsewhere", "1990-01-01", "+393330000001", NULL, "it");
	ids[7] = ids[0]; /* selected twice: invited once */
	struct invite_bulk_report pre, rep;
	cr_assert_eq(invite_bulk_preview(fx_conn, ORG_A, ids, 8, NOW, &pre), 0);
	cr_assert_eq(
	    invite_bulk(fx_conn, NULL, ORG_A, 0, ids, 8, "batch-1", "192.0.2.5", NOW, &rep), 0);
	cr_assert_eq(memcmp(&pre, &rep, sizeof(rep)), 0);
	cr_assert_eq(rep.invited, 2);
	cr_assert_eq(rep.has_account, 1);
	cr_assert_eq(rep.family, 1);
	cr_assert_eq(rep.no_contact, 1);
	cr_assert_eq(rep.recent, 1);
	cr_assert_eq(rep.not_found, 1);
	/* 1 earlier + 2 now; D'Amico gets sms + e-mail, Rossi sms: 3 messages + 1 earlier. */
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 3);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), 4);
	/* One audit event for the run, with the counts. */
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM audit_events WHERE action = 'invite.bulk' AND "
	                      "ip = '192.0.2.5' AND detail LIKE 'invited 2;%'",
	                      0),
	             1);
	/* Rows written in batches still carry their links, hashes and languages. */
	char tok[INVITE_TOKEN_CHARS + 1];
	ix_last_token("https://portal.example/i/", tok);
	struct invite_link l;
	cr_assert_eq(invite_open(fx_conn, tok, NOW, &l, fx_arena), 0);
}

Test(invite_bulk, same_batch_twice_invites_nobody_twice)
{
	int64_t ids[6];
	six(ids);
	struct invite_bulk_report a, b, c;
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, ids, 6, "form-42", NULL, NOW, &a), 0);
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, ids, 6, "form-42", NULL, NOW + 5, &b), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0,
	             "the second run reports the first run's numbers");
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 3);
	/* Another organisation may use the same key; a new key runs again (all recent now). */
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, ids, 6, "form-43", NULL, NOW + 5, &c), 0);
	cr_assert_eq(c.invited, 0);
	cr_assert_eq(c.recent, 3);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 3);
}

Test(invite_bulk, all_or_nothing)
{
	int64_t ids[6];
	six(ids);
	int64_t before = ix_count("SELECT COUNT(*) FROM messages", 0);
	/* A trigger makes the last message insert fail: nothing of the batch may stay. */
	if (fx_pg()) {
		cr_assert_eq(
		    store_exec(fx_conn, NULL,
		               "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
		               "'BEGIN IF NEW.recipient = ''+393330000002'' THEN "
		               "RAISE EXCEPTION ''boom''; END IF; RETURN NEW; END'",
		               ""),
		    0);
		cr_assert_eq(store_exec(fx_conn, NULL,
		                        "CREATE TRIGGER boom BEFORE INSERT ON messages "
		                        "FOR EACH ROW EXECUTE FUNCTION boom()",
		                        ""),
		             0);
	} else {
		cr_assert_eq(store_exec(fx_conn, NULL,
		                        "CREATE TRIGGER boom BEFORE INSERT ON messages "
		                        "WHEN NEW.recipient = '+393330000002' "
		                        "BEGIN SELECT RAISE(ABORT, 'boom'); END",
		                        ""),
		             0);
	}
	struct invite_bulk_report rep;
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, ids, 6, "form-7", NULL, NOW, &rep),
	             INVITE_ERR);
	cr_assert_eq(rep.invited, 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), before);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invite_batches", 0), 0);
	/* The key stays free: once fixed, the same form works. */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        fx_pg() ? "DROP TRIGGER boom ON messages" : "DROP TRIGGER boom",
	                        ""),
	             0);
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, ids, 6, "form-7", NULL, NOW, &rep), 0);
	cr_assert_eq(rep.invited, 2);
	/* The run skipped SQLite's foreign-key lookups; the connection checks them again. */
	cr_assert_neq(
	    store_exec(fx_conn, NULL,
	               "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	               "created_at, expires_at) VALUES (987654, ?, ?, ?, 0, 0)",
	               "iib", PORTAL, ORG_A, (const void *)"h", (size_t)1),
	    0);
}

Test(invite_bulk, a_staff_user_that_does_not_exist_invites_nobody)
{
	/* Every reference a run writes is read in its transaction: the sender's too. */
	int64_t ids[6];
	six(ids);
	int64_t inv = ix_count("SELECT COUNT(*) FROM invitations", 0);
	int64_t msg = ix_count("SELECT COUNT(*) FROM messages", 0);
	struct invite_bulk_report rep;
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 987654, ids, 6, "form-9", NULL, NOW, &rep),
	             INVITE_ERR);
	cr_assert_eq(rep.invited, 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), inv);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), msg);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invite_batches", 0), 0);
}

Test(invite_bulk, more_than_one_batch)
{
	int64_t ids[75];
	for (int i = 0; i < 75; i++) {
		char m[32];
		snprintf(m, sizeof(m), "+39333%07d", i);
		ids[i] = ix_patient(ORG_A, "P", "Many", "1990-01-01", m,
		                    i % 2 ? "many@example.org" : NULL, "en");
	}
	struct invite_bulk_report rep;
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, ids, 75, "big", NULL, NOW, &rep), 0);
	cr_assert_eq(rep.invited, 75);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 75);
	cr_assert_eq(ix_count("SELECT COUNT(DISTINCT token_hash) FROM invitations", 0), 75);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE channel = 'sms'", 0), 75);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE channel = 'email'", 0), 37);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE channel = 'both'", 0), 37);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE body NOT LIKE "
	                      "'%https://portal.example/i/%'",
	                      0),
	             0);
}

Test(invite_bulk, no_batch_key_and_empty_selection)
{
	struct invite_bulk_report rep;
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, NULL, 0, NULL, NULL, NOW, &rep), 0);
	cr_assert_eq(rep.invited + rep.not_found, 0);
	int64_t id = ix_damico();
	cr_assert_eq(invite_bulk(fx_conn, NULL, ORG_A, 0, &id, 1, NULL, NULL, NOW, &rep), 0);
	cr_assert_eq(rep.invited, 1);
}

/* --- two bulk runs of one selection at once (two staff, two forms) -------------------------- */

#define BULK_RACERS 4
#define BULK_RACE_N 40

struct bulk_race {
	struct store *st;
	int64_t ids[BULK_RACE_N];
	pthread_barrier_t go;
	int rc[BULK_RACERS];
	struct invite_bulk_report rep[BULK_RACERS];
};
struct bulk_racer {
	struct bulk_race *r;
	int i;
};

static void *bulk_racer(void *arg)
{
	struct bulk_racer *me = arg;
	struct store_conn *c = store_acquire(me->r->st);
	char batch[32];
	snprintf(batch, sizeof(batch), "form-of-racer-%d", me->i);
	pthread_barrier_wait(&me->r->go);
	me->r->rc[me->i] = invite_bulk(c, NULL, ORG_A, 0, me->r->ids, BULK_RACE_N, batch, NULL, NOW,
	                               &me->r->rep[me->i]);
	store_release(c);
	return NULL;
}

Test(invite_bulk, concurrent_runs_of_one_selection_invite_nobody_twice)
{
	struct bulk_race r = {0};
	for (int i = 0; i < BULK_RACE_N; i++) {
		char m[32];
		snprintf(m, sizeof(m), "+39334%07d", i);
		r.ids[i] = ix_patient(ORG_A, "Race", "Runner", "1980-01-01", m, NULL, "it");
	}
	cr_assert_eq(store_open(&r.st, fx_url, BULK_RACERS), 0);
	pthread_barrier_init(&r.go, NULL, BULK_RACERS);
	pthread_t th[BULK_RACERS];
	struct bulk_racer me[BULK_RACERS];
	for (int i = 0; i < BULK_RACERS; i++) {
		me[i] = (struct bulk_racer){&r, i};
		pthread_create(&th[i], NULL, bulk_racer, &me[i]);
	}
	for (int i = 0; i < BULK_RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&r.go);
	store_free(r.st);
	int invited = 0;
	for (int i = 0; i < BULK_RACERS; i++) {
		cr_assert(r.rc[i] == 0 || r.rc[i] == INVITE_BUSY, "racer %d: %d", i, r.rc[i]);
		if (r.rc[i] == 0)
			invited += r.rep[i].invited;
	}
	cr_assert_eq(invited, BULK_RACE_N, "every patient invited by exactly one run");
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), BULK_RACE_N);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), BULK_RACE_N);
}
