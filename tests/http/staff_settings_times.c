/*
 * HTTP tests of the Settings page's times (src/staff/settings_times.c): an admin
 * sees every value with what an empty field means, saves values that the code
 * reading them then uses (reminder hours, the online-change cutoff), empties one
 * back to its default; a bad value brings the page back with the error beside
 * the field and nothing saved; a member practice sees its main organisation's
 * value as the fallback; non-admins and a missing CSRF token are refused.
 */
#include "harness.h"

#include "booking/booking.h"
#include "comms/triggers.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

TestSuite(staff_settings_times, .init = h_start, .fini = h_stop);

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static int64_t setting_rows(int64_t org, const char *key)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	cr_assert_eq(store_scalar(db, &n,
	                          "SELECT COUNT(*) FROM org_settings WHERE org_id = ? AND key = ?",
	                          "it", org, key),
	             0);
	store_release(db);
	return n;
}

static long save(struct h_client *c, struct h_resp *r, const char *reminder, const char *cutoff)
{
	return h_post_form(c, "/staff/settings/times", r, "csrf", h_client_csrf(c),
	                   "reminder_hours", reminder, "payment_reminder_hours", "",
	                   "cancel_cutoff_hours", cutoff, "payment_flag_hours", "",
	                   "message_keep_days", "", NULL);
}

Test(staff_settings_times, admin_saves_and_the_values_take_effect)
{
	struct h_client *c = h_client();
	struct h_resp r;
	int64_t org = H.org[0].org_id;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/settings", &r), 200);
	cr_assert(has(&r, "/staff/settings/times"), "the Settings page links to the times");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/settings/times", &r), 200);
	cr_assert(has(&r, "name=\"reminder_hours\""));
	cr_assert(has(&r, "name=\"message_keep_days\""));
	h_resp_free(&r);

	cr_assert_eq(save(c, &r, "6", "48"), 303);
	cr_assert(strstr(h_header(&r, "Location"), "saved=1") != NULL);
	h_resp_free(&r);
	struct store_conn *db = h_db();
	int hours = 0;
	cr_assert_eq(
	    comms_setting_hours(db, org, "reminder_hours", COMMS_REMINDER_HOURS_DEFAULT, &hours),
	    0);
	cr_assert_eq(hours, 6, "the reminder trigger reads the saved value");
	cr_assert_eq(booking_cutoff_hours(db, org, &hours), 0);
	cr_assert_eq(hours, 48, "online changes close at the saved cutoff");
	int64_t n = 0;
	cr_assert_eq(
	    store_scalar(db, &n,
	                 "SELECT COUNT(*) FROM audit_events WHERE action = 'settings.times' "
	                 "AND org_id = ?",
	                 "i", org),
	    0);
	cr_assert_eq(n, 1);
	store_release(db);
	cr_assert_eq(h_get(c, "/staff/settings/times?saved=1", &r), 200);
	cr_assert(has(&r, "value=\"6\""));
	cr_assert(has(&r, "role=\"status\""));
	h_resp_free(&r);

	/* emptied: the row goes, the default applies again */
	cr_assert_eq(save(c, &r, "", "48"), 303);
	h_resp_free(&r);
	cr_assert_eq(setting_rows(org, "reminder_hours"), 0);
	db = h_db();
	cr_assert_eq(
	    comms_setting_hours(db, org, "reminder_hours", COMMS_REMINDER_HOURS_DEFAULT, &hours),
	    0);
	store_release(db);
	cr_assert_eq(hours, COMMS_REMINDER_HOURS_DEFAULT);
}

Test(staff_settings_times, a_bad_value_saves_nothing)
{
	struct h_client *c = h_client();
	struct h_resp r;
	int64_t org = H.org[0].org_id;
	h_staff_signin(c, 0);
	cr_assert_eq(save(c, &r, "12", "-1"), 422);
	cr_assert(has(&r, "id=\"cancel_cutoff_hours-error\""), "the error is beside its field");
	cr_assert(has(&r, "value=\"-1\""), "the value as typed");
	cr_assert(has(&r, "value=\"12\""));
	h_resp_free(&r);
	cr_assert_eq(setting_rows(org, "reminder_hours"), 0, "not even the good field");
	cr_assert_eq(save(c, &r, "2 days", ""), 422);
	h_resp_free(&r);
	cr_assert_eq(save(c, &r, "100000", ""), 422);
	h_resp_free(&r);
	cr_assert_eq(setting_rows(org, "reminder_hours"), 0);
}

Test(staff_settings_times, a_member_sees_its_main_organisations_value)
{
	struct store_conn *db = h_db();
	int64_t member = 0, staff = 0;
	cr_assert_eq(store_insert(db, &member,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Studio Membro') RETURNING id",
	                          "ii", H.org[0].portal_id, H.org[0].org_id),
	             0);
	cr_assert_eq(store_insert(db, &staff,
	                          "INSERT INTO staff_users (org_id, email, name, pw_hash, role) "
	                          "VALUES (?, 'm@example.org', 'M', 'x', 'admin') RETURNING id",
	                          "i", member),
	             0);
	cr_assert_eq(store_org_setting_set(db, H.org[0].org_id, "reminder_hours", "7", 1000), 0);
	store_release(db);
	struct h_client *c = h_client();
	struct h_resp r;
	h_signin(c, STORE_SESSION_STAFF, staff, member);
	cr_assert_eq(h_get(c, "/staff/settings/times", &r), 200);
	const char *at = strstr(r.body, "id=\"reminder_hours-hint\"");
	cr_assert_not_null(at);
	const char *end = strstr(at, "</p>");
	char hint[512];
	snprintf(hint, sizeof(hint), "%.*s", (int)(end - at), at);
	cr_assert(strstr(hint, " 7") != NULL, "empty means the main organisation's 7: %s", hint);
	h_resp_free(&r);
}

Test(staff_settings_times, refused_without_admin_or_csrf)
{
	struct h_client *c = h_client();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_post_form(c, "/staff/settings/times", &r, "reminder_hours", "5", NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(setting_rows(H.org[0].org_id, "reminder_hours"), 0);
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL, "UPDATE staff_users SET role = 'reception' WHERE id = ?",
	                        "i", H.org[0].staff_id),
	             0);
	store_release(db);
	cr_assert_eq(h_get(c, "/staff/settings/times", &r), 403);
	h_resp_free(&r);
	cr_assert_eq(save(c, &r, "5", ""), 403);
	h_resp_free(&r);
	cr_assert_eq(setting_rows(H.org[0].org_id, "reminder_hours"), 0);
	struct h_client *anon = h_client();
	cr_assert_eq(h_get(anon, "/staff/settings/times", &r), 303, "signed out: to the sign-in");
	h_resp_free(&r);
}
