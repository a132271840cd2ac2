/*
 * HTTP tests of the message templates pages (src/staff/templates.c): list,
 * edit and save, a refused unknown tag with its message and position next to
 * the field, reset to the default, the appendix, the preview for a patient
 * with and without an account (different links, nothing written), SMS
 * segments, admin only for changes, another organisation's template
 * untouchable, CSRF.
 */
#include "harness.h"

#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

TestSuite(staff_templates, .init = h_start, .fini = h_stop);

#define RECALL_SMS "/staff/templates/recall/sms/en"

static int64_t add_patient(int org, const char *given, const char *family, const char *mobile)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.mobile = (char *)mobile;
	p.lang = "en";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0);
	return p.id;
}

static int64_t scalar(const char *sql, int64_t a)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int err =
	    strchr(sql, '?') ? store_scalar(db, &n, sql, "i", a) : store_scalar(db, &n, sql, "");
	store_release(db);
	cr_assert_eq(err, 0, "%s", sql);
	return n;
}

/* Signs staff of org in, in English (the page's default language is Italian). */
static void signin(struct h_client *c, int org)
{
	h_staff_signin(c, org);
	h_set_cookie(c, "lang", "en");
}

/* A patient of org 0 with a recall for a service; returns the patient id, *svc the service. */
static int64_t recall_patient(const char *given, int64_t *svc)
{
	int64_t p = add_patient(0, given, "Rossi", "+393331112223");
	struct store_conn *db = h_db();
	int err = store_insert(db, svc,
	                       "INSERT INTO services (org_id, name) VALUES (?, 'Check-up') "
	                       "RETURNING id",
	                       "i", H.org[0].org_id);
	cr_assert_eq(err, 0);
	err = store_exec(db, NULL,
	                 "INSERT INTO recalls (org_id, patient_id, service_id, due_date) "
	                 "VALUES (?, ?, ?, '2030-06-15')",
	                 "iii", H.org[0].org_id, p, *svc);
	store_release(db);
	cr_assert_eq(err, 0);
	return p;
}

Test(staff_templates, list_and_edit_page)
{
	struct h_client *c = h_client();
	struct h_resp r;
	h_get(c, "/staff/templates", &r);
	cr_assert_eq(r.status, 303, "signed out: to the sign-in page");
	h_resp_free(&r);
	signin(c, 0);
	h_get(c, "/staff/templates", &r);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(strstr(r.body, "href=\"/staff/templates/payment_request/sms/it\""));
	cr_assert_not_null(strstr(r.body, "Invitation appendix"));
	h_resp_free(&r);
	h_get(c, RECALL_SMS, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(strstr(r.body, "{{TRD89}}"), "the default text and the tag help");
	cr_assert_not_null(strstr(r.body, "class=\"sms-segments\">1<"), "server-side count");
	cr_assert_not_null(strstr(r.body, "/static/sms-counter.js"));
	cr_assert_null(strstr(r.body, "{{TRD104}}"), "TRD104 is not offered for a recall");
	h_resp_free(&r);
	h_get(c, "/staff/templates/nope/sms/en", &r);
	cr_assert_eq(r.status, 404);
	h_resp_free(&r);
	h_get(c, "/staff/templates/recall/fax/en", &r);
	cr_assert_eq(r.status, 404);
	h_resp_free(&r);
	h_get(c, "/static/sms-counter.js", &r);
	cr_assert_eq(r.status, 200);
	h_resp_free(&r);
}

Test(staff_templates, save_refuses_unknown_tag_with_position_then_saves_and_resets)
{
	struct h_client *c = h_client();
	struct h_resp r;
	signin(c, 0);
	h_post_form(c, RECALL_SMS, &r, "csrf", h_client_csrf(c), "body",
	            "Hello {{PATIENT_GIVEN_NAME}},\nbook: {{TRD89}} {{DOCTOR}}", NULL);
	cr_assert_eq(r.status, 422);
	cr_assert_not_null(strstr(r.body, "Unknown tag {{DOCTOR}} at line 2, column 17."), "%s",
	                   r.body);
	cr_assert_not_null(strstr(r.body, "id=\"body-error\""));
	cr_assert_not_null(strstr(r.body, "aria-invalid=\"true\""));
	cr_assert_not_null(strstr(r.body, "book: {{TRD89}} {{DOCTOR}}"), "the text typed is kept");
	h_resp_free(&r);
	h_post_form(c, RECALL_SMS, &r, "csrf", h_client_csrf(c), "body", "Pay: {{TRD104}}", NULL);
	cr_assert_eq(r.status, 422);
	cr_assert_not_null(strstr(
	    r.body, "The tag {{TRD104}} at line 1, column 6 cannot be used in this message."));
	h_resp_free(&r);
	h_post_form(c, RECALL_SMS, &r, "csrf", h_client_csrf(c), "body", "Book {{ORG_NAME", NULL);
	cr_assert_eq(r.status, 422);
	cr_assert_not_null(strstr(r.body, "Unbalanced braces at line 1, column 6"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates", 0), 0);

	h_post_form(c, RECALL_SMS, &r, "csrf", h_client_csrf(c), "body",
	            "Hi {{PATIENT_GIVEN_NAME}}, book {{SERVICE_NAME}}: {{TRD89}}", NULL);
	cr_assert_eq(r.status, 303);
	cr_assert_str_eq(h_header(&r, "Location"), RECALL_SMS "?done=saved");
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates WHERE org_id = ?", H.org[0].org_id), 1);
	h_get(c, RECALL_SMS "?done=saved", &r);
	cr_assert_not_null(strstr(r.body, "Template saved."));
	cr_assert_not_null(strstr(r.body, "Customised"));
	h_resp_free(&r);
	h_get(c, "/staff/templates", &r);
	cr_assert_not_null(strstr(r.body, "Customised"));
	h_resp_free(&r);

	/* e-mail: subject and body, each error next to its field */
	h_post_form(c, "/staff/templates/recall/email/it", &r, "csrf", h_client_csrf(c), "subject",
	            "{{TRD89}}", "body", "{{X}}", NULL);
	cr_assert_eq(r.status, 422);
	cr_assert_not_null(strstr(r.body, "id=\"subject-error\""));
	cr_assert_not_null(strstr(r.body, "id=\"body-error\""));
	h_resp_free(&r);

	h_post_form(c, RECALL_SMS "/reset", &r, "csrf", h_client_csrf(c), NULL);
	cr_assert_eq(r.status, 303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates", 0), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action IN "
	                    "('template.updated', 'template.reset') AND actor_id = ?",
	                    H.org[0].staff_id),
	             2);
}

Test(staff_templates, preview_with_and_without_account_shows_different_links)
{
	int64_t svc = 0;
	int64_t p = recall_patient("Anna", &svc);
	struct h_client *c = h_client();
	struct h_resp r;
	char pid[24], want[128];
	snprintf(pid, sizeof(pid), "%lld", (long long)p);
	signin(c, 0);
	const char *body = "Hi {{PATIENT_GIVEN_NAME}}: {{TRD89}}";
	h_post_form(c, RECALL_SMS "/preview", &r, "csrf", h_client_csrf(c), "body", body, "patient",
	            pid, "account", "record", NULL);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_not_null(strstr(r.body, "class=\"preview-body\">Hi Anna: "), "%s", r.body);
	cr_assert_not_null(strstr(r.body, "/i/PREVIEW"), "without an account: an invitation");
	cr_assert_not_null(strstr(r.body, "Without an account"));
	h_resp_free(&r);

	h_post_form(c, RECALL_SMS "/preview", &r, "csrf", h_client_csrf(c), "body", body, "patient",
	            pid, "account", "with", NULL);
	cr_assert_eq(r.status, 200);
	snprintf(want, sizeof(want), "/search?service=%lld</pre>", (long long)svc);
	cr_assert_not_null(strstr(r.body, want), "with an account: the search page: %s", r.body);
	cr_assert_null(strstr(r.body, "/i/PREVIEW"));
	h_resp_free(&r);

	/* a real account on record gives the same link */
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
	                        "VALUES (?, ?, 'anna@example.org', 'x')",
	                        "ii", p, H.org[0].portal_id),
	             0);
	store_release(db);
	h_post_form(c, RECALL_SMS "/preview", &r, "csrf", h_client_csrf(c), "body", body, "patient",
	            pid, "account", "record", NULL);
	cr_assert_not_null(strstr(r.body, want));
	h_resp_free(&r);

	/* a long text: more than one SMS, with the warning */
	char long_body[400];
	memset(long_body, 'a', 200);
	strcpy(long_body + 200, " {{TRD89}}");
	h_post_form(c, RECALL_SMS "/preview", &r, "csrf", h_client_csrf(c), "body", long_body,
	            "patient", pid, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(strstr(r.body, "More than one SMS"));
	h_resp_free(&r);

	cr_assert_eq(scalar("SELECT COUNT(*) FROM invitations", 0), 0, "the preview wrote nothing");
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages", 0), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates", 0), 0, "a preview does not save");

	/* another organisation's patient is not previewed */
	int64_t other = add_patient(1, "Marco", "Bianchi", "+393339998887");
	snprintf(pid, sizeof(pid), "%lld", (long long)other);
	h_post_form(c, RECALL_SMS "/preview", &r, "csrf", h_client_csrf(c), "body", body, "patient",
	            pid, NULL);
	cr_assert_eq(r.status, 422);
	cr_assert_null(strstr(r.body, "Marco"));
	h_resp_free(&r);
}

Test(staff_templates, appendix_saved_and_validated)
{
	struct h_client *c = h_client();
	struct h_resp r;
	signin(c, 0);
	h_post_form(c, "/staff/templates/appendix", &r, "csrf", h_client_csrf(c), "text",
	            "Pay online {{TRD104}}", "kinds", "reminder", NULL);
	cr_assert_eq(r.status, 422);
	cr_assert_not_null(strstr(r.body, "The tag {{TRD104}} at line 1, column 12"), "%s", r.body);
	h_resp_free(&r);
	h_post_form(c, "/staff/templates/appendix", &r, "csrf", h_client_csrf(c), "text",
	            "Book online: {{TRD92}}", "kinds", "reminder", "kinds", "recall", "kinds",
	            "invitation", NULL);
	cr_assert_eq(r.status, 303);
	h_resp_free(&r);
	struct store_conn *db = h_db();
	struct store_stmt *s = NULL;
	cr_assert_eq(
	    store_query(db, &s,
	                "SELECT appendix_text, appendix_kinds FROM organisations WHERE id = ?", "i",
	                H.org[0].org_id),
	    0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_str_eq(store_col_text(s, 0), "Book online: {{TRD92}}");
	cr_assert_str_eq(store_col_text(s, 1), "reminder,recall");
	store_done(s);
	store_release(db);
	h_get(c, "/staff/templates?saved=appendix", &r);
	cr_assert_not_null(strstr(r.body, "Appendix saved."));
	cr_assert_not_null(strstr(r.body, "id=\"appendix-recall\" name=\"kinds\" value=\"recall\" "
	                                  "checked"));
	h_resp_free(&r);
}

Test(staff_templates, reception_can_preview_but_not_change)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(store_staff_add(db, H.org[0].org_id, "desk@clinic0.test", "Desk", "x",
	                             STORE_ROLE_RECEPTION, &id),
	             0);
	store_release(db);
	struct h_client *c = h_client();
	struct h_resp r;
	h_signin(c, STORE_SESSION_STAFF, id, H.org[0].org_id);
	h_set_cookie(c, "lang", "en");
	h_get(c, RECALL_SMS, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(strstr(r.body, " readonly"));
	h_resp_free(&r);
	h_post_form(c, RECALL_SMS, &r, "csrf", h_client_csrf(c), "body", "Hi {{TRD89}}", NULL);
	cr_assert_eq(r.status, 403);
	h_resp_free(&r);
	h_post_form(c, RECALL_SMS "/reset", &r, "csrf", h_client_csrf(c), NULL);
	cr_assert_eq(r.status, 403);
	h_resp_free(&r);
	h_post_form(c, "/staff/templates/appendix", &r, "csrf", h_client_csrf(c), "text", "x",
	            NULL);
	cr_assert_eq(r.status, 403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates", 0), 0);
}

Test(staff_templates, another_organisations_template_is_untouchable)
{
	struct h_client *c0 = h_client(), *c1 = h_client();
	struct h_resp r;
	signin(c0, 0);
	signin(c1, 1);
	h_post_form(c0, RECALL_SMS, &r, "csrf", h_client_csrf(c0), "body", "Clinic zero {{TRD89}}",
	            NULL);
	cr_assert_eq(r.status, 303);
	h_resp_free(&r);
	h_get(c1, RECALL_SMS, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_null(strstr(r.body, "Clinic zero"), "org 1 sees its own (default) text");
	h_resp_free(&r);
	h_post_form(c1, RECALL_SMS "/reset", &r, "csrf", h_client_csrf(c1), NULL);
	cr_assert_eq(r.status, 303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates WHERE org_id = ?", H.org[0].org_id), 1,
	             "org 1's reset leaves org 0's template");
	h_post_form(c1, RECALL_SMS, &r, "csrf", h_client_csrf(c1), "body", "Clinic one {{TRD89}}",
	            NULL);
	cr_assert_eq(r.status, 303);
	h_resp_free(&r);
	h_get(c0, RECALL_SMS, &r);
	cr_assert_not_null(strstr(r.body, "Clinic zero"));
	cr_assert_null(strstr(r.body, "Clinic one"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates", 0), 2);
}

Test(staff_templates, csrf_required)
{
	struct h_client *c = h_client();
	struct h_resp r;
	signin(c, 0);
	h_post_form(c, RECALL_SMS, &r, "body", "Hi {{TRD89}}", NULL);
	cr_assert_eq(r.status, 403);
	h_resp_free(&r);
	h_post_form(c, RECALL_SMS, &r, "csrf", "wrong", "body", "Hi {{TRD89}}", NULL);
	cr_assert_eq(r.status, 403);
	h_resp_free(&r);
	h_post_form(c, "/staff/templates/appendix", &r, "text", "x", NULL);
	cr_assert_eq(r.status, 403);
	h_resp_free(&r);
	h_post_form(c, RECALL_SMS "/preview", &r, "body", "x", NULL);
	cr_assert_eq(r.status, 403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM templates", 0), 0);
}
