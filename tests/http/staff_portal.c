/*
 * HTTP tests of the staff "Patient portal" page (src/staff/adoption.c): the
 * counts by portal status as the patient list's filters give them, each a
 * link to that filter, the patients who cannot be invited, the last 30 days,
 * and nothing of another organisation.
 */
#include "harness.h"

#include "lib/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

TestSuite(staff_portal, .init = h_start, .fini = h_stop, .timeout = 60);

static int64_t patient(int org, const char *family, const char *mobile)
{
	struct store_conn *c = h_db();
	struct store_patient p = {.org_id = H.org[org].org_id,
	                          .given_name = "Anna",
	                          .family_name = (char *)family,
	                          .birth_date = "1950-04-03",
	                          .mobile = (char *)mobile,
	                          .lang = "it"};
	cr_assert_eq(store_patient_add(c, &p), 0);
	store_release(c);
	return p.id;
}

static void invitation(int org, int64_t patient_id, int tag, int64_t created, int64_t accepted)
{
	struct store_conn *c = h_db();
	unsigned char h[32] = {(unsigned char)tag};
	cr_assert_eq(
	    store_exec(c, NULL,
	               "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	               "created_at, expires_at, accepted_at, state) VALUES (?, ?, ?, ?, ?, "
	               "?, ?, ?)",
	               "iiibiiIt", patient_id, H.org[org].portal_id, H.org[org].org_id,
	               (const void *)h, sizeof(h), created, created + 30 * 86400, accepted,
	               accepted > 0 ? "accepted" : "pending"),
	    0);
	if (accepted > 0)
		cr_assert_eq(
		    store_exec(c, NULL,
		               "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
		               "VALUES (?, ?, ?, 'hash')",
		               "iit", patient_id, H.org[org].portal_id, "+393330000001"),
		    0);
	store_release(c);
}

/* The number of the row for status (a link to the list with that filter). */
static int has_count(const char *body, const char *status, int n)
{
	char want[96];
	snprintf(want, sizeof(want), "<a href=\"/staff/patients?status=%s\">%d</a>", status, n);
	return strstr(body, want) != NULL;
}

Test(staff_portal, needs_sign_in)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/staff/portal", &r), 303);
	h_resp_free(&r);
}

Test(staff_portal, counts_by_status_with_links_and_only_its_own)
{
	int64_t now = now_utc();
	int64_t online = patient(0, "Online", "+393330000001");
	int64_t waiting = patient(0, "Waiting", "+393330000002");
	patient(0, "Never", "+393330000003");
	patient(0, "Never2", "+393330000004");
	patient(0, "Nocontact", NULL);
	invitation(0, online, 1, now - 40 * 86400, now - 3 * 86400);
	invitation(0, waiting, 2, now - 86400, 0);
	/* another clinic's patients: never counted here */
	for (int i = 0; i < 7; i++)
		invitation(1, patient(1, "Other", "+393339999999"), 10 + i, now - 86400, 0);

	struct h_client *c = h_client();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/portal", &r), 200);
	cr_assert(has_count(r.body, "active", 1), "%s", r.body);
	cr_assert(has_count(r.body, "invited", 1));
	cr_assert(has_count(r.body, "none", 3));
	cr_assert(has_count(r.body, "family", 0));
	cr_assert(strstr(r.body, "20%") != NULL, "1 of 5 online");
	cr_assert(strstr(r.body, "60%") != NULL, "3 of 5 not invited");
	cr_assert(strstr(r.body, "<strong>1</strong>") != NULL, "one cannot be invited");
	cr_assert(strstr(r.body, "href=\"/staff/patients?status=none\"") != NULL);
	cr_assert(strstr(r.body, "Invita i pazienti non ancora invitati") != NULL);
	/* (the pages are in Italian by default) last 30 days: one invitation sent in it, one
	 * account activated in it (sent before) */
	cr_assert(strstr(r.body, "<dt>Inviti inviati</dt><dd>1</dd>") != NULL, "%s", r.body);
	cr_assert(strstr(r.body, "<dt>Account attivati</dt><dd>1</dd>") != NULL);
	cr_assert(strstr(r.body, "Other") == NULL);
	cr_assert(strstr(r.body, "Anna") == NULL, "numbers only, no patient named");
	h_resp_free(&r);

	/* the filter each number opens lists as many patients */
	cr_assert_eq(h_get(c, "/staff/patients?status=none", &r), 200);
	cr_assert(strstr(r.body, "Never") != NULL && strstr(r.body, "Nocontact") != NULL);
	cr_assert(strstr(r.body, "Waiting") == NULL && strstr(r.body, "Online") == NULL);
	h_resp_free(&r);

	/* the other clinic sees its own */
	struct h_client *o = h_client();
	h_staff_signin(o, 1);
	cr_assert_eq(h_get(o, "/staff/portal", &r), 200);
	cr_assert(has_count(r.body, "invited", 7));
	cr_assert(has_count(r.body, "active", 0));
	cr_assert(strstr(r.body, "100%") != NULL);
	cr_assert(strstr(r.body, "Invita i pazienti non ancora invitati") == NULL,
	          "nobody left to invite");
	h_resp_free(&r);
}

Test(staff_portal, an_empty_clinic_is_all_zero)
{
	struct h_client *c = h_client();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/portal", &r), 200);
	cr_assert(has_count(r.body, "active", 0));
	cr_assert(has_count(r.body, "none", 0));
	cr_assert(strstr(r.body, "0%") != NULL);
	h_resp_free(&r);
}
