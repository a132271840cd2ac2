/* Tests for src/comms/purge.c: old message texts leave the outbox, the rows stay. */
#include "../invite/fixture.h"

#include "comms/dispatch.h"
#include "comms/outbox.h"

TestSuite(comms_purge, .init = fx_setup, .fini = fx_teardown);

#define DAY 86400

/* A message of org in state, sent (or created, when sent is 0) at time t; its id. */
static int64_t message(int64_t org, const char *state, int64_t t, int sent)
{
	int64_t id = 0;
	cr_assert_eq(comms_outbox_add(fx_conn, org, 0, "invitation", "email", "x@example.org",
	                              "Subject", "Your link: https://portal.example/i/abc", NULL, t,
	                              &id),
	             0);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE messages SET state = ?, sent_at = ? WHERE id = ?", "tii",
	                        state, sent ? t : 0, id),
	             0);
	if (!sent)
		cr_assert_eq(store_exec(fx_conn, NULL,
		                        "UPDATE messages SET sent_at = NULL WHERE id = ?", "i", id),
		             0);
	return id;
}

static int purged(int64_t id)
{
	return ix_count(
	           "SELECT COUNT(*) FROM messages WHERE id = ? AND body = '' AND subject IS NULL",
	           id) == 1;
}

static int purge(int64_t now)
{
	int removed = -1;
	cr_assert_eq(comms_outbox_purge(fx_store, now, &removed), 0);
	return removed;
}

Test(comms_purge, sent_and_dead_texts_go_after_thirty_days_the_rest_stays)
{
	int64_t old_sent = message(ORG_A, "sent", NOW - 31 * DAY, 1);
	int64_t new_sent = message(ORG_A, "sent", NOW - 29 * DAY, 1);
	int64_t old_dead = message(ORG_A, "dead", NOW - 40 * DAY, 0);
	int64_t old_queued = message(ORG_A, "queued", NOW - 90 * DAY, 0);
	int64_t old_failed = message(ORG_A, "failed", NOW - 90 * DAY, 0);

	cr_assert_eq(purge(NOW), 2);
	cr_assert(purged(old_sent));
	cr_assert(purged(old_dead));
	cr_assert_not(purged(new_sent), "younger than the period");
	cr_assert_not(purged(old_queued), "still to be sent");
	cr_assert_not(purged(old_failed), "still to be tried again");
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE id = ? AND state = 'sent' AND "
	                      "recipient = 'x@example.org' AND kind = 'invitation'",
	                      old_sent),
	             1, "the row itself stays");
	cr_assert_eq(purge(NOW), 0, "a second run has nothing left to do");
	cr_assert_eq(purge(NOW + 2 * DAY), 1, "the younger one's turn comes");
	cr_assert(purged(new_sent));
}

Test(comms_purge, each_organisation_keeps_texts_for_its_own_period)
{
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO org_settings (org_id, key, value) VALUES (?, "
	                        "'message_keep_days', '7')",
	                        "i", ORG_A),
	             0);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO org_settings (org_id, key, value) VALUES (?, "
	                        "'message_keep_days', 'forever')",
	                        "i", ORG_B),
	             0);
	int64_t a8 = message(ORG_A, "sent", NOW - 8 * DAY, 1);
	int64_t a6 = message(ORG_A, "sent", NOW - 6 * DAY, 1);
	int64_t b8 = message(ORG_B, "sent", NOW - 8 * DAY, 1);
	int64_t b31 = message(ORG_B, "sent", NOW - 31 * DAY, 1);
	cr_assert_eq(purge(NOW), 2);
	cr_assert(purged(a8));
	cr_assert_not(purged(a6));
	cr_assert_not(purged(b8), "a malformed setting counts as missing: 30 days");
	cr_assert(purged(b31));
}

Test(comms_purge, more_than_one_batch)
{
	for (int i = 0; i < 1203; i++)
		message(ORG_A, "sent", NOW - 60 * DAY, 1);
	cr_assert_eq(purge(NOW), 1203);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE body <> ''", 0), 0);
}

Test(comms_purge, a_dead_message_without_its_text_cannot_be_retried)
{
	int64_t dead = message(ORG_A, "dead", NOW - 40 * DAY, 0);
	int64_t recent = message(ORG_A, "dead", NOW - DAY, 0);
	cr_assert_eq(purge(NOW), 1);
	cr_assert_eq(comms_message_retry(fx_conn, ORG_A, dead, NOW), STORE_NOTFOUND);
	cr_assert_eq(comms_message_retry(fx_conn, ORG_A, recent, NOW), 0);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM messages WHERE id = ? AND state = 'queued'", recent), 1);
}
