/*
 * Tests for src/invite/invite.c: creation (one invitation, one message per
 * channel, one transaction), skip reasons, the landing page's states, the
 * family-name check and lockout, acceptance and its race.
 */
#include "fixture.h"

#include "lib/arena.h"

#include <pthread.h>

TestSuite(invite_create, .init = fx_setup, .fini = fx_teardown);
TestSuite(invite_link, .init = fx_setup, .fini = fx_teardown);

static int create(int64_t id, const char *channel, int ignore_recent, int64_t *inv)
{
	struct invite_request r = {
	    .org_id = ORG_A, .patient_id = id, .channel = channel, .ignore_recent = ignore_recent};
	cr_assert_eq(store_begin(fx_conn), 0);
	int rc = invite_create(fx_conn, NULL, &r, NOW, inv);
	if (rc == 0)
		cr_assert_eq(store_commit(fx_conn), 0);
	else
		store_rollback(fx_conn);
	return rc;
}

Test(invite_create, one_invitation_and_one_message_per_channel)
{
	int64_t id = ix_damico(), inv = 0;
	cr_assert_eq(create(id, NULL, 0, &inv), 0);
	cr_assert_gt(inv, 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE kind = 'invitation' AND "
	                      "state = 'queued' AND patient_id = ?",
	                      id),
	             2);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE channel = 'sms' AND "
	                      "recipient = '+393331234567' AND subject IS NULL",
	                      0),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE channel = 'email' AND "
	                      "recipient = 'giulia@example.org' AND subject IS NOT NULL",
	                      0),
	             1);
	/* 30 days by default, built from portals.base_url, in the patient's language. */
	cr_assert_eq(ix_count("SELECT expires_at - created_at FROM invitations WHERE id = ?", inv),
	             30 * 86400);
	char tok[INVITE_TOKEN_CHARS + 1];
	ix_last_token("https://portal.example/i/", tok);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM messages WHERE body LIKE '%attiva il tuo accesso%'", 0),
	    1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE body LIKE '%{{%'", 0), 0);
	/* Both messages carry the same link, whose hash is the stored one. */
	unsigned char h[32];
	cr_assert_eq(invite_token_hash(tok, h), 0);
	int64_t n = 0;
	cr_assert_eq(store_scalar(fx_conn, &n,
	                          "SELECT COUNT(*) FROM invitations WHERE token_hash = ?", "b", h,
	                          sizeof(h)),
	             0);
	cr_assert_eq(n, 1);
}

Test(invite_create, channel_choice_and_english)
{
	int64_t id = ix_patient(ORG_A, "John", "Smith", "1970-01-01", "+393339999999",
	                        "john@example.org", "en");
	int64_t inv = 0;
	cr_assert_eq(create(id, "sms", 0, &inv), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), 1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE channel = 'sms' AND body LIKE "
	                      "'%activate your patient portal%'",
	                      0),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE channel = 'sms'", 0), 1);
}

Test(invite_create, nothing_on_rollback)
{
	int64_t id = ix_damico(), inv = 0;
	struct invite_request r = {.org_id = ORG_A, .patient_id = id};
	cr_assert_eq(store_begin(fx_conn), 0);
	cr_assert_eq(invite_create(fx_conn, NULL, &r, NOW, &inv), 0);
	store_rollback(fx_conn);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), 0);
}

Test(invite_create, skip_reasons)
{
	int64_t inv = 0;
	int64_t none = ix_patient(ORG_A, "Ann", "Nocontact", "1990-01-01", NULL, NULL, "it");
	int64_t mailonly =
	    ix_patient(ORG_A, "Eve", "Mail", "1990-01-01", NULL, "eve@example.org", "it");
	int64_t parent = ix_damico();
	struct store_patient kid = {.org_id = ORG_A,
	                            .given_name = "Luca",
	                            .family_name = "D'Amico",
	                            .birth_date = "2015-03-03",
	                            .lang = "it",
	                            .managed_by = parent};
	cr_assert_eq(store_patient_add(fx_conn, &kid), 0);
	int64_t other =
	    ix_patient(ORG_B, "Bob", "Elsewhere", "1990-01-01", "+393330000001", NULL, "it");

	cr_assert_eq(create(none, NULL, 0, &inv), INVITE_NO_CONTACT);
	cr_assert_eq(create(mailonly, "sms", 0, &inv), INVITE_NO_CONTACT);
	cr_assert_eq(create(kid.id, NULL, 0, &inv), INVITE_FAMILY);
	cr_assert_eq(create(other, NULL, 0, &inv), INVITE_NOTFOUND);
	cr_assert_eq(create(999999, NULL, 0, &inv), INVITE_NOTFOUND);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 0);

	/* Invited in the last 24 hours, unless ignore_recent. */
	cr_assert_eq(create(parent, NULL, 0, &inv), 0);
	cr_assert_eq(create(parent, NULL, 0, &inv), INVITE_RECENT);
	cr_assert_eq(create(parent, NULL, 1, &inv), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 2);

	/* Already has an account. */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
	                        "VALUES (?, ?, 'eve@example.org', 'x')",
	                        "ii", mailonly, PORTAL),
	             0);
	cr_assert_eq(create(mailonly, NULL, 0, &inv), INVITE_HAS_ACCOUNT);
}

Test(invite_create, recent_window_is_24_hours)
{
	int64_t id = ix_damico(), inv = 0;
	struct invite_request r = {.org_id = ORG_A, .patient_id = id};
	cr_assert_eq(invite_send(fx_conn, NULL, &r, NOW - 86400, &inv), 0);
	cr_assert_eq(create(id, NULL, 0, &inv), 0);
}

Test(invite_create, target_must_be_a_portal_path)
{
	int64_t id = ix_damico(), inv = 0;
	const char *bad[] = {
	    "https://evil.example/", "//evil.example", "/\\evil", "evil", "/a\r\nLocation: x", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct invite_request r = {.org_id = ORG_A, .patient_id = id, .target = bad[i]};
		cr_assert_eq(invite_send(fx_conn, NULL, &r, NOW, &inv), INVITE_BAD_TARGET, "%s",
		             bad[i]);
	}
	struct invite_request ok = {
	    .org_id = ORG_A, .patient_id = id, .target = "/appointments/7/pay"};
	cr_assert_eq(invite_send(fx_conn, NULL, &ok, NOW, &inv), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM audit_events WHERE action = 'invite.sent' AND "
	                      "subject_id = ?",
	                      inv),
	             1);
}

/* --- the link ------------------------------------------------------------ */

Test(invite_link, open_states)
{
	int64_t id = ix_damico();
	char tok[INVITE_TOKEN_CHARS + 1], bad[INVITE_TOKEN_CHARS + 1];
	struct invite_link l;
	ix_invite(id, NOW, tok);

	cr_assert_eq(invite_open(fx_conn, tok, NOW + 10, &l, fx_arena), 0);
	cr_assert_eq(l.patient_id, id);
	cr_assert_eq(l.attempts_left, 5);
	cr_assert_str_eq(l.target, "/");
	cr_assert_str_eq(l.portal_name, "Portal");
	cr_assert_eq(ix_count("SELECT opened_at FROM invitations WHERE patient_id = ?", id),
	             NOW + 10);
	cr_assert_eq(invite_open(fx_conn, tok, NOW + 20, &l, fx_arena), 0);
	cr_assert_eq(ix_count("SELECT opened_at FROM invitations WHERE patient_id = ?", id),
	             NOW + 10, "the first opening is kept");

	memcpy(bad, tok, sizeof(bad));
	bad[5] = bad[5] == 'x' ? 'y' : 'x';
	cr_assert_eq(invite_open(fx_conn, bad, NOW, &l, fx_arena), INVITE_UNKNOWN);
	cr_assert_eq(invite_open(fx_conn, "not-a-token", NOW, &l, fx_arena), INVITE_UNKNOWN);

	/* Expired: computed on read, written lazily. */
	cr_assert_eq(invite_open(fx_conn, tok, NOW + 30 * 86400, &l, fx_arena), INVITE_EXPIRED);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE state = 'expired'", 0), 1);
}

Test(invite_link, open_used_revoked_locked)
{
	int64_t id = ix_damico(), acc, pid, org;
	char t1[INVITE_TOKEN_CHARS + 1], t2[INVITE_TOKEN_CHARS + 1], t3[INVITE_TOKEN_CHARS + 1];
	char *target;
	struct invite_link l;
	ix_invite(id, NOW, t1);
	ix_invite(id, NOW, t2);
	cr_assert_eq(invite_accept(fx_conn, t1, "d'amico", PW_HASH, "198.51.100.1", NOW, &acc, &pid,
	                           &org, &target, fx_arena),
	             0);
	cr_assert_eq(invite_open(fx_conn, t1, NOW, &l, fx_arena), INVITE_USED);
	cr_assert_eq(invite_open(fx_conn, t2, NOW, &l, fx_arena), INVITE_REVOKED);

	int64_t other =
	    ix_patient(ORG_A, "Marco", "Rossi", "1975-02-02", "+393330000002", NULL, "it");
	ix_invite(other, NOW, t3);
	int left = -1;
	for (int i = 0; i < 5; i++)
		invite_check_name(fx_conn, t3, "Bianchi", NOW, NULL, &left);
	cr_assert_eq(invite_open(fx_conn, t3, NOW, &l, fx_arena), INVITE_LOCKED);
}

Test(invite_link, family_name_forms_match)
{
	int64_t id = ix_damico();
	char tok[INVITE_TOKEN_CHARS + 1];
	int left = -1;
	ix_invite(id, NOW, tok);
	const char *ok[] = {"D'Amico", "d’amico", "DAMICO", "d amico", "D-Amico", " dAmIcO "};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(invite_check_name(fx_conn, tok, ok[i], NOW, NULL, &left), 0, "%s",
		             ok[i]);
		cr_assert_eq(left, 5);
	}
	int64_t n =
	    ix_patient(ORG_A, "Nicolò", "Nicolò", "1960-06-06", "+393330000003", NULL, "it");
	ix_invite(n, NOW, tok);
	cr_assert_eq(invite_check_name(fx_conn, tok, "nicolo", NOW, NULL, &left), 0);
	cr_assert_eq(invite_check_name(fx_conn, tok, "NICOLÒ", NOW, NULL, &left), 0);
}

Test(invite_link, five_wrong_names_lock)
{
	int64_t id = ix_damico();
	char tok[INVITE_TOKEN_CHARS + 1];
	int left = -1;
	ix_invite(id, NOW, tok);
	for (int i = 4; i >= 1; i--) {
		cr_assert_eq(invite_check_name(fx_conn, tok, "Amico", NOW, "203.0.113.9", &left),
		             INVITE_WRONG_NAME);
		cr_assert_eq(left, i);
	}
	cr_assert_eq(invite_check_name(fx_conn, tok, "Rossi", NOW, "203.0.113.9", &left),
	             INVITE_LOCKED);
	cr_assert_eq(left, 0);
	/* Locked for good, even with the right name. */
	cr_assert_eq(invite_check_name(fx_conn, tok, "D'Amico", NOW, NULL, &left), INVITE_LOCKED);
	int64_t acc, pid, org;
	char *target;
	cr_assert_eq(invite_accept(fx_conn, tok, "D'Amico", PW_HASH, NULL, NOW, &acc, &pid, &org,
	                           &target, fx_arena),
	             INVITE_LOCKED);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM audit_events WHERE action = 'invite.locked' "
	                      "AND ip = '203.0.113.9'",
	                      0),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE state = 'locked' AND "
	                      "locked_at IS NOT NULL",
	                      0),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts", 0), 0);
}

Test(invite_link, accept_creates_account_and_consent)
{
	int64_t id = ix_damico(), acc = 0, pid = 0, org = 0;
	char t1[INVITE_TOKEN_CHARS + 1], t2[INVITE_TOKEN_CHARS + 1], t3[INVITE_TOKEN_CHARS + 1];
	char *target = NULL;
	ix_invite(id, NOW, t1);
	ix_invite(id, NOW, t2);
	struct invite_request r = {
	    .org_id = ORG_A, .patient_id = id, .target = "/appointments/7/pay", .ignore_recent = 1};
	cr_assert_eq(invite_send(fx_conn, NULL, &r, NOW, NULL), 0);
	ix_last_token("/i/", t3);

	cr_assert_eq(invite_accept(fx_conn, t3, "DAMICO", PW_HASH, "198.51.100.7", NOW + 60, &acc,
	                           &pid, &org, &target, fx_arena),
	             0);
	cr_assert_eq(pid, id);
	cr_assert_eq(org, ORG_A);
	cr_assert_str_eq(target, "/appointments/7/pay");
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts WHERE id = ? AND pw_hash IS NOT NULL "
	                      "AND login = 'giulia@example.org'",
	                      acc),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM consents WHERE account_id = ? AND kind = "
	                      "'privacy' AND version = '1' AND ip = '198.51.100.7'",
	                      acc),
	             1);
	cr_assert_eq(ix_count("SELECT accepted_at FROM invitations WHERE account_id = ?", acc),
	             NOW + 60);
	/* The other pending links are revoked. */
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE state = 'revoked'", 0), 2);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM audit_events WHERE action = 'invite.accepted'", 0), 1);
	/* Second acceptance of the same link, or of another one. */
	cr_assert_eq(invite_accept(fx_conn, t3, "DAMICO", PW_HASH, NULL, NOW + 61, &acc, &pid, &org,
	                           &target, fx_arena),
	             INVITE_USED);
	cr_assert_eq(invite_accept(fx_conn, t1, "DAMICO", PW_HASH, NULL, NOW + 61, &acc, &pid, &org,
	                           &target, fx_arena),
	             INVITE_REVOKED);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts", 0), 1);
}

Test(invite_link, accept_with_wrong_name_counts)
{
	int64_t id = ix_damico(), acc, pid, org;
	char tok[INVITE_TOKEN_CHARS + 1];
	char *target;
	ix_invite(id, NOW, tok);
	cr_assert_eq(invite_accept(fx_conn, tok, "Rossi", PW_HASH, NULL, NOW, &acc, &pid, &org,
	                           &target, fx_arena),
	             INVITE_WRONG_NAME);
	cr_assert_eq(ix_count("SELECT failed_attempts FROM invitations WHERE patient_id = ?", id),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts", 0), 0);
}

Test(invite_link, login_falls_back_to_mobile_when_email_is_taken)
{
	int64_t a = ix_damico();
	int64_t b = ix_patient(ORG_B, "Giulia", "Verdi", "1981-01-01", "+393337777777",
	                       "giulia@example.org", "it");
	int64_t acc, pid, org;
	char tok[INVITE_TOKEN_CHARS + 1];
	char *target;
	ix_invite(a, NOW, tok);
	cr_assert_eq(invite_accept(fx_conn, tok, "D'Amico", PW_HASH, NULL, NOW, &acc, &pid, &org,
	                           &target, fx_arena),
	             0);
	struct invite_request r = {.org_id = ORG_B, .patient_id = b};
	cr_assert_eq(invite_send(fx_conn, NULL, &r, NOW, NULL), 0);
	ix_last_token("/i/", tok);
	cr_assert_eq(invite_accept(fx_conn, tok, "Verdi", PW_HASH, NULL, NOW, &acc, &pid, &org,
	                           &target, fx_arena),
	             0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts WHERE login = '+393337777777'", 0), 1);
}

Test(invite_link, resend_from_expired_or_locked)
{
	int64_t id = ix_damico();
	char tok[INVITE_TOKEN_CHARS + 1], fresh[INVITE_TOKEN_CHARS + 1];
	ix_invite(id, NOW, tok);
	/* Usable link: nothing sent. */
	cr_assert_eq(invite_resend(fx_conn, NULL, tok, NULL, NOW + 3600), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 1);
	/* Expired: a fresh invitation to the contacts on file. */
	int64_t later = NOW + 31 * 86400;
	cr_assert_eq(invite_resend(fx_conn, NULL, tok, "203.0.113.1", later), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 2);
	ix_last_token("/i/", fresh);
	cr_assert_str_neq(fresh, tok);
	struct invite_link l;
	cr_assert_eq(invite_open(fx_conn, fresh, later, &l, fx_arena), 0);
	/* At most once per 15 minutes; unknown tokens are silent. */
	cr_assert_eq(invite_resend(fx_conn, NULL, tok, NULL, later + 60), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 2);
	cr_assert_eq(invite_resend(fx_conn, NULL, "AAAAAAAAAAAAAAAAAAAAAA", NULL, later), 0);
}

Test(invite_link, revoke_and_history)
{
	int64_t id = ix_damico(), inv = 0;
	char tok[INVITE_TOKEN_CHARS + 1];
	int64_t staff = 0;
	cr_assert_eq(store_staff_add(fx_conn, ORG_A, "rec@clinic.example", "Rita Reception", "x",
	                             STORE_ROLE_RECEPTION, &staff),
	             0);
	struct invite_request r = {
	    .org_id = ORG_A, .patient_id = id, .staff_id = staff, .channel = "email"};
	cr_assert_eq(invite_send(fx_conn, NULL, &r, NOW, &inv), 0);
	ix_last_token("/i/", tok);
	cr_assert_eq(invite_revoke(fx_conn, ORG_B, inv, staff, NULL, NOW), INVITE_NOTFOUND);
	cr_assert_eq(invite_revoke(fx_conn, ORG_A, inv, staff, "192.0.2.1", NOW), 0);
	cr_assert_eq(invite_revoke(fx_conn, ORG_A, inv, staff, NULL, NOW), INVITE_REVOKED);
	struct invite_link l;
	cr_assert_eq(invite_open(fx_conn, tok, NOW, &l, fx_arena), INVITE_REVOKED);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM audit_events WHERE action = 'invite.revoked'", 0), 1);

	struct invite_history_row *rows;
	int n = 0;
	cr_assert_eq(invite_history(fx_conn, ORG_A, id, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(rows[0].state, "revoked");
	cr_assert_str_eq(rows[0].channel, "email");
	cr_assert_str_eq(rows[0].staff_name, "Rita Reception");
	cr_assert_eq(invite_history(fx_conn, ORG_B, id, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 0);
}

/* --- the race ------------------------------------------------------------ */

#define RACERS 8

struct race {
	struct store *st;
	const char *token;
	pthread_barrier_t go;
	int rc[RACERS];
};
struct racer {
	struct race *r;
	int i;
};

static void *accept_racer(void *arg)
{
	struct racer *me = arg;
	struct store_conn *c = store_acquire(me->r->st);
	struct arena *a = arena_create();
	int64_t acc, pid, org;
	char *target;
	pthread_barrier_wait(&me->r->go);
	me->r->rc[me->i] = invite_accept(c, me->r->token, "D'Amico", PW_HASH, NULL, NOW, &acc, &pid,
	                                 &org, &target, a);
	arena_free(a);
	store_release(c);
	return NULL;
}

Test(invite_link, eight_concurrent_accepts_make_one_account)
{
	int64_t id = ix_damico();
	char tok[INVITE_TOKEN_CHARS + 1];
	ix_invite(id, NOW, tok);
	struct race r = {.token = tok};
	cr_assert_eq(store_open(&r.st, fx_url, RACERS), 0);
	pthread_barrier_init(&r.go, NULL, RACERS);
	pthread_t th[RACERS];
	struct racer me[RACERS];
	for (int i = 0; i < RACERS; i++) {
		me[i] = (struct racer){&r, i};
		pthread_create(&th[i], NULL, accept_racer, &me[i]);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&r.go);
	store_free(r.st);
	int won = 0;
	for (int i = 0; i < RACERS; i++) {
		cr_assert(r.rc[i] == 0 || r.rc[i] == INVITE_USED || r.rc[i] == INVITE_BUSY,
		          "racer %d: %d", i, r.rc[i]);
		won += r.rc[i] == 0;
	}
	cr_assert_eq(won, 1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts", 0), 1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM consents", 0), 1);
}
