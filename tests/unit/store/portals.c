/*
 * Tests for store/portals.c and store/org.c as the staff Settings page uses
 * them: the portals an organisation owns (a member owns none), the limits
 * with their bounds (and migration 008's CHECK behind them), the shortest
 * password's default, the next privacy policy version, an organisation's
 * details and sender name, and which uploads are logos. On both engines.
 */
#include "fixture.h"

#include "lib/password.h"

TestSuite(store_portals, .init = fx_setup, .fini = fx_teardown);

Test(store_portals, a_portal_has_the_default_limits)
{
	struct store_portal p;
	cr_assert_eq(store_portal_by_id(fx_conn, PORTAL, &p, fx_arena), 0);
	cr_expect_eq(p.invite_ttl_days, 30);
	cr_expect_eq(p.invite_max_attempts, 5);
	cr_expect_eq(p.password_min_chars, PASSWORD_MIN_CHARS_DEFAULT);
	int n = 0;
	cr_assert_eq(store_portal_password_min(fx_conn, PORTAL, &n), 0);
	cr_expect_eq(n, 10);
	cr_expect_eq(store_portal_password_min(fx_conn, 999999, &n), STORE_NOTFOUND);
}

Test(store_portals, limits_are_set_within_their_bounds)
{
	cr_assert_eq(store_portal_set_limits(fx_conn, PORTAL, 7, 3, 14), 0);
	struct store_portal p;
	cr_assert_eq(store_portal_by_id(fx_conn, PORTAL, &p, fx_arena), 0);
	cr_expect_eq(p.invite_ttl_days, 7);
	cr_expect_eq(p.invite_max_attempts, 3);
	cr_expect_eq(p.password_min_chars, 14);
	cr_expect_eq(store_portal_set_limits(fx_conn, PORTAL, 1, 1, 8), 0);
	cr_expect_eq(store_portal_set_limits(fx_conn, PORTAL, 365, 20, 64), 0);
	const int bad[][3] = {{0, 5, 10},   {366, 5, 10}, {30, 0, 10},
	                      {30, 21, 10}, {30, 5, 7},   {30, 5, 65}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(
		    store_portal_set_limits(fx_conn, PORTAL, bad[i][0], bad[i][1], bad[i][2]),
		    STORE_INVALID, "case %zu", i);
	cr_expect_eq(store_portal_set_limits(fx_conn, 999999, 30, 5, 10), STORE_NOTFOUND);
	cr_assert_eq(store_portal_by_id(fx_conn, PORTAL, &p, fx_arena), 0);
	cr_expect_eq(p.password_min_chars, 64, "the refused calls changed nothing");
	/* the schema refuses what the C bounds refuse, for rows written by hand */
	cr_expect_eq(store_exec(fx_conn, NULL,
	                        "UPDATE portals SET password_min_chars = 7 WHERE id = ?", "i",
	                        PORTAL),
	             STORE_CONFLICT);
	cr_expect_eq(store_exec(fx_conn, NULL,
	                        "UPDATE portals SET password_min_chars = 65 WHERE id = ?", "i",
	                        PORTAL),
	             STORE_CONFLICT);
}

Test(store_portals, an_organisation_owns_its_customer_portal_only)
{
	struct store_portal *rows = NULL;
	int n = -1;
	cr_assert_eq(store_org_portals(fx_conn, ORG_A, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(rows[0].id, PORTAL);
	cr_expect_str_eq(rows[0].base_url, "https://portal.example");
	cr_expect_eq(rows[0].password_min_chars, 10);
	int64_t member = 0;
	cr_assert_eq(store_insert(fx_conn, &member,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Studio') RETURNING id",
	                          "ii", PORTAL, ORG_A),
	             0);
	cr_assert_eq(store_org_portals(fx_conn, member, &rows, &n, fx_arena), 0);
	cr_expect_eq(n, 0, "a member sets up no portal");
	cr_assert_eq(store_org_portals(fx_conn, 999999, &rows, &n, fx_arena), 0);
	cr_expect_eq(n, 0);
}

Test(store_portals, the_next_policy_version)
{
	static const char *const cases[][2] = {
	    {"1", "2"},       {"9", "10"},     {"2026-01", "2026-02"}, {"A-9", "A-10"},
	    {"v009", "v010"}, {"B-1", "B-2"},  {"draft", "draft-2"},   {"", "-2"},
	    {"1.0", "1.1"},   {"x99", "x100"},
	};
	char out[80];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(store_policy_version_next(cases[i][0], out, sizeof(out)), 0, "%s",
		             cases[i][0]);
		cr_expect_str_eq(out, cases[i][1], "after %s", cases[i][0]);
	}
	/* a version may have 64 characters: one that would grow past them is refused */
	char long_v[65];
	memset(long_v, 'a', 64);
	long_v[64] = '\0';
	cr_expect_eq(store_policy_version_next(long_v, out, sizeof(out)), STORE_INVALID);
	cr_expect_eq(store_policy_version_next("1", out, 1), STORE_INVALID, "does not fit");
	cr_expect_eq(store_policy_version_next(NULL, out, sizeof(out)), STORE_INVALID);
}

Test(store_portals, an_organisations_details_and_sender_name)
{
	cr_assert_eq(store_org_set_details(fx_conn, ORG_A, "Studio Rossi", "+39 06 1234 5678",
	                                   "StudioRossi"),
	             0);
	struct store_org o;
	cr_assert_eq(store_org_get(fx_conn, ORG_A, &o, fx_arena), 0);
	cr_expect_str_eq(o.name, "Studio Rossi");
	cr_expect_str_eq(o.phone, "+39 06 1234 5678");
	cr_expect_str_eq(o.sender_name, "StudioRossi");
	cr_assert_eq(store_org_set_details(fx_conn, ORG_A, "Studio Rossi", "", NULL), 0);
	cr_assert_eq(store_org_get(fx_conn, ORG_A, &o, fx_arena), 0);
	cr_expect_null(o.phone, "empty: none");
	cr_expect_null(o.sender_name);
	cr_expect_eq(store_org_set_details(fx_conn, ORG_A, "", NULL, NULL), STORE_INVALID);
	cr_expect_eq(store_org_set_details(fx_conn, 999999, "X", NULL, NULL), STORE_NOTFOUND);
	cr_assert_eq(store_org_get(fx_conn, ORG_B, &o, fx_arena), 0);
	cr_expect_str_eq(o.name, "Clinic B", "the other organisation untouched");
}

Test(store_portals, which_uploads_are_logos)
{
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0};
	static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0};
	static const char webp[] = "RIFF\0\0\0\0WEBPVP8 ";
	cr_expect_str_eq(store_portal_logo_type(png, sizeof(png)), "image/png");
	cr_expect_str_eq(store_portal_logo_type(jpeg, sizeof(jpeg)), "image/jpeg");
	cr_expect_str_eq(store_portal_logo_type(webp, sizeof(webp) - 1), "image/webp");
	cr_expect_null(store_portal_logo_type("GIF89a", 6));
	cr_expect_null(store_portal_logo_type(png, 0));
	cr_expect_null(store_portal_logo_type(NULL, 0));
	cr_expect_null(store_portal_logo_type(png, STORE_LOGO_MAX + 1), "too large");
}
