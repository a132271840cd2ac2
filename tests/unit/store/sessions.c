/* Tests for src/store/sessions.c: create, get, idle and absolute expiry, delete, purge. */
#include "fixture.h"

TestSuite(store_sessions, .init = fx_setup, .fini = fx_teardown);

#define IDLE 1800
#define ABS  43200

static const unsigned char H1[32] = {0xaa, 1}, H2[32] = {0xaa, 2}, H3[32] = {0xaa, 3};

Test(store_sessions, create_get_touch)
{
	cr_assert_eq(
	    store_session_create(fx_conn, H1, STORE_SESSION_STAFF, 7, ORG_A, "c0ffee", 1000), 0);
	cr_assert_eq(store_session_create(fx_conn, H1, STORE_SESSION_STAFF, 7, ORG_A, "x", 1000),
	             STORE_CONFLICT);
	struct store_session s;
	cr_assert_eq(store_session_get(fx_conn, H1, 1500, IDLE, ABS, &s, fx_arena), 0);
	cr_assert_eq(s.user_id, 7);
	cr_assert_eq(s.org_id, ORG_A);
	cr_assert_eq(s.kind, STORE_SESSION_STAFF);
	cr_assert_str_eq(s.csrf, "c0ffee");
	cr_assert_null(s.lang);
	cr_assert_eq(s.created_at, 1000);
	cr_assert_eq(store_session_touch(fx_conn, s.id, 2500), 0);
	cr_assert_eq(store_session_set_lang(fx_conn, s.id, "en"), 0);
	cr_assert_eq(store_session_get(fx_conn, H1, 4000, IDLE, ABS, &s, fx_arena), 0);
	cr_assert_eq(s.last_seen, 2500);
	cr_assert_str_eq(s.lang, "en");
	cr_assert_eq(store_session_get(fx_conn, H2, 1500, IDLE, ABS, &s, fx_arena), STORE_NOTFOUND);
	cr_assert_eq(store_session_touch(fx_conn, 999, 1), STORE_NOTFOUND);
}

Test(store_sessions, idle_expiry_deletes)
{
	cr_assert_eq(store_session_create(fx_conn, H1, STORE_SESSION_PATIENT, 3, ORG_A, "c", 1000),
	             0);
	struct store_session s;
	cr_assert_eq(store_session_get(fx_conn, H1, 1000 + IDLE - 1, IDLE, ABS, &s, fx_arena), 0);
	cr_assert_eq(s.kind, STORE_SESSION_PATIENT);
	cr_assert_eq(store_session_get(fx_conn, H1, 1000 + IDLE, IDLE, ABS, &s, fx_arena),
	             STORE_NOTFOUND);
	/* Gone for good, even when asked with an earlier clock. */
	cr_assert_eq(store_session_get(fx_conn, H1, 1001, IDLE, ABS, &s, fx_arena), STORE_NOTFOUND);
}

Test(store_sessions, absolute_expiry_despite_activity)
{
	cr_assert_eq(store_session_create(fx_conn, H1, STORE_SESSION_STAFF, 1, ORG_A, "c", 0), 0);
	struct store_session s;
	int64_t t = 0;
	while (t + IDLE / 2 < ABS) {
		t += IDLE / 2;
		cr_assert_eq(store_session_get(fx_conn, H1, t, IDLE, ABS, &s, fx_arena), 0);
		cr_assert_eq(store_session_touch(fx_conn, s.id, t), 0);
	}
	cr_assert_eq(store_session_get(fx_conn, H1, ABS, IDLE, ABS, &s, fx_arena), STORE_NOTFOUND);
}

Test(store_sessions, delete_and_purge)
{
	cr_assert_eq(store_session_create(fx_conn, H1, STORE_SESSION_STAFF, 1, ORG_A, "c", 1000),
	             0);
	cr_assert_eq(store_session_create(fx_conn, H2, STORE_SESSION_STAFF, 1, ORG_A, "c", 1000),
	             0);
	cr_assert_eq(store_session_create(fx_conn, H3, STORE_SESSION_STAFF, 1, ORG_A, "c", 100000),
	             0);
	cr_assert_eq(store_session_delete(fx_conn, H1), 0);
	struct store_session s;
	cr_assert_eq(store_session_get(fx_conn, H1, 1001, IDLE, ABS, &s, fx_arena), STORE_NOTFOUND);
	cr_assert_eq(store_session_purge(fx_conn, 100001, IDLE, ABS), 0);
	int64_t n = -1;
	cr_assert_eq(store_scalar(fx_conn, &n, "SELECT COUNT(*) FROM sessions", ""), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_session_get(fx_conn, H3, 100001, IDLE, ABS, &s, fx_arena), 0);
}
