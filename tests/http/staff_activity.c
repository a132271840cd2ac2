/*
 * HTTP tests of the admins' "Activity" page (src/staff/activity.c): admins
 * only, the organisation's own events only, newest first, labels, the patient
 * link, details escaped, the group filter, and keyset pages that neither
 * repeat nor skip an event.
 */
#include "harness.h"

#include "lib/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

TestSuite(staff_activity, .init = h_start, .fini = h_stop, .timeout = 60);

static void event(int org, const char *action, int64_t subject, const char *detail)
{
	struct store_conn *c = h_db();
	cr_assert_eq(store_audit(c, H.org[org].org_id, "staff", H.org[org].staff_id, action,
	                         subject > 0 ? "patient" : NULL, subject, "192.0.2.7", detail),
	             0);
	store_release(c);
}

static struct h_client *admin(void)
{
	struct h_client *c = h_client();
	h_staff_signin(c, 0);
	h_set_cookie(c, "lang", "en");
	return c;
}

static int count_of(const char *body, const char *needle)
{
	int n = 0;
	for (const char *p = body; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

Test(staff_activity, admins_only)
{
	struct h_resp r;
	struct h_client *anon = h_client();
	cr_assert_eq(h_get(anon, "/staff/activity", &r), 303);
	h_resp_free(&r);
	struct store_conn *db = h_db();
	int64_t rec = 0;
	cr_assert_eq(store_staff_add(db, H.org[0].org_id, "desk@clinic0.test", "Desk", "x",
	                             STORE_ROLE_RECEPTION, &rec),
	             0);
	store_release(db);
	struct h_client *d = h_client();
	h_signin(d, STORE_SESSION_STAFF, rec, H.org[0].org_id);
	cr_assert_eq(h_get(d, "/staff/activity", &r), 403);
	h_resp_free(&r);
	cr_assert_eq(h_get(d, "/staff/patients", &r), 200);
	cr_assert(strstr(r.body, "/staff/activity") == NULL, "no menu link for reception staff");
	h_resp_free(&r);
}

Test(staff_activity, own_events_labelled_linked_and_escaped)
{
	event(0, "invite.sent", 42, "channel sms <script>alert(1)</script>");
	event(0, "settings.times", 0, "reminder_hours 24->48");
	event(1, "invite.sent", 77, "other clinic's event");
	struct h_client *c = admin();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/staff/activity", &r), 200);
	cr_assert(strstr(r.body, "Invitation sent") != NULL, "%s", r.body);
	cr_assert(strstr(r.body, "Times changed") != NULL);
	cr_assert(strstr(r.body, "href=\"/staff/patients/42\"") != NULL);
	cr_assert(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	cr_assert(strstr(r.body, "<script>alert") == NULL);
	cr_assert(strstr(r.body, "192.0.2.7") != NULL);
	cr_assert(strstr(r.body, "other clinic") == NULL);
	cr_assert(strstr(r.body, "/staff/patients/77") == NULL);
	/* newest first */
	cr_assert_lt(strstr(r.body, "Times changed") - r.body,
	             strstr(r.body, "Invitation sent") - r.body);
	h_resp_free(&r);

	/* the group filter */
	cr_assert_eq(h_get(c, "/staff/activity?group=invitations", &r), 200);
	cr_assert(strstr(r.body, "Invitation sent") != NULL);
	cr_assert(strstr(r.body, "Times changed") == NULL);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/activity?group=settings", &r), 200);
	cr_assert(strstr(r.body, "Invitation sent") == NULL);
	cr_assert(strstr(r.body, "Times changed") != NULL);
	h_resp_free(&r);
	/* Italian by default */
	struct h_client *it = h_client();
	h_staff_signin(it, 0);
	cr_assert_eq(h_get(it, "/staff/activity", &r), 200);
	cr_assert(strstr(r.body, "Invito inviato") != NULL);
	h_resp_free(&r);
}

Test(staff_activity, pages_neither_repeat_nor_skip)
{
	/* 120 events within a few seconds: many share a second, so the keyset needs the id */
	for (int i = 0; i < 120; i++) {
		char d[32];
		snprintf(d, sizeof(d), "n=%03d;", i);
		event(0, "patient.update", 0, d);
	}
	struct h_client *c = admin();
	struct h_resp r;
	char url[128] = "/staff/activity?group=patients";
	int seen[120] = {0}, pages = 0, total = 0;
	while (url[0] != '\0') {
		long st = h_get(c, url, &r);
		cr_assert_eq(st, 200, "%s: %ld %s", url, st, r.body);
		pages++;
		for (int i = 0; i < 120; i++) {
			char d[32];
			snprintf(d, sizeof(d), "n=%03d;", i);
			int k = count_of(r.body, d);
			seen[i] += k;
			total += k;
		}
		url[0] = '\0';
		const char *next = strstr(r.body, "rel=\"next\"");
		if (next != NULL) {
			const char *h =
			    strstr(r.body, "href=\"/staff/activity?group=patients&amp;before=");
			cr_assert_not_null(h);
			h += strlen("href=\"");
			const char *end = strchr(h, '"');
			/* the page escaped & as &amp; */
			size_t k = 0;
			for (const char *p = h; p < end && k < sizeof(url) - 1; p++) {
				url[k++] = *p;
				if (strncmp(p, "&amp;", 5) == 0)
					p += 4;
			}
			url[k] = '\0';
		}
		h_resp_free(&r);
		cr_assert_lt(pages, 5, "too many pages");
	}
	cr_assert_eq(pages, 3);
	cr_assert_eq(total, 120);
	for (int i = 0; i < 120; i++)
		cr_assert_eq(seen[i], 1, "event %d seen %d times", i, seen[i]);

	cr_assert_eq(h_get(c, "/staff/activity?before=abc", &r), 400);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/activity?before=1.x", &r), 400);
	h_resp_free(&r);
}
