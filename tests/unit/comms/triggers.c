/*
 * Tests for src/comms/triggers.c: the payment request (once per offline video
 * consultation with mandatory payment, never for online, in-person, optional,
 * paid or cancelled ones; the catch-up for imports), payment reminders that
 * stop once paid, appointment reminders (window, idempotence, reschedule, the
 * appendix), recalls (due once, per channel), every job run twice and by two
 * threads at once sending nothing twice, the TRD104 / TRD89 links per
 * recipient state, and the recalls staff create and list.
 *
 * Runs on SQLite, and on PostgreSQL under scripts/pg-test.sh (store fixture):
 *   scripts/pg-test.sh build/unit-tests --filter 'comms_triggers/<test>'
 */
#include "../store/fixture.h"

#include "comms/tags.h"
#include "comms/texts.h"
#include "comms/triggers.h"
#include "invite/invite.h"

#include <pthread.h>

TestSuite(comms_triggers, .init = fx_setup, .fini = fx_teardown);

#define NOW   ((int64_t)1800000000) /* Friday 15 January 2027, 08:00 UTC (09:00 in Rome) */
#define HOUR  ((int64_t)3600)
#define DAY   (24 * HOUR)
#define TODAY "2027-01-15" /* in Rome at NOW */
#define PW    "$argon2id$v=19$m=19456,t=2,p=1$fake$fake"

static int64_t patient_n;

/* A patient of org with a mobile (and an e-mail when email is set). */
static int64_t patient(int64_t org, int email)
{
	char mobile[32], mail[64];
	snprintf(mobile, sizeof(mobile), "+39333000%04d", (int)++patient_n);
	snprintf(mail, sizeof(mail), "p%d@example.org", (int)patient_n);
	struct store_patient p = {.org_id = org,
	                          .given_name = "Giulia",
	                          .family_name = "D'Amico",
	                          .birth_date = "1980-05-17",
	                          .mobile = mobile,
	                          .email = email ? mail : NULL,
	                          .lang = "it"};
	cr_assert_eq(store_patient_add(fx_conn, &p), 0);
	return p.id;
}

static void give_account(int64_t p)
{
	char login[64];
	snprintf(login, sizeof(login), "acct%lld@example.org", (long long)p);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
	                        "VALUES (?, ?, ?, ?)",
	                        "iitt", p, PORTAL, login, PW),
	             0);
}

static int64_t service(int64_t org, const char *kind, const char *payment)
{
	int64_t id = 0;
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO services (org_id, name, kind, price_cents, payment) "
	                          "VALUES (?, 'Televisita', ?, 8000, ?) RETURNING id",
	                          "itt", org, kind, payment),
	             0);
	return id;
}

struct appt {
	int64_t org;
	const char *kind, *payment, *via;
	int64_t start, created;
};

static int64_t appointment(int64_t p, const struct appt *a)
{
	int64_t id = 0, org = a->org != 0 ? a->org : ORG_A;
	const char *kind = a->kind != NULL ? a->kind : "video";
	const char *pay = a->payment != NULL ? a->payment : "mandatory";
	int64_t svc = service(org, kind, pay);
	int64_t start = a->start != 0 ? a->start : NOW + 5 * DAY;
	cr_assert_eq(
	    store_insert(fx_conn, &id,
	                 "INSERT INTO appointments (patient_id, org_id, service_id, "
	                 "start_at, end_at, kind, booked_via, payment, amount_cents, "
	                 "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 8000, ?) RETURNING id",
	                 "iiiiittti", p, org, svc, start, start + 1800, kind,
	                 a->via != NULL ? a->via : "offline", pay,
	                 a->created != 0 ? a->created : NOW - 10 * DAY),
	    0);
	return id;
}

static int64_t count(const char *sql, int64_t id)
{
	int64_t n = -1;
	int rc = strchr(sql, '?') != NULL ? store_scalar(fx_conn, &n, sql, "i", id)
	                                  : store_scalar(fx_conn, &n, sql, "");
	cr_assert_eq(rc, 0, "%s", sql);
	return n;
}

static int64_t messages(const char *kind)
{
	int64_t n = -1;
	cr_assert_eq(
	    store_scalar(fx_conn, &n, "SELECT COUNT(*) FROM messages WHERE kind = ?", "t", kind),
	    0);
	return n;
}

/* Every trigger once at clock now; the total queued. */
static int run(int64_t now)
{
	int n = 0;
	comms_trigger_table(&n);
	struct comms_trigger_stats st[8];
	cr_assert_leq(n, 8);
	cr_assert_eq(comms_triggers_run(fx_store, now, st), 0);
	int q = 0;
	for (int i = 0; i < n; i++) {
		cr_assert_eq(st[i].failed, 0);
		q += st[i].queued;
	}
	return q;
}

/* The newest message's body for patient p (arena). */
static char *last_body(int64_t p)
{
	struct store_stmt *s = NULL;
	char *b = NULL;
	cr_assert_eq(store_query(fx_conn, &s,
	                         "SELECT body FROM messages WHERE patient_id = ? ORDER BY id DESC",
	                         "i", p),
	             0);
	if (store_step(s) == 1)
		b = store_col_dup(s, 0, fx_arena);
	store_done(s);
	cr_assert_not_null(b, "no message for patient %lld", (long long)p);
	return b;
}

/* The invitation behind the link in body must land on target, on portal. */
static void expect_invitation(const char *body, const char *base, const char *target,
                              int64_t portal)
{
	char marker[96];
	snprintf(marker, sizeof(marker), "%s/i/", base);
	const char *at = strstr(body, marker);
	cr_assert_not_null(at, "no invitation in: %s", body);
	char tok[INVITE_TOKEN_CHARS + 1];
	memcpy(tok, at + strlen(marker), INVITE_TOKEN_CHARS);
	tok[INVITE_TOKEN_CHARS] = '\0';
	struct invite_link l;
	cr_assert_eq(invite_open(fx_conn, tok, NOW, &l, fx_arena), 0);
	cr_assert_str_eq(l.target, target);
	cr_assert_eq(l.portal_id, portal);
}

/* --- payment requests ---------------------------------------------------------------- */

Test(comms_triggers, payment_request_once_for_an_offline_video_with_mandatory_payment)
{
	int64_t p = patient(ORG_A, 0);
	int64_t ap = appointment(p, &(struct appt){0});
	int q = -1;
	cr_assert_eq(comms_trigger_payment_request(fx_conn, ap, NOW, &q), 0);
	cr_assert_eq(q, 1);
	cr_assert_eq(comms_trigger_payment_request(fx_conn, ap, NOW, &q), 0);
	cr_assert_eq(q, 0, "the second call writes nothing");
	cr_assert_eq(run(NOW), 0, "the catch-up finds it done");
	cr_assert_eq(messages("payment_request"), 1);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ? AND "
	                   "channel = 'sms' AND state = 'queued'",
	                   ap),
	             1);
	char key[32];
	snprintf(key, sizeof(key), "payreq:%lld", (long long)ap);
	int64_t n = 0;
	cr_assert_eq(store_scalar(fx_conn, &n, "SELECT COUNT(*) FROM messages WHERE dedupe_key = ?",
	                          "t", key),
	             0);
	cr_assert_eq(n, 1);
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", p), 1,
	             "one invitation, the message's");
}

Test(comms_triggers, no_payment_request_for_online_in_person_optional_paid_cancelled_or_past)
{
	const struct appt cases[] = {
	    {.via = "online"},   {.kind = "in_person"}, {.payment = "optional"},
	    {.payment = "none"}, {.start = NOW - HOUR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ap = appointment(patient(ORG_A, 0), &cases[i]);
		int q = -1;
		cr_assert_eq(comms_trigger_payment_request(fx_conn, ap, NOW, &q), 0);
		cr_assert_eq(q, 0, "case %zu", i);
	}
	int64_t paid = appointment(patient(ORG_A, 0), &(struct appt){0});
	cr_assert_eq(store_exec(fx_conn, NULL, "UPDATE appointments SET paid_at = ? WHERE id = ?",
	                        "ii", NOW - 60, paid),
	             0);
	int64_t gone = appointment(patient(ORG_A, 0), &(struct appt){0});
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE appointments SET status = 'cancelled' WHERE id = ?", "i",
	                        gone),
	             0);
	int q = -1;
	cr_assert_eq(comms_trigger_payment_request(fx_conn, paid, NOW, &q), 0);
	cr_assert_eq(q, 0);
	cr_assert_eq(comms_trigger_payment_request(fx_conn, gone, NOW, &q), 0);
	cr_assert_eq(q, 0);
	cr_assert_eq(run(NOW), 0, "the catch-up sends none of them either");
	cr_assert_eq(messages("payment_request"), 0);
}

Test(comms_triggers, catch_up_sends_imported_appointments_once)
{
	int64_t p = patient(ORG_A, 1);
	int64_t ap = appointment(p, &(struct appt){.via = "import"});
	cr_assert_eq(run(NOW), 1);
	cr_assert_eq(run(NOW), 0);
	cr_assert_eq(run(NOW + 60), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ? AND "
	                   "kind = 'payment_request'",
	                   ap),
	             1);
}

Test(comms_triggers, trd104_by_recipient_state)
{
	/* no account: an invitation landing on the payment page */
	int64_t none = patient(ORG_A, 0);
	int64_t a1 = appointment(none, &(struct appt){0});
	cr_assert_eq(comms_trigger_payment_request(fx_conn, a1, NOW, NULL), 0);
	char target[64];
	snprintf(target, sizeof(target), "/appointments/%lld/pay", (long long)a1);
	expect_invitation(last_body(none), "https://portal.example", target, PORTAL);

	/* an account: the payment page itself, no invitation */
	int64_t acct = patient(ORG_A, 0);
	give_account(acct);
	int64_t a2 = appointment(acct, &(struct appt){0});
	cr_assert_eq(comms_trigger_payment_request(fx_conn, a2, NOW, NULL), 0);
	char want[96];
	snprintf(want, sizeof(want), "https://portal.example/appointments/%lld/pay", (long long)a2);
	cr_assert_not_null(strstr(last_body(acct), want), "%s", last_body(acct));
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", acct), 0);

	/* a family member without contacts: the manager's mobile, the portal's home, never an
	 * invitation */
	int64_t kid = 0;
	struct store_patient k = {.org_id = ORG_A,
	                          .given_name = "Leo",
	                          .family_name = "D'Amico",
	                          .lang = "it",
	                          .managed_by = acct};
	cr_assert_eq(store_patient_add(fx_conn, &k), 0);
	kid = k.id;
	cr_assert_eq(store_exec(fx_conn, NULL, "UPDATE patients SET managed_by = ? WHERE id = ?",
	                        "ii", acct, kid),
	             0);
	int64_t a3 = appointment(kid, &(struct appt){0});
	cr_assert_eq(comms_trigger_payment_request(fx_conn, a3, NOW, NULL), 0);
	const char *b = last_body(kid);
	cr_assert_not_null(strstr(b, "https://portal.example/"), "%s", b);
	cr_assert_null(strstr(b, "/i/"));
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", kid), 0);
	int64_t same = 0;
	cr_assert_eq(store_scalar(fx_conn, &same,
	                          "SELECT COUNT(*) FROM messages m JOIN patients p ON p.id = ? "
	                          "WHERE m.patient_id = ? AND m.recipient = p.mobile",
	                          "ii", acct, kid),
	             0);
	cr_assert_eq(same, 1, "sent to the managing patient's mobile");

	/* an appointment at a member: the portal the member is connected to */
	int64_t portal2 = 0, member = 0;
	cr_assert_eq(store_insert(fx_conn, &portal2,
	                          "INSERT INTO portals (name, base_url) VALUES ('Rete', "
	                          "'https://rete.example') RETURNING id",
	                          ""),
	             0);
	cr_assert_eq(store_insert(fx_conn, &member,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Poliambulatorio Nord') RETURNING id",
	                          "ii", portal2, ORG_A),
	             0);
	int64_t mp = patient(ORG_A, 0);
	int64_t a4 = appointment(mp, &(struct appt){.org = member});
	cr_assert_eq(run(NOW), 1, "the catch-up sends it");
	snprintf(target, sizeof(target), "/appointments/%lld/pay", (long long)a4);
	expect_invitation(last_body(mp), "https://rete.example", target, portal2);
}

Test(comms_triggers, payment_reminder_before_the_start_until_paid)
{
	int64_t start = NOW + 5 * DAY;
	int64_t unpaid = appointment(patient(ORG_A, 0), &(struct appt){.start = start});
	int64_t paid = appointment(patient(ORG_A, 0), &(struct appt){.start = start});
	cr_assert_eq(run(NOW), 2, "the two payment requests");
	cr_assert_eq(run(start - 49 * HOUR), 0, "not yet");
	cr_assert_eq(store_exec(fx_conn, NULL, "UPDATE appointments SET paid_at = ? WHERE id = ?",
	                        "ii", start - 48 * HOUR, paid),
	             0);
	cr_assert_eq(run(start - 47 * HOUR), 1, "the payment reminder of the unpaid one only");
	cr_assert_eq(run(start - 46 * HOUR), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ? AND "
	                   "kind = 'payment_request'",
	                   unpaid),
	             2);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ? AND "
	                   "kind = 'payment_request'",
	                   paid),
	             1, "paying stops the reminders");
	/* the appointment reminders, 24 hours before, for both */
	cr_assert_eq(run(start - 23 * HOUR), 2);
	cr_assert_eq(messages("reminder"), 2);
}

Test(comms_triggers, payment_request_booked_late_gets_no_reminder_on_top)
{
	int64_t start = NOW + 30 * HOUR;
	int64_t ap = appointment(patient(ORG_A, 0), &(struct appt){.start = start, .created = NOW});
	cr_assert_eq(comms_trigger_payment_request(fx_conn, ap, NOW, NULL), 0);
	cr_assert_eq(run(NOW + HOUR), 0, "the request itself went out inside the window");
	cr_assert_eq(messages("payment_request"), 1);
}

/* --- appointment reminders --------------------------------------------------------------- */

Test(comms_triggers, reminder_in_its_window_once_and_again_after_a_reschedule)
{
	int64_t p = patient(ORG_A, 1);
	int64_t start = NOW + 3 * DAY;
	int64_t ap =
	    appointment(p, &(struct appt){.kind = "in_person", .payment = "none", .start = start});
	cr_assert_eq(run(NOW), 0);
	cr_assert_eq(run(start - 25 * HOUR), 0, "before the 24 hours");
	cr_assert_eq(run(start - 24 * HOUR), 1);
	cr_assert_eq(run(start - 24 * HOUR), 0, "twice: nothing twice");
	cr_assert_eq(run(start - HOUR), 0);
	cr_assert_eq(count("SELECT reminder_sent_at FROM appointments WHERE id = ?", ap),
	             start - 24 * HOUR);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ? AND kind = "
	                   "'reminder' AND channel = 'sms'",
	                   ap),
	             1, "SMS when there is a mobile");

	/* moved two days later: a new reminder for the new start, once */
	int64_t moved = start + 2 * DAY;
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE appointments SET start_at = ?, end_at = ?, "
	                        "reminder_sent_at = NULL WHERE id = ?",
	                        "iii", moved, moved + 1800, ap),
	             0);
	cr_assert_eq(run(moved - 24 * HOUR + 60), 1);
	cr_assert_eq(run(moved - 24 * HOUR + 120), 0);
	cr_assert_eq(messages("reminder"), 2);
	cr_assert_not_null(strstr(last_body(p), "mercoledì 20 gennaio 2027"), "%s", last_body(p));
}

Test(comms_triggers, reminder_hours_per_organisation_and_none_for_late_bookings)
{
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO org_settings (org_id, key, value) VALUES "
	                        "(?, 'reminder_hours', '48')",
	                        "i", ORG_B),
	             0);
	int64_t start = NOW + 3 * DAY;
	struct appt in_person = {
	    .org = ORG_B, .kind = "in_person", .payment = "none", .start = start};
	int64_t b = appointment(patient(ORG_B, 0), &in_person);
	in_person.org = ORG_A;
	int64_t a = appointment(patient(ORG_A, 0), &in_person);
	cr_assert_eq(run(start - 47 * HOUR), 1, "ORG_B's 48 hours");
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ?", b), 1);
	cr_assert_eq(run(start - 23 * HOUR), 1, "ORG_A's default 24 hours");
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ?", a), 1);

	/* booked 3 hours ahead: the patient has just booked, no reminder */
	int64_t late = appointment(patient(ORG_A, 0), &(struct appt){.kind = "in_person",
	                                                             .payment = "none",
	                                                             .start = NOW + 3 * HOUR,
	                                                             .created = NOW});
	cr_assert_eq(run(NOW + HOUR), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE appointment_id = ?", late), 0);
	/* cancelled: none */
	int64_t gone =
	    appointment(patient(ORG_A, 0),
	                &(struct appt){.kind = "in_person", .payment = "none", .start = start});
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE appointments SET status = 'cancelled' WHERE id = ?", "i",
	                        gone),
	             0);
	cr_assert_eq(run(start - 20 * HOUR), 0);
}

Test(comms_triggers, reminder_carries_the_appendix_only_without_an_account)
{
	cr_assert_eq(
	    comms_appendix_save(fx_conn, ORG_A, "", 1u << COMMS_REMINDER, 0, NULL, NOW, NULL), 0);
	int64_t start = NOW + 2 * DAY;
	struct appt ip = {.kind = "in_person", .payment = "none", .start = start};
	int64_t none = patient(ORG_A, 0), acct = patient(ORG_A, 0);
	give_account(acct);
	appointment(none, &ip);
	appointment(acct, &ip);
	cr_assert_eq(run(start - 24 * HOUR), 2);
	expect_invitation(last_body(none), "https://portal.example", "/", PORTAL);
	cr_assert_null(strstr(last_body(acct), "/i/"), "%s", last_body(acct));
	cr_assert_null(strstr(last_body(acct), "Gestisci"), "%s", last_body(acct));
}

/* --- recalls ---------------------------------------------------------------------------- */

static int64_t recall(int64_t p, int64_t svc, const char *due, const char *channel)
{
	int64_t id = 0;
	cr_assert_eq(comms_recall_create(fx_conn, ORG_A, p, svc, due, channel, 0, NULL, NOW, &id),
	             0);
	return id;
}

Test(comms_triggers, recall_is_sent_once_on_its_due_date)
{
	int64_t p = patient(ORG_A, 1), svc = service(ORG_A, "in_person", "none");
	int64_t r = recall(p, svc, "2027-01-16", "sms");
	cr_assert_eq(run(NOW), 0, "due tomorrow");
	/* 23:30 UTC on the 15th is 00:30 on the 16th in Rome */
	cr_assert_eq(run(NOW + 15 * HOUR + 30 * 60), 1);
	cr_assert_eq(run(NOW + 16 * HOUR), 0);
	cr_assert_eq(run(NOW + 5 * DAY), 0);
	cr_assert_eq(
	    count("SELECT COUNT(*) FROM messages WHERE recall_id = ? AND kind = 'recall'", r), 1);
	cr_assert_gt(count("SELECT sent_at FROM recalls WHERE id = ?", r), 0);
	char target[48];
	snprintf(target, sizeof(target), "/search?service=%lld", (long long)svc);
	expect_invitation(last_body(p), "https://portal.example", target, PORTAL);
}

Test(comms_triggers, recall_channels_and_cancelled_ones)
{
	int64_t svc = service(ORG_A, "in_person", "none");
	int64_t both = patient(ORG_A, 1), sms_only = patient(ORG_A, 0);
	int64_t r1 = recall(both, svc, TODAY, "both");
	int64_t r2 = recall(sms_only, svc, TODAY, "email"); /* no e-mail: falls back to SMS */
	int64_t r3 = recall(patient(ORG_A, 1), svc, TODAY, "sms");
	cr_assert_eq(comms_recall_cancel(fx_conn, ORG_A, r3, 0, NULL, NOW), 0);
	cr_assert_eq(comms_recall_cancel(fx_conn, ORG_A, r3, 0, NULL, NOW), COMMS_RECALL_STATE);
	cr_assert_eq(comms_recall_cancel(fx_conn, ORG_B, r1, 0, NULL, NOW), COMMS_RECALL_NOTFOUND);
	cr_assert_eq(run(NOW), 3);
	cr_assert_eq(run(NOW), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE recall_id = ?", r1), 2);
	cr_assert_eq(
	    count("SELECT COUNT(*) FROM messages WHERE recall_id = ? AND channel = 'sms'", r2), 1);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages WHERE recall_id = ?", r3), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", both), 2,
	             "one invitation per message");
	cr_assert_eq(comms_recall_cancel(fx_conn, ORG_A, r1, 0, NULL, NOW), COMMS_RECALL_STATE,
	             "sent: too late to cancel");
}

Test(comms_triggers, trd89_by_recipient_state)
{
	int64_t svc = service(ORG_A, "in_person", "none");
	int64_t acct = patient(ORG_A, 0);
	give_account(acct);
	recall(acct, svc, TODAY, "sms");
	cr_assert_eq(run(NOW), 1);
	char want[96];
	snprintf(want, sizeof(want), "https://portal.example/search?service=%lld", (long long)svc);
	cr_assert_not_null(strstr(last_body(acct), want), "%s", last_body(acct));
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", acct), 0);

	struct store_patient k = {
	    .org_id = ORG_A, .given_name = "Leo", .family_name = "D'Amico", .lang = "en"};
	cr_assert_eq(store_patient_add(fx_conn, &k), 0);
	cr_assert_eq(store_exec(fx_conn, NULL, "UPDATE patients SET managed_by = ? WHERE id = ?",
	                        "ii", acct, k.id),
	             0);
	recall(k.id, svc, TODAY, "sms");
	cr_assert_eq(run(NOW), 1);
	const char *b = last_body(k.id);
	cr_assert_not_null(strstr(b, "https://portal.example/"), "%s", b);
	cr_assert_null(strstr(b, "/i/"));
	cr_assert_null(strstr(b, "/search"), "a family member's link is the portal's home");
	cr_assert_not_null(strstr(b, "it is time to book"), "the family member's language: %s", b);
}

Test(comms_triggers, recall_create_refuses_bad_input_and_other_organisations)
{
	int64_t p = patient(ORG_A, 0), svc = service(ORG_A, "in_person", "none");
	int64_t other_svc = service(ORG_B, "in_person", "none");
	int64_t id = 0;
	cr_assert_eq(
	    comms_recall_create(fx_conn, ORG_A, p, svc, "2027-02-30", "sms", 0, NULL, NOW, &id),
	    COMMS_RECALL_INVALID);
	cr_assert_eq(
	    comms_recall_create(fx_conn, ORG_A, p, svc, "2027-02-01", "fax", 0, NULL, NOW, &id),
	    COMMS_RECALL_INVALID);
	cr_assert_eq(comms_recall_create(fx_conn, ORG_B, p, other_svc, "2027-02-01", "sms", 0, NULL,
	                                 NOW, &id),
	             COMMS_RECALL_NOTFOUND, "ORG_A's patient");
	cr_assert_eq(comms_recall_create(fx_conn, ORG_A, p, other_svc, "2027-02-01", "sms", 0, NULL,
	                                 NOW, &id),
	             COMMS_RECALL_NOTFOUND, "ORG_B's service");
	cr_assert_eq(count("SELECT COUNT(*) FROM recalls", 0), 0);
	cr_assert_eq(
	    comms_recall_create(fx_conn, ORG_A, p, svc, "2027-02-01", "sms", 0, NULL, NOW, &id), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events WHERE action = 'recall.create' AND "
	                   "subject_id = ?",
	                   id),
	             1);
}

Test(comms_triggers, recall_list_filters_and_pages)
{
	int64_t svc = service(ORG_A, "in_person", "none");
	int64_t p = patient(ORG_A, 0);
	char due[32];
	for (int i = 0; i < 7; i++) {
		snprintf(due, sizeof(due), "2027-01-%02d", 12 + i); /* 12..18: 4 due, 3 upcoming */
		recall(p, svc, due, "sms");
	}
	int64_t b = 0;
	cr_assert_eq(comms_recall_create(fx_conn, ORG_B, patient(ORG_B, 0),
	                                 service(ORG_B, "in_person", "none"), "2027-01-01", "sms",
	                                 0, NULL, NOW, &b),
	             0);
	struct comms_recall *rows = NULL;
	int n = 0, more = 0;
	struct comms_recall_filter f = {.state = COMMS_RECALLS_DUE, .limit = 50};
	cr_assert_eq(comms_recall_list(fx_conn, ORG_A, &f, NOW, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 4);
	cr_assert(rows[0].due);
	f.state = COMMS_RECALLS_UPCOMING;
	cr_assert_eq(comms_recall_list(fx_conn, ORG_A, &f, NOW, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 3);
	cr_assert_not(rows[0].due);
	/* pages of 3 over all 7, in due date order */
	f.state = COMMS_RECALLS_ALL;
	f.limit = 3;
	cr_assert_eq(comms_recall_list(fx_conn, ORG_A, &f, NOW, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 3);
	cr_assert(more);
	cr_assert_str_eq(rows[0].due_date, "2027-01-12");
	f.after_date = rows[2].due_date;
	f.after_id = rows[2].id;
	cr_assert_eq(comms_recall_list(fx_conn, ORG_A, &f, NOW, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(rows[0].due_date, "2027-01-15");
	f.after_date = rows[2].due_date;
	f.after_id = rows[2].id;
	cr_assert_eq(comms_recall_list(fx_conn, ORG_A, &f, NOW, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_not(more);
	/* sent after a run */
	cr_assert_eq(run(NOW), 5, "ORG_A's 4 and ORG_B's");
	struct comms_recall_filter sent = {.state = COMMS_RECALLS_SENT, .limit = 50};
	cr_assert_eq(comms_recall_list(fx_conn, ORG_A, &sent, NOW, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 4);
	cr_assert_gt(rows[0].sent_at, 0);
}

/* --- idempotence ------------------------------------------------------------------------ */

/* A bit of everything due at NOW + 1 h: payment requests, reminders, recalls. */
static int seed_everything(int k)
{
	int64_t svc = service(ORG_A, "in_person", "none");
	for (int i = 0; i < k; i++) {
		int64_t p = patient(ORG_A, i % 2 == 1 || i % 4 == 0);
		if (i % 3 == 0)
			give_account(p);
		appointment(p, &(struct appt){.via = i % 2 ? "import" : "offline"});
		appointment(p, &(struct appt){.kind = "in_person",
		                              .payment = "none",
		                              .start = NOW + 20 * HOUR});
		recall(p, svc, TODAY, i % 4 == 0 ? "both" : "sms");
	}
	/* per patient: payment request, reminder, recall (two on "both") */
	return k * 3 + (k + 3) / 4;
}

Test(comms_triggers, every_job_twice_sends_nothing_twice)
{
	int want = seed_everything(9);
	cr_assert_eq(run(NOW + HOUR), want);
	cr_assert_eq(run(NOW + HOUR), 0);
	cr_assert_eq(run(NOW + 2 * HOUR), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages", 0), want);
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations", 0),
	             count("SELECT COUNT(*) FROM messages WHERE body LIKE '%/i/%'", 0),
	             "no invitation without its message");
}

struct racer {
	int64_t now;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	r->rc = comms_triggers_run(fx_store, r->now, NULL);
	return NULL;
}

Test(comms_triggers, two_threads_at_once_send_nothing_twice)
{
	int want = seed_everything(24);
	pthread_t t[2];
	struct racer r[2] = {{NOW + HOUR, -1}, {NOW + HOUR, -1}};
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(r[0].rc, 0);
	cr_assert_eq(r[1].rc, 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages", 0), want);
	cr_assert_eq(count("SELECT COUNT(*) FROM (SELECT dedupe_key FROM messages GROUP BY "
	                   "dedupe_key HAVING COUNT(*) > 1) d",
	                   0),
	             0);
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations", 0),
	             count("SELECT COUNT(*) FROM messages WHERE body LIKE '%/i/%'", 0),
	             "the loser of a race leaves no invitation behind");
	cr_assert_eq(run(NOW + HOUR), 0);
}

Test(comms_triggers, scheduler_thread_runs_the_jobs)
{
	int64_t svc = service(ORG_A, "in_person", "none");
	recall(patient(ORG_A, 0), svc, "2020-01-01", "sms"); /* long due at the real clock */
	struct comms_scheduler *s = NULL;
	cr_assert_eq(comms_scheduler_start(&s, fx_store, 3600), 0);
	int64_t n = 0;
	for (int i = 0; i < 200 && n == 0; i++) {
		usleep(20 * 1000);
		cr_assert_eq(store_scalar(fx_conn, &n, "SELECT COUNT(*) FROM messages", ""), 0);
	}
	comms_scheduler_stop(s);
	cr_assert_eq(n, 1);
	comms_scheduler_stop(NULL);
}

/* The appendix's invitation is the message's one invitation: it lands on the recall's search,
 * not on the portal's home. */
Test(comms_triggers, recall_with_the_appendix_still_lands_on_the_search)
{
	cr_assert_eq(
	    comms_appendix_save(fx_conn, ORG_A, "", 1u << COMMS_RECALL, 0, NULL, NOW, NULL), 0);
	int64_t p = patient(ORG_A, 0), svc = service(ORG_A, "in_person", "none");
	recall(p, svc, TODAY, "sms");
	cr_assert_eq(run(NOW), 1);
	char target[48];
	snprintf(target, sizeof(target), "/search?service=%lld", (long long)svc);
	expect_invitation(last_body(p), "https://portal.example", target, PORTAL);
}
