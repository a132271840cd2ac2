/* Tests for src/invite/account.c and reset.c: lookup, throttling, resets, sign-up. */
#include "fixture.h"

TestSuite(invite_account, .init = fx_setup, .fini = fx_teardown);

/* D'Amico with an account (accepted through an invitation). Returns the account id. */
static int64_t with_account(int64_t *patient)
{
	int64_t id = ix_damico(), acc, pid, org;
	char tok[INVITE_TOKEN_CHARS + 1];
	char *target;
	ix_invite(id, NOW - 86400, tok);
	cr_assert_eq(invite_accept(fx_conn, tok, "D'Amico", PW_HASH, NULL, NOW - 86000, &acc, &pid,
	                           &org, &target, fx_arena),
	             0);
	if (patient != NULL)
		*patient = id;
	return acc;
}

Test(invite_account, lookup_by_email_or_mobile)
{
	int64_t pid;
	int64_t acc = with_account(&pid);
	struct account a;
	cr_assert_eq(account_by_login(fx_conn, 0, "  Giulia@Example.ORG ", &a, fx_arena), 0);
	cr_assert_eq(a.id, acc);
	cr_assert_eq(a.patient_id, pid);
	cr_assert_eq(a.org_id, ORG_A);
	cr_assert_str_eq(a.pw_hash, PW_HASH);
	cr_assert_eq(account_by_login(fx_conn, PORTAL, "333 123 4567", &a, fx_arena), 0);
	cr_assert_eq(a.id, acc);
	cr_assert_eq(account_by_login(fx_conn, 0, "+39 333 1234567", &a, fx_arena), 0);
	cr_assert_eq(account_by_login(fx_conn, 0, "nobody@example.org", &a, fx_arena),
	             ACCOUNT_NOTFOUND);
	cr_assert_eq(account_by_login(fx_conn, 0, "garbage", &a, fx_arena), ACCOUNT_NOTFOUND);
	cr_assert_eq(account_by_patient(fx_conn, pid, &a, fx_arena), 0);
	cr_assert_str_eq(account_login_normalise("A@B.IT", fx_arena), "a@b.it");
	cr_assert_null(account_login_normalise("", fx_arena));
}

Test(invite_account, throttling_grows_and_caps_at_100_a_day)
{
	int64_t acc = with_account(NULL), retry = 0;
	const char *ip = "203.0.113.50";
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(account_login_check(fx_conn, acc, ip, NOW, &retry), 0);
		cr_assert_eq(account_login_failed(fx_conn, acc, ip, NOW), 0);
	}
	cr_assert_eq(account_login_check(fx_conn, acc, ip, NOW, &retry), 0);
	/* The 5th failure starts the delays: 1 s, then 2 s. */
	cr_assert_eq(account_login_failed(fx_conn, acc, ip, NOW), 0);
	cr_assert_eq(account_login_check(fx_conn, acc, ip, NOW, &retry), ACCOUNT_THROTTLED);
	cr_assert_eq(retry, 1);
	/* From another address too: the account's counter holds. */
	cr_assert_eq(account_login_check(fx_conn, acc, "198.51.100.2", NOW, &retry),
	             ACCOUNT_THROTTLED);
	cr_assert_eq(account_login_failed(fx_conn, acc, ip, NOW + 1), 0);
	cr_assert_eq(account_login_check(fx_conn, acc, "198.51.100.2", NOW + 1, &retry),
	             ACCOUNT_THROTTLED);
	cr_assert_eq(retry, 2);
	cr_assert_eq(ix_count("SELECT failures FROM login_throttle WHERE key = 'acct:' || ?", acc),
	             6);
	cr_assert_eq(ix_count("SELECT failed_logins FROM accounts WHERE id = ?", acc), 6);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM audit_events WHERE action = "
	                      "'account.login_failed' AND subject_id = ?",
	                      acc),
	             6);
	/* Up to 100 in the day, then locked until the window ends. */
	int64_t t = NOW + 2;
	for (int i = 6; i < 100; i++)
		cr_assert_eq(account_login_failed(fx_conn, acc, NULL, t += 900), 0);
	cr_assert_eq(account_login_check(fx_conn, acc, NULL, t + 1000, &retry), ACCOUNT_THROTTLED);
	cr_assert_eq(retry, NOW + 86400 - (t + 1000));
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM audit_events WHERE action = 'account.locked'", 0), 1);
	/* A new day, a new window. */
	cr_assert_eq(account_login_check(fx_conn, acc, NULL, NOW + 86400, &retry), 0);
	/* Success clears the account's counter, not the address's. */
	cr_assert_eq(account_login_ok(fx_conn, acc, ip, NOW + 86400), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM login_throttle WHERE key = 'acct:' || ?", acc),
	             0);
	cr_assert_eq(
	    ix_count("SELECT failures FROM login_throttle WHERE key = 'ip:203.0.113.50'", 0), 6);
}

Test(invite_account, throttling_per_address_for_unknown_logins)
{
	int64_t retry = 0;
	const char *ip = "203.0.113.77";
	for (int i = 0; i < 20; i++)
		cr_assert_eq(account_login_failed(fx_conn, 0, ip, NOW), 0);
	cr_assert_eq(account_login_check(fx_conn, 0, ip, NOW, &retry), 0);
	cr_assert_eq(account_login_failed(fx_conn, 0, ip, NOW), 0);
	cr_assert_eq(account_login_check(fx_conn, 0, ip, NOW, &retry), ACCOUNT_THROTTLED);
	cr_assert_eq(account_login_check(fx_conn, 0, "203.0.113.78", NOW, &retry), 0);
}

Test(invite_account, reset_complete_flow)
{
	int64_t pid;
	int64_t acc = with_account(&pid);
	unsigned char h1[32] = {1}, h2[32] = {2};
	cr_assert_eq(store_session_create(fx_conn, h1, STORE_SESSION_PATIENT, pid, ORG_A, "c", NOW),
	             0);
	cr_assert_eq(store_session_create(fx_conn, h2, STORE_SESSION_PATIENT, pid, ORG_A, "c", NOW),
	             0);
	cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_B, pid, 0, NULL, NULL, NOW),
	             ACCOUNT_NOTFOUND);
	cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_A, pid, 0, "sms", "192.0.2.9", NOW), 0);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM messages WHERE kind = 'reset' AND channel = 'sms'", 0),
	    1);
	char tok[INVITE_TOKEN_CHARS + 1];
	ix_last_token("https://portal.example/r/", tok);
	struct account_reset_link l;
	cr_assert_eq(account_reset_open(fx_conn, tok, NOW + 10, &l, fx_arena), 0);
	cr_assert_eq(l.account_id, acc);
	cr_assert_str_eq(l.lang, "it");
	cr_assert_eq(account_reset_complete(fx_conn, tok, "$argon2id$new", "192.0.2.9", NOW + 20,
	                                    &l, fx_arena),
	             0);
	cr_assert_eq(l.patient_id, pid);
	cr_assert_eq(l.org_id, ORG_A);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts WHERE pw_hash = '$argon2id$new' AND "
	                      "password_changed_at = ?",
	                      NOW + 20),
	             1);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM sessions WHERE kind = 'patient' AND user_id = ?", pid),
	    0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE kind = 'password_changed'", 0),
	             2);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM audit_events WHERE action = 'reset.completed'", 0), 1);
	/* Single use. */
	cr_assert_eq(account_reset_open(fx_conn, tok, NOW + 30, &l, fx_arena), ACCOUNT_USED);
	cr_assert_eq(
	    account_reset_complete(fx_conn, tok, "$argon2id$again", NULL, NOW + 30, &l, fx_arena),
	    ACCOUNT_USED);
	tok[3] = tok[3] == 'a' ? 'b' : 'a';
	cr_assert_eq(account_reset_open(fx_conn, tok, NOW, &l, fx_arena), ACCOUNT_UNKNOWN);
}

Test(invite_account, reset_expires_after_one_hour_and_newer_replaces_older)
{
	int64_t pid;
	with_account(&pid);
	char t1[INVITE_TOKEN_CHARS + 1], t2[INVITE_TOKEN_CHARS + 1];
	struct account_reset_link l;
	cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_A, pid, 0, "email", NULL, NOW), 0);
	ix_last_token("/r/", t1);
	cr_assert_eq(account_reset_open(fx_conn, t1, NOW + 3599, &l, fx_arena), 0);
	cr_assert_eq(account_reset_open(fx_conn, t1, NOW + 3600, &l, fx_arena), ACCOUNT_EXPIRED);
	cr_assert_eq(account_reset_complete(fx_conn, t1, "$x", NULL, NOW + 3600, &l, fx_arena),
	             ACCOUNT_EXPIRED);
	cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_A, pid, 0, "email", NULL, NOW + 10), 0);
	ix_last_token("/r/", t2);
	cr_assert_eq(account_reset_open(fx_conn, t1, NOW + 20, &l, fx_arena), ACCOUNT_USED);
	cr_assert_eq(account_reset_open(fx_conn, t2, NOW + 20, &l, fx_arena), 0);
}

Test(invite_account, reset_rate_limit_and_no_password)
{
	int64_t pid;
	with_account(&pid);
	for (int i = 0; i < ACCOUNT_RESET_PER_HOUR; i++)
		cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_A, pid, 0, NULL, NULL, NOW + i),
		             0);
	cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_A, pid, 0, NULL, NULL, NOW + 5),
	             ACCOUNT_RATE_LIMITED);
	cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_A, pid, 0, NULL, NULL, NOW + 3601), 0);
	int64_t other =
	    ix_patient(ORG_A, "Marco", "Rossi", "1975-02-02", "+393330000002", NULL, "it");
	cr_assert_eq(account_reset_send(fx_conn, NULL, ORG_A, other, 0, NULL, NULL, NOW),
	             ACCOUNT_NO_PASSWORD);
}

Test(invite_account, forgot_says_nothing)
{
	int64_t pid;
	with_account(&pid);
	int64_t before = ix_count("SELECT COUNT(*) FROM messages", 0);
	cr_assert_eq(account_forgot(fx_conn, NULL, 0, "nobody@example.org", NULL, NOW), 0);
	cr_assert_eq(account_forgot(fx_conn, NULL, 0, "not a login", NULL, NOW), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), before);
	cr_assert_eq(account_forgot(fx_conn, NULL, 0, "GIULIA@example.org", "192.0.2.1", NOW), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE kind = 'reset'", 0), 2);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(account_forgot(fx_conn, NULL, 0, "giulia@example.org", NULL, NOW + 1),
		             0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM resets", 0), ACCOUNT_RESET_PER_HOUR);
}

Test(invite_account, signup_match_invites_the_contact_on_file)
{
	int64_t id = ix_damico();
	int64_t patients = ix_count("SELECT COUNT(*) FROM patients", 0);
	struct account_signup s = {.family_name = "DAMICO",
	                           .birth_date = "1980-05-17",
	                           .mobile = "333 123 4567",
	                           .email = "someone-else@example.org",
	                           .ip = "192.0.2.3"};
	cr_assert_eq(account_signup(fx_conn, NULL, &s, NOW), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM patients", 0), patients);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", id), 1);
	/* To the mobile on file that matched, never to what was typed. */
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE recipient = '+393331234567'", 0),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE recipient LIKE 'someone%'", 0),
	             0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), 1);
	/* Again within 24 h: nothing more, same answer. */
	cr_assert_eq(account_signup(fx_conn, NULL, &s, NOW + 60), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 1);
}

Test(invite_account, signup_without_match_creates_nothing)
{
	ix_damico();
	int64_t patients = ix_count("SELECT COUNT(*) FROM patients", 0);
	struct account_signup bad[] = {
	    {.family_name = "Rossi", .birth_date = "1980-05-17", .mobile = "3331234567"},
	    {.family_name = "D'Amico", .birth_date = "1980-05-18", .mobile = "3331234567"},
	    {.family_name = "D'Amico", .birth_date = "1980-05-17", .mobile = "3339999999"},
	    {.family_name = "D'Amico", .birth_date = "1980-05-17"},
	    {.family_name = "D'Amico", .birth_date = "17/05/1980", .email = "giulia@example.org"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(account_signup(fx_conn, NULL, &bad[i], NOW), 0, "case %zu", i);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM patients", 0), patients);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM accounts", 0), 0);
}

Test(invite_account, signup_with_account_sends_a_reset)
{
	with_account(NULL);
	int64_t before = ix_count("SELECT COUNT(*) FROM invitations", 0);
	struct account_signup s = {
	    .family_name = "d’amico", .birth_date = "1980-05-17", .email = "giulia@example.org"};
	cr_assert_eq(account_signup(fx_conn, NULL, &s, NOW), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), before);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM resets", 0), 1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE kind = 'reset' AND channel = "
	                      "'email' AND recipient = 'giulia@example.org'",
	                      0),
	             1);
}
