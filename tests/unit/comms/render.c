/*
 * Tests for src/comms/render.c and templates.c: comms_render and comms_queue
 * for every recipient state (no account, account, family member, an
 * appointment at a member connected to another portal), the data tags in the
 * patient's language and the place's time zone, the appendix, dry runs, the
 * organisation's own templates and the appendix in the store.
 */
#include "../invite/fixture.h"

#include "comms/tags.h"
#include "comms/texts.h"
#include "lib/buf.h"

TestSuite(comms_render, .init = fx_setup, .fini = fx_teardown);

#define APPT_AT ((int64_t)1800001800) /* Friday 15 January 2027, 08:30 UTC = 09:30 in Rome */

static int64_t service(int64_t org, const char *name)
{
	int64_t id = 0;
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO services (org_id, name, kind, price_cents, payment) "
	                          "VALUES (?, ?, 'video', 8000, 'mandatory') RETURNING id",
	                          "it", org, name),
	             0);
	return id;
}

static int64_t appointment(int64_t patient, int64_t org, int64_t svc, int64_t at)
{
	int64_t id = 0;
	cr_assert_eq(
	    store_insert(fx_conn, &id,
	                 "INSERT INTO appointments (patient_id, org_id, service_id, start_at, "
	                 "end_at, kind, payment, amount_cents) "
	                 "VALUES (?, ?, ?, ?, ?, 'video', 'mandatory', 8000) RETURNING id",
	                 "iiiii", patient, org, svc, at, at + 1800),
	    0);
	return id;
}

static int64_t recall(int64_t patient, int64_t svc, const char *due)
{
	int64_t id = 0;
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO recalls (org_id, patient_id, service_id, due_date) "
	                          "VALUES (?, ?, ?, ?) RETURNING id",
	                          "iiit", ORG_A, patient, svc, due),
	             0);
	return id;
}

static void give_account(int64_t patient)
{
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
	                        "VALUES (?, ?, ?, ?)",
	                        "iitt", patient, PORTAL, "login@example.org", PW_HASH),
	             0);
}

struct out {
	struct buf subject, body;
	struct comms_render_info info;
};

static int render(struct comms_ctx *x, struct out *o)
{
	buf_init(&o->subject, 0);
	buf_init(&o->body, 0);
	if (x->org_id == 0)
		x->org_id = ORG_A;
	return comms_render(fx_conn, x, NOW, &o->subject, &o->body, &o->info);
}

static void out_free(struct out *o)
{
	buf_free(&o->subject);
	buf_free(&o->body);
}

/* The invitation a link in text points to must be pending, for patient, landing on target. */
static void expect_invitation(const char *text, const char *base, int64_t patient,
                              const char *target, int64_t portal)
{
	char marker[160];
	snprintf(marker, sizeof(marker), "%s/i/", base);
	const char *p = strstr(text, marker);
	cr_assert_not_null(p, "no invitation link in: %s", text);
	char tok[INVITE_TOKEN_CHARS + 1];
	memcpy(tok, p + strlen(marker), INVITE_TOKEN_CHARS);
	tok[INVITE_TOKEN_CHARS] = '\0';
	struct invite_link l;
	cr_assert_eq(invite_open(fx_conn, tok, NOW, &l, fx_arena), 0);
	cr_assert_eq(l.patient_id, patient);
	cr_assert_str_eq(l.target, target);
	cr_assert_eq(l.portal_id, portal);
	cr_assert_eq(l.org_id, ORG_A, "the patient's own organisation (the session's)");
}

Test(comms_render, payment_request_without_account_is_an_invitation_to_the_payment_page)
{
	int64_t p = ix_damico(), svc = service(ORG_A, "Televisita");
	int64_t ap = appointment(p, ORG_A, svc, APPT_AT);
	struct comms_ctx x = {
	    .kind = COMMS_PAYMENT_REQUEST, .channel = "sms", .patient_id = p, .appointment_id = ap};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	char target[64];
	snprintf(target, sizeof(target), "/appointments/%lld/pay", (long long)ap);
	expect_invitation(o.body.data, "https://portal.example", p, target, PORTAL);
	cr_assert_not_null(strstr(o.body.data, "Clinic A: per Televisita del venerdì 15 gennaio "
	                                       "2027 ore 09:30 paga 80,00 € online: "),
	                   "%s", o.body.data);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", p), 1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), 0, "render queues nothing");
	cr_assert_gt(o.info.invitation_id, 0);
	cr_assert_not(o.info.has_account);
	out_free(&o);
}

Test(comms_render, payment_request_with_account_links_the_page)
{
	int64_t p = ix_damico(), svc = service(ORG_A, "Televisita");
	int64_t ap = appointment(p, ORG_A, svc, APPT_AT);
	give_account(p);
	struct comms_ctx x = {.kind = COMMS_PAYMENT_REQUEST,
	                      .channel = "email",
	                      .lang = "en",
	                      .patient_id = p,
	                      .appointment_id = ap};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	char want[128];
	snprintf(want, sizeof(want), "https://portal.example/appointments/%lld/pay", (long long)ap);
	cr_assert_not_null(strstr(o.body.data, want), "%s", o.body.data);
	cr_assert_null(strstr(o.body.data, "/i/"));
	cr_assert_not_null(strstr(o.body.data, "Friday 15 January 2027 at 09:30"), "%s",
	                   o.body.data);
	cr_assert_not_null(strstr(o.body.data, "€80.00"));
	cr_assert_str_eq(o.subject.data, "Clinic A: payment for your Televisita");
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 0);
	cr_assert(o.info.has_account);
	out_free(&o);
}

Test(comms_render, family_member_gets_the_portal_home_and_never_an_invitation)
{
	int64_t parent = ix_damico();
	int64_t kid =
	    ix_patient(ORG_A, "Luca", "D'Amico", "2015-02-01", "+393331234567", NULL, "it");
	cr_assert_eq(store_exec(fx_conn, NULL, "UPDATE patients SET managed_by = ? WHERE id = ?",
	                        "ii", parent, kid),
	             0);
	cr_assert_eq(
	    store_exec(fx_conn, NULL,
	               "UPDATE organisations SET appendix_kinds = 'payment_request,recall' "
	               "WHERE id = ?",
	               "i", ORG_A),
	    0);
	int64_t svc = service(ORG_A, "Televisita");
	int64_t ap = appointment(kid, ORG_A, svc, APPT_AT);
	int64_t rc = recall(kid, svc, "2027-06-15");
	struct comms_ctx x = {.kind = COMMS_PAYMENT_REQUEST,
	                      .channel = "sms",
	                      .patient_id = kid,
	                      .appointment_id = ap};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_not_null(strstr(o.body.data, "online: https://portal.example/"), "%s",
	                   o.body.data);
	cr_assert_null(strstr(o.body.data, "/i/"));
	cr_assert_null(strstr(o.body.data, "/pay"));
	cr_assert_not(o.info.appendix);
	cr_assert(o.info.family);
	out_free(&o);
	struct comms_ctx y = {
	    .kind = COMMS_RECALL, .channel = "sms", .patient_id = kid, .recall_id = rc};
	cr_assert_eq(render(&y, &o), 0);
	cr_assert_null(strstr(o.body.data, "/i/"));
	cr_assert_null(strstr(o.body.data, "/search"));
	out_free(&o);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 0);
}

Test(comms_render, member_appointment_links_to_the_members_portal)
{
	int64_t portal2 = 0, member = 0;
	cr_assert_eq(store_insert(fx_conn, &portal2,
	                          "INSERT INTO portals (name, base_url) VALUES ('Rete', "
	                          "'https://rete.example') RETURNING id",
	                          ""),
	             0);
	cr_assert_eq(store_insert(fx_conn, &member,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name, "
	                          "timezone) VALUES ('member', ?, ?, 'Poliambulatorio Nord', "
	                          "'Europe/London') RETURNING id",
	                          "ii", portal2, ORG_A),
	             0);
	int64_t p = ix_damico(), svc = service(member, "Televisita");
	int64_t ap = appointment(p, member, svc, APPT_AT);
	struct comms_ctx x = {
	    .kind = COMMS_PAYMENT_REQUEST, .channel = "sms", .patient_id = p, .appointment_id = ap};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	char target[64];
	snprintf(target, sizeof(target), "/appointments/%lld/pay", (long long)ap);
	expect_invitation(o.body.data, "https://rete.example", p, target, portal2);
	cr_assert_not_null(strstr(o.body.data, "ore 08:30"), "the place's time zone: %s",
	                   o.body.data);
	cr_assert(o.info.member_portal);
	out_free(&o);

	give_account(p);
	struct comms_ctx y = {
	    .kind = COMMS_REMINDER, .channel = "sms", .patient_id = p, .appointment_id = ap};
	cr_assert_eq(render(&y, &o), 0);
	cr_assert_not_null(strstr(o.body.data, "Poliambulatorio Nord"), "%s", o.body.data);
	out_free(&o);
	cr_assert_eq(comms_render(fx_conn,
	                          &(struct comms_ctx){.kind = COMMS_PAYMENT_REQUEST,
	                                              .channel = "sms",
	                                              .org_id = ORG_A,
	                                              .patient_id = p,
	                                              .appointment_id = ap},
	                          NOW, NULL, &o.body, NULL),
	             0);
	snprintf(target, sizeof(target), "https://rete.example/appointments/%lld/pay",
	         (long long)ap);
	cr_assert_not_null(strstr(o.body.data, target), "%s", o.body.data);
	buf_free(&o.body);
}

Test(comms_render, recall_links_to_the_search_for_its_service)
{
	int64_t p = ix_damico(), svc = service(ORG_A, "Controllo");
	int64_t rc = recall(p, svc, "2027-06-15");
	struct comms_ctx x = {
	    .kind = COMMS_RECALL, .channel = "email", .patient_id = p, .recall_id = rc};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	char target[64];
	snprintf(target, sizeof(target), "/search?service=%lld", (long long)svc);
	expect_invitation(o.body.data, "https://portal.example", p, target, PORTAL);
	cr_assert_not_null(strstr(o.body.data, "entro il 15 giugno 2027"), "%s", o.body.data);
	cr_assert_str_eq(o.subject.data, "Clinic A: è ora di prenotare Controllo");
	out_free(&o);

	give_account(p);
	cr_assert_eq(render(&x, &o), 0);
	char want[96];
	snprintf(want, sizeof(want), "https://portal.example/search?service=%lld", (long long)svc);
	cr_assert_not_null(strstr(o.body.data, want), "%s", o.body.data);
	out_free(&o);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 1);
}

Test(comms_render, appendix_only_without_account_and_shares_the_messages_invitation)
{
	cr_assert_eq(comms_appendix_save(fx_conn, ORG_A, "Prenota online: {{TRD92}}",
	                                 (1u << COMMS_REMINDER) | (1u << COMMS_PAYMENT_REQUEST) |
	                                     (1u << COMMS_INVITATION),
	                                 0, NULL, NOW, NULL),
	             0);
	struct comms_appendix app;
	cr_assert_eq(comms_appendix_get(fx_conn, ORG_A, &app, fx_arena), 0);
	cr_assert_eq(app.kinds, (1u << COMMS_REMINDER) | (1u << COMMS_PAYMENT_REQUEST),
	             "kinds without an appendix are dropped");
	int64_t p = ix_damico(), svc = service(ORG_A, "Visita");
	int64_t ap = appointment(p, ORG_A, svc, APPT_AT);
	struct comms_ctx x = {
	    .kind = COMMS_REMINDER, .channel = "sms", .patient_id = p, .appointment_id = ap};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	cr_assert(o.info.appendix);
	cr_assert_not_null(strstr(o.body.data, ". Per disdire:  Prenota online: "
	                                       "https://portal.example/i/") ||
	                       strstr(o.body.data, " Prenota online: https://portal.example/i/"),
	                   "%s", o.body.data);
	expect_invitation(o.body.data, "https://portal.example", p, "/", PORTAL);
	out_free(&o);

	/* payment request: TRD104 and the appendix share one invitation */
	x.kind = COMMS_PAYMENT_REQUEST;
	cr_assert_eq(render(&x, &o), 0);
	const char *first = strstr(o.body.data, "/i/"), *second = strstr(first + 1, "/i/");
	cr_assert_not_null(second, "%s", o.body.data);
	cr_assert_eq(memcmp(first, second, 3 + INVITE_TOKEN_CHARS), 0);
	out_free(&o);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 2);

	/* the English default when the organisation set kinds but no text */
	cr_assert_eq(
	    comms_appendix_save(fx_conn, ORG_A, "", 1u << COMMS_REMINDER, 0, NULL, NOW, NULL), 0);
	x.kind = COMMS_REMINDER;
	x.lang = "en";
	x.channel = "email";
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_not_null(strstr(o.body.data, "\n\nManage your bookings online: "
	                                       "https://portal.example/i/"),
	                   "%s", o.body.data);
	out_free(&o);

	/* an account: no appendix, no invitation */
	give_account(p);
	int64_t before = ix_count("SELECT COUNT(*) FROM invitations", 0);
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_not(o.info.appendix);
	cr_assert_null(strstr(o.body.data, "Manage your bookings"));
	out_free(&o);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), before);

	struct comms_tpl_error e;
	cr_assert_eq(comms_appendix_save(fx_conn, ORG_A, "Pay: {{TRD104}}", 1u << COMMS_REMINDER, 0,
	                                 NULL, NOW, &e),
	             COMMS_INVALID);
	cr_assert_str_eq(e.tag, "TRD104");
}

Test(comms_render, dry_run_writes_nothing_and_can_assume_an_account)
{
	int64_t p = ix_damico(), svc = service(ORG_A, "Controllo");
	int64_t rc = recall(p, svc, "2027-06-15");
	struct comms_ctx x = {.kind = COMMS_RECALL,
	                      .channel = "sms",
	                      .patient_id = p,
	                      .recall_id = rc,
	                      .dry_run = 1,
	                      .assume_account = -1};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_not_null(strstr(o.body.data, "https://portal.example/i/PREVIEW"), "%s",
	                   o.body.data);
	out_free(&o);
	x.assume_account = 1;
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_not_null(strstr(o.body.data, "https://portal.example/search?service="));
	out_free(&o);
	/* a draft replaces the stored text; a bad draft is refused */
	x.draft_body = "Ciao {{PATIENT_GIVEN_NAME}} {{TRD89}}";
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_str_eq(o.body.data, arena_printf(fx_arena,
	                                           "Ciao Giulia https://portal.example/search?"
	                                           "service=%lld",
	                                           (long long)svc));
	out_free(&o);
	x.draft_body = "{{TRD104}}";
	cr_assert_eq(render(&x, &o), COMMS_INVALID);
	out_free(&o);
	/* no appointment in a preview: sample values */
	struct comms_ctx y = {.kind = COMMS_REMINDER,
	                      .channel = "sms",
	                      .patient_id = p,
	                      .dry_run = 1,
	                      .assume_account = -1};
	cr_assert_eq(render(&y, &o), 0);
	cr_assert_not_null(strstr(o.body.data, "Visita cardiologica"), "%s", o.body.data);
	out_free(&o);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages", 0), 0);
	cr_assert_eq(comms_queue(fx_conn, &x, NULL, NULL, NOW, NULL), COMMS_INVALID,
	             "a dry run is never queued");
}

Test(comms_render, queue_links_the_invitation_to_its_message_and_dedupes)
{
	int64_t p = ix_damico(), svc = service(ORG_A, "Controllo");
	int64_t rc = recall(p, svc, "2027-06-15");
	struct comms_ctx x = {.kind = COMMS_RECALL,
	                      .channel = "sms",
	                      .org_id = ORG_A,
	                      .patient_id = p,
	                      .recall_id = rc};
	int64_t id = 0, id2 = -1;
	cr_assert_eq(comms_queue(fx_conn, &x, NULL, "recall:1:sms", NOW, &id), 0);
	cr_assert_gt(id, 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE recipient = '+393331234567' "
	                      "AND kind = 'recall' AND id = ?",
	                      id),
	             1);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations WHERE created_by_message = ?", id),
	             1);
	cr_assert_eq(comms_queue(fx_conn, &x, NULL, "recall:1:sms", NOW, &id2), 0);
	cr_assert_eq(id2, 0);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM invitations", 0), 1,
	             "no invitation for nothing");
	/* no e-mail on file for a patient without one */
	int64_t q = ix_patient(ORG_A, "Anna", "Neri", NULL, "+393330000000", NULL, "en");
	x.patient_id = q;
	x.recall_id = recall(q, svc, "2027-06-15");
	x.channel = "email";
	cr_assert_eq(comms_queue(fx_conn, &x, NULL, NULL, NOW, NULL), COMMS_NOTFOUND);
}

Test(comms_render, confined_to_the_patients_records)
{
	int64_t p = ix_damico();
	int64_t other = ix_patient(ORG_B, "Marco", "Rossi", NULL, "+393339999999", NULL, "it");
	int64_t svc = service(ORG_B, "Visita");
	int64_t ap = appointment(other, ORG_B, svc, APPT_AT);
	struct comms_ctx x = {.kind = COMMS_REMINDER, .channel = "sms", .patient_id = other};
	struct out o;
	cr_assert_eq(render(&x, &o), COMMS_NOTFOUND, "another organisation's patient");
	out_free(&o);
	x.patient_id = p;
	x.appointment_id = ap;
	cr_assert_eq(render(&x, &o), COMMS_NOTFOUND, "another patient's appointment");
	out_free(&o);
	x.appointment_id = 0;
	x.kind = COMMS_PAYMENT_REQUEST;
	cr_assert_eq(render(&x, &o), COMMS_INVALID, "TRD104 without its appointment");
	out_free(&o);
	x.channel = "fax";
	cr_assert_eq(render(&x, &o), COMMS_INVALID);
	out_free(&o);
}

Test(comms_render, organisation_templates_save_reset_and_invitations_use_them)
{
	struct comms_tpl_error se, be;
	cr_assert_eq(comms_template_save(fx_conn, ORG_A, COMMS_INVITATION, "sms", "it", NULL,
	                                 "Ciao {{PATIENT_GIVEN_NAME}} {{PATIENT_FAMILY_NAME}}, "
	                                 "entra: {{TRD92}}",
	                                 0, NULL, NOW, &se, &be),
	             0);
	cr_assert_eq(comms_template_save(fx_conn, ORG_A, COMMS_INVITATION, "email", "it",
	                                 "Oggetto {{TRD92}}", "Corpo {{NOPE}}", 0, NULL, NOW, &se,
	                                 &be),
	             COMMS_INVALID);
	cr_assert_eq(se.code, COMMS_TPL_NO_CONTEXT);
	cr_assert_str_eq(se.tag, "TRD92");
	cr_assert_eq(be.code, COMMS_TPL_UNKNOWN_TAG);
	cr_assert_str_eq(be.tag, "NOPE");
	cr_assert_eq(be.col, 7);

	int64_t p = ix_damico();
	char tok[INVITE_TOKEN_CHARS + 1];
	struct invite_request r = {.org_id = ORG_A, .patient_id = p, .channel = "sms"};
	cr_assert_eq(invite_send(fx_conn, NULL, &r, NOW, NULL), 0);
	ix_last_token("/i/", tok);
	char want[128];
	snprintf(want, sizeof(want), "Ciao Giulia D'Amico, entra: https://portal.example/i/%s",
	         tok);
	cr_assert_eq(ix_count("SELECT COUNT(*) FROM messages WHERE body = ?", 0), 0);
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s, "SELECT body FROM messages ORDER BY id DESC", ""), 0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_str_eq(store_col_text(s, 0), want);
	store_done(s);

	/* ORG_B still sends the default */
	struct comms_template t;
	cr_assert_eq(
	    comms_template_get(fx_conn, ORG_B, COMMS_INVITATION, "sms", "it", &t, fx_arena), 0);
	cr_assert_not(t.custom);
	cr_assert_eq(
	    comms_template_get(fx_conn, ORG_A, COMMS_INVITATION, "sms", "it", &t, fx_arena), 0);
	cr_assert(t.custom);
	struct comms_template *rows;
	int n = 0, custom = 0;
	cr_assert_eq(comms_template_list(fx_conn, ORG_A, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, COMMS_NKINDS * 4);
	for (int i = 0; i < n; i++)
		custom += rows[i].custom;
	cr_assert_eq(custom, 1);
	cr_assert_eq(
	    comms_template_reset(fx_conn, ORG_A, COMMS_INVITATION, "sms", "it", 0, NULL, NOW), 0);
	cr_assert_eq(
	    comms_template_get(fx_conn, ORG_A, COMMS_INVITATION, "sms", "it", &t, fx_arena), 0);
	cr_assert_not(t.custom);
	cr_assert_eq(
	    ix_count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'template.%'", 0), 2);
	cr_assert_eq(
	    comms_template_get(fx_conn, ORG_A, COMMS_INVITATION, "fax", "it", &t, fx_arena),
	    COMMS_INVALID);
}

Test(comms_render, a_stored_text_that_stopped_validating_falls_back_to_the_default)
{
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO templates (org_id, kind, channel, lang, body) "
	                        "VALUES (?, 'reminder', 'sms', 'it', 'Broken {{GONE}}')",
	                        "i", ORG_A),
	             0);
	int64_t p = ix_damico(), svc = service(ORG_A, "Visita");
	int64_t ap = appointment(p, ORG_A, svc, APPT_AT);
	struct comms_ctx x = {
	    .kind = COMMS_REMINDER, .channel = "sms", .patient_id = p, .appointment_id = ap};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_not_null(strstr(o.body.data, "Clinic A: promemoria Visita venerdì 15 gennaio"),
	                   "%s", o.body.data);
	out_free(&o);
}

Test(comms_render, summer_time_and_every_data_tag)
{
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE organisations SET phone = '06 123' WHERE id = ?", "i",
	                        ORG_A),
	             0);
	int64_t p = ix_damico(), svc = service(ORG_A, "Visita");
	int64_t ap = appointment(p, ORG_A, svc, 1815636600); /* 15 July 2027 07:30 UTC */
	struct comms_ctx x = {.kind = COMMS_CONFIRMATION,
	                      .channel = "sms",
	                      .lang = "en",
	                      .patient_id = p,
	                      .appointment_id = ap,
	                      .dry_run = 1,
	                      .assume_account = -1,
	                      .draft_body = "{{PATIENT_GIVEN_NAME}}|{{PATIENT_FAMILY_NAME}}|"
	                                    "{{ORG_NAME}}|{{ORG_PHONE}}|{{APPOINTMENT_DATE}}|"
	                                    "{{APPOINTMENT_TIME}}|{{APPOINTMENT_PLACE}}|"
	                                    "{{SERVICE_NAME}}|{{AMOUNT}}"};
	struct out o;
	cr_assert_eq(render(&x, &o), 0);
	cr_assert_str_eq(o.body.data, "Giulia|D'Amico|Clinic A|06 123|Thursday 15 July 2027|09:30|"
	                              "Clinic A|Visita|€80.00");
	out_free(&o);
}
