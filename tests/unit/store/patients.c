/* Tests for src/store/patients.c: CRUD, tenant isolation, search, status, keyset pages. */
#include "fixture.h"

#include "lib/util.h"

#include <string.h>

TestSuite(store_patients, .init = fx_setup, .fini = fx_teardown);

static int64_t add(int64_t org, const char *given, const char *family, const char *mobile,
                   const char *email)
{
	struct store_patient p = {.org_id = org,
	                          .given_name = (char *)given,
	                          .family_name = (char *)family,
	                          .mobile = (char *)mobile,
	                          .email = (char *)email,
	                          .birth_date = "1980-01-02"};
	cr_assert_eq(store_patient_add(fx_conn, &p), 0, "add %s %s", given, family);
	cr_assert_gt(p.id, 0);
	return p.id;
}

static int list(int64_t org, const char *q, int status, int64_t after, int limit,
                struct store_patient **rows, int *more)
{
	struct store_patient_filter f = {
	    .q = q, .status = status, .after_id = after, .limit = limit};
	int n = -1;
	cr_assert_eq(store_patient_list(fx_conn, org, &f, rows, &n, more, fx_arena), 0);
	int64_t count = -1;
	cr_assert_eq(store_patient_count(fx_conn, org, &f, &count), 0);
	if (after == 0 && !*more)
		cr_assert_eq(count, n, "count agrees with the list for q=%s", q ? q : "");
	return n;
}

static int found(const char *q, int64_t id)
{
	struct store_patient *rows = NULL;
	int more = 0;
	int n = list(ORG_A, q, -1, 0, 100, &rows, &more);
	for (int i = 0; i < n; i++)
		if (rows[i].id == id)
			return 1;
	return 0;
}

Test(store_patients, add_get_update)
{
	int64_t id = add(ORG_A, "Mario", "Rossi", "+393331234567", "Mario.Rossi@Example.IT");
	struct store_patient p;
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, id, &p, fx_arena), 0);
	cr_assert_str_eq(p.given_name, "Mario");
	cr_assert_str_eq(p.family_name, "Rossi");
	cr_assert_str_eq(p.birth_date, "1980-01-02");
	cr_assert_str_eq(p.email, "mario.rossi@example.it", "e-mail stored lower-case");
	cr_assert_str_eq(p.lang, "it");
	cr_assert_eq(p.status, STORE_PS_NONE);
	cr_assert_eq(p.has_password, 0);
	cr_assert_null(p.managed_by_name);
	cr_assert_gt(p.created_at, 0);

	p.family_name = "D'Amico";
	p.lang = "en";
	p.external_ref = "X-1";
	cr_assert_eq(store_patient_update(fx_conn, &p), 0);
	struct store_patient q;
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, id, &q, fx_arena), 0);
	cr_assert_str_eq(q.family_name, "D'Amico");
	cr_assert_str_eq(q.lang, "en");
	int64_t by_ref = 0;
	cr_assert_eq(store_patient_by_ref(fx_conn, ORG_A, "X-1", &by_ref), 0);
	cr_assert_eq(by_ref, id);
	cr_assert_eq(store_patient_by_ref(fx_conn, ORG_B, "X-1", &by_ref), STORE_NOTFOUND);
	cr_assert(found("damico", id));
	cr_assert(found("d'ami", id));
	cr_assert(!found("rossi", id));
}

Test(store_patients, external_ref_unique_per_org)
{
	struct store_patient p = {
	    .org_id = ORG_A, .given_name = "A", .family_name = "B", .external_ref = "R1"};
	cr_assert_eq(store_patient_add(fx_conn, &p), 0);
	p.id = 0;
	cr_assert_eq(store_patient_add(fx_conn, &p), STORE_CONFLICT);
	p.org_id = ORG_B;
	cr_assert_eq(store_patient_add(fx_conn, &p), 0, "another organisation may reuse it");
}

Test(store_patients, tenant_isolation)
{
	int64_t id = add(ORG_A, "Anna", "Bianchi", NULL, NULL);
	struct store_patient p;
	cr_assert_eq(store_patient_get(fx_conn, ORG_B, id, &p, fx_arena), STORE_NOTFOUND);
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, id, &p, fx_arena), 0);
	p.org_id = ORG_B;
	p.given_name = "Hacked";
	cr_assert_eq(store_patient_update(fx_conn, &p), STORE_NOTFOUND);
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, id, &p, fx_arena), 0);
	cr_assert_str_eq(p.given_name, "Anna");
	struct store_patient *rows = NULL;
	int n = 0;
	cr_assert_eq(store_patient_family(fx_conn, ORG_B, id, &rows, &n, fx_arena), STORE_NOTFOUND);
	struct store_appointment_row *ar = NULL;
	cr_assert_eq(store_patient_appointments(fx_conn, ORG_B, id, &ar, &n, fx_arena),
	             STORE_NOTFOUND);
	struct store_recall_row *rr = NULL;
	cr_assert_eq(store_patient_recalls(fx_conn, ORG_B, id, &rr, &n, fx_arena), STORE_NOTFOUND);
	int more = 0;
	cr_assert_eq(list(ORG_B, "bianchi", -1, 0, 50, &rows, &more), 0);
	/* A manager from another organisation is refused. */
	int64_t other = add(ORG_B, "Bea", "Verdi", NULL, NULL);
	struct store_patient child = {
	    .org_id = ORG_A, .given_name = "C", .family_name = "Verdi", .managed_by = other};
	cr_assert_eq(store_patient_add(fx_conn, &child), STORE_INVALID);
}

Test(store_patients, search_by_name_mobile_email)
{
	int64_t rossi = add(ORG_A, "Mario", "Rossi", "+393331234567", "mario@example.it");
	int64_t damico = add(ORG_A, "Nicolò", "D'Amico", "+393401112222", "nd@example.it");
	int64_t other = add(ORG_A, "Luca", "Rossini", "+447700900123", NULL);
	add(ORG_B, "Mario", "Rossi", "+393331234567", "mario@example.it");

	cr_assert(found("ross", rossi));
	cr_assert(found("ross", other));
	cr_assert(found("ROSSI", rossi));
	cr_assert(found("mario rossi", rossi));
	cr_assert(!found("mario rossi", other));
	cr_assert(found("rossi mar", rossi), "family name first");
	cr_assert(found("nicolo", damico), "accents ignored");
	cr_assert(found("d’amico", damico), "curly apostrophe");
	cr_assert(found("DAMICO N", damico));
	cr_assert(!found("amico", damico), "prefix, not substring");
	cr_assert(found("+39333", rossi));
	cr_assert(found("333 123", rossi), "national number gets +39");
	cr_assert(found("0044 7700", other));
	cr_assert(found("4477009", other));
	cr_assert(!found("+39333", other));
	cr_assert(found("Mario@Ex", rossi));
	cr_assert(!found("mario@x", rossi));
	cr_assert(found("  ", rossi), "blank q is no filter");
	struct store_patient *rows = NULL;
	int more = 0;
	cr_assert_eq(list(ORG_A, "ross", -1, 0, 50, &rows, &more), 2);
	cr_assert_eq(list(ORG_A, "zzz", -1, 0, 50, &rows, &more), 0);
}

Test(store_patients, status_filter_and_fields)
{
	int64_t none = add(ORG_A, "N", "None", NULL, NULL);
	int64_t invited = add(ORG_A, "I", "Invited", NULL, NULL);
	int64_t expired = add(ORG_A, "E", "Expired", NULL, NULL);
	int64_t active = add(ORG_A, "A", "Active", NULL, NULL);
	int64_t noacc = add(ORG_A, "P", "Pwless", NULL, NULL);
	struct store_patient fam = {
	    .org_id = ORG_A, .given_name = "F", .family_name = "Family", .managed_by = active};
	cr_assert_eq(store_patient_add(fx_conn, &fam), 0);
	int64_t now = now_utc();
	const unsigned char h1[32] = {1}, h2[32] = {2};
	cr_assert_eq(
	    store_exec(fx_conn, NULL,
	               "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	               "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
	               "iiibii", invited, PORTAL, ORG_A, (const void *)h1, sizeof(h1), now,
	               now + 3600),
	    0);
	cr_assert_eq(
	    store_exec(fx_conn, NULL,
	               "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	               "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
	               "iiibii", expired, PORTAL, ORG_A, (const void *)h2, sizeof(h2), now - 7200,
	               now - 3600),
	    0);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
	                        "VALUES (?, ?, 'a@x.it', 'hash')",
	                        "ii", active, PORTAL),
	             0);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login) "
	                        "VALUES (?, ?, 'p@x.it')",
	                        "ii", noacc, PORTAL),
	             0);

	struct store_patient p;
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, active, &p, fx_arena), 0);
	cr_assert_eq(p.status, STORE_PS_ACTIVE);
	cr_assert(p.has_password);
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, fam.id, &p, fx_arena), 0);
	cr_assert_eq(p.status, STORE_PS_FAMILY);
	cr_assert_str_eq(p.managed_by_name, "A Active");
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, invited, &p, fx_arena), 0);
	cr_assert_eq(p.status, STORE_PS_INVITED);
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, expired, &p, fx_arena), 0);
	cr_assert_eq(p.status, STORE_PS_NONE);
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, noacc, &p, fx_arena), 0);
	cr_assert_eq(p.status, STORE_PS_NONE, "an account without a password is not active");

	struct store_patient *rows = NULL;
	int more = 0;
	cr_assert_eq(list(ORG_A, NULL, STORE_PS_NONE, 0, 50, &rows, &more), 3);
	cr_assert_eq(rows[0].id, none);
	cr_assert_eq(list(ORG_A, NULL, STORE_PS_INVITED, 0, 50, &rows, &more), 1);
	cr_assert_eq(rows[0].id, invited);
	cr_assert_eq(list(ORG_A, NULL, STORE_PS_ACTIVE, 0, 50, &rows, &more), 1);
	cr_assert_eq(rows[0].id, active);
	cr_assert_eq(list(ORG_A, NULL, STORE_PS_FAMILY, 0, 50, &rows, &more), 1);
	cr_assert_eq(rows[0].id, fam.id);
	cr_assert_eq(list(ORG_A, "inv", STORE_PS_INVITED, 0, 50, &rows, &more), 1);
	cr_assert_eq(list(ORG_A, "none", STORE_PS_INVITED, 0, 50, &rows, &more), 0);

	int n = 0;
	cr_assert_eq(store_patient_family(fx_conn, ORG_A, active, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].id, fam.id);
	/* One level: a family member cannot manage, a manager cannot be managed. */
	struct store_patient grandchild = {
	    .org_id = ORG_A, .given_name = "G", .family_name = "Family", .managed_by = fam.id};
	cr_assert_eq(store_patient_add(fx_conn, &grandchild), STORE_INVALID);
	cr_assert_eq(store_patient_get(fx_conn, ORG_A, active, &p, fx_arena), 0);
	p.managed_by = none;
	cr_assert_eq(store_patient_update(fx_conn, &p), STORE_INVALID);
	p.managed_by = p.id;
	cr_assert_eq(store_patient_update(fx_conn, &p), STORE_INVALID);
}

static void invitation(int64_t org, int64_t patient, int tag, int64_t created, int64_t expires,
                       int64_t accepted)
{
	unsigned char h[32] = {0};
	h[0] = (unsigned char)tag;
	cr_assert_eq(
	    store_exec(fx_conn, NULL,
	               "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	               "created_at, expires_at, accepted_at, state) VALUES (?, ?, ?, ?, ?, "
	               "?, ?, ?)",
	               "iiibiiIt", patient, PORTAL, org, (const void *)h, sizeof(h), created,
	               expires, accepted, accepted > 0 ? "accepted" : "pending"),
	    0);
}

Test(store_patients, portal_counts_follow_the_list_and_stay_in_the_organisation)
{
	int64_t now = now_utc(), day = 86400, since = now - 30 * day;
	add(ORG_A, "N", "None", "+393330000001", NULL);
	add(ORG_A, "U", "Unreached", NULL, NULL);
	add(ORG_A, "U", "Unreached2", "", "");
	int64_t invited = add(ORG_A, "I", "Invited", "+393330000002", NULL);
	int64_t expired = add(ORG_A, "E", "Expired", NULL, "e@x.it");
	int64_t active = add(ORG_A, "A", "Active", "+393330000003", NULL);
	int64_t lost = add(ORG_A, "L", "Lost", NULL, NULL); /* invited, then the contact removed */
	struct store_patient fam = {
	    .org_id = ORG_A, .given_name = "F", .family_name = "Family", .managed_by = active};
	cr_assert_eq(store_patient_add(fx_conn, &fam), 0);
	invitation(ORG_A, invited, 1, now - day, now + 29 * day, 0);
	invitation(ORG_A, expired, 2, now - 40 * day, now - 10 * day, 0);
	invitation(ORG_A, active, 3, now - 35 * day, now - 5 * day, now - 20 * day);
	invitation(ORG_A, lost, 4, now - 2 * day, now + 28 * day, 0);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
	                        "VALUES (?, ?, 'a@x.it', 'hash')",
	                        "ii", active, PORTAL),
	             0);
	/* another organisation's patients and invitations count for it alone */
	int64_t b = add(ORG_B, "B", "Other", "+393330000009", NULL);
	invitation(ORG_B, b, 9, now - day, now + 29 * day, 0);

	struct store_portal_counts k;
	cr_assert_eq(store_portal_counts(fx_conn, ORG_A, now, since, &k), 0);
	cr_assert_eq(k.patients, 8);
	cr_assert_eq(k.by_status[STORE_PS_ACTIVE], 1);
	cr_assert_eq(k.by_status[STORE_PS_FAMILY], 1);
	cr_assert_eq(k.by_status[STORE_PS_INVITED], 2);
	cr_assert_eq(k.by_status[STORE_PS_NONE], 4);
	cr_assert_eq(k.none_unreached, 2, "a pending link is not 'unreached'");
	cr_assert_eq(k.sent, 2);
	cr_assert_eq(k.accepted, 1, "accepted in the window though sent before it");
	/* the same numbers as the patient list's filter */
	for (int st = 0; st < 4; st++) {
		int64_t n = 0;
		struct store_patient_filter f = {.status = st, .limit = 50};
		cr_assert_eq(store_patient_count(fx_conn, ORG_A, &f, &n), 0);
		cr_assert_eq(n, k.by_status[st], "status %d", st);
	}
	cr_assert_eq(store_portal_counts(fx_conn, ORG_B, now, since, &k), 0);
	cr_assert_eq(k.patients, 1);
	cr_assert_eq(k.by_status[STORE_PS_INVITED], 1);
	cr_assert_eq(k.sent, 1);
	cr_assert_eq(k.accepted, 0);
}

Test(store_patients, keyset_pagination)
{
	int64_t ids[23];
	for (int i = 0; i < 23; i++)
		ids[i] = add(ORG_A, "Page", "Person", NULL, NULL);
	add(ORG_B, "Page", "Person", NULL, NULL);
	struct store_patient *rows = NULL;
	int more = 0, seen = 0;
	int64_t after = 0;
	for (int page = 0; page < 3; page++) {
		int n = list(ORG_A, page == 1 ? "page" : NULL, -1, after, 10, &rows, &more);
		for (int i = 0; i < n; i++)
			cr_assert_eq(rows[i].id, ids[seen + i]);
		seen += n;
		cr_assert_eq(more, page < 2);
		after = rows[n - 1].id;
	}
	cr_assert_eq(seen, 23);
	int64_t count = 0;
	struct store_patient_filter f = {.status = -1, .limit = 10};
	cr_assert_eq(store_patient_count(fx_conn, ORG_A, &f, &count), 0);
	cr_assert_eq(count, 23);
	int n = 0;
	f.limit = 0;
	cr_assert_eq(store_patient_list(fx_conn, ORG_A, &f, &rows, &n, &more, fx_arena),
	             STORE_INVALID);
	f.limit = 10;
	f.status = 9;
	cr_assert_eq(store_patient_list(fx_conn, ORG_A, &f, &rows, &n, &more, fx_arena),
	             STORE_INVALID);
}

Test(store_patients, appointments_and_recalls)
{
	int64_t id = add(ORG_A, "Ap", "Point", NULL, NULL);
	int64_t svc = 0, appt = 0;
	cr_assert_eq(
	    store_insert(fx_conn, &svc,
	                 "INSERT INTO services (org_id, name, kind) VALUES (?, 'Cardiology', "
	                 "'video') RETURNING id",
	                 "i", ORG_A),
	    0);
	cr_assert_eq(
	    store_insert(fx_conn, &appt,
	                 "INSERT INTO appointments (patient_id, org_id, service_id, start_at, "
	                 "end_at, kind, payment, amount_cents) VALUES (?, ?, ?, 1000, 2800, "
	                 "'video', 'mandatory', 5000) RETURNING id",
	                 "iii", id, ORG_A, svc),
	    0);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO recalls (org_id, patient_id, service_id, due_date, "
	                        "channel) VALUES (?, ?, ?, '2030-01-15', 'both')",
	                        "iii", ORG_A, id, svc),
	             0);
	struct store_appointment_row *ar = NULL;
	int n = 0;
	cr_assert_eq(store_patient_appointments(fx_conn, ORG_A, id, &ar, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ar[0].id, appt);
	cr_assert_str_eq(ar[0].service, "Cardiology");
	cr_assert_str_eq(ar[0].org_name, "Clinic A");
	cr_assert_str_eq(ar[0].kind, "video");
	cr_assert_str_eq(ar[0].payment, "mandatory");
	cr_assert_str_eq(ar[0].booked_via, "offline");
	cr_assert_eq(ar[0].paid, 0);
	struct store_recall_row *rr = NULL;
	cr_assert_eq(store_patient_recalls(fx_conn, ORG_A, id, &rr, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(rr[0].due_date, "2030-01-15");
	cr_assert_str_eq(rr[0].channel, "both");
	cr_assert_eq(rr[0].sent_at, 0);
}

Test(store_patients, org_and_portal_get)
{
	struct store_org o;
	cr_assert_eq(store_org_get(fx_conn, ORG_A, &o, fx_arena), 0);
	cr_assert_str_eq(o.name, "Clinic A");
	cr_assert_eq(o.kind, STORE_ORG_CUSTOMER);
	cr_assert_eq(o.portal_id, PORTAL);
	cr_assert_str_eq(o.timezone, "Europe/Rome");
	cr_assert_eq(store_org_get(fx_conn, 999, &o, fx_arena), STORE_NOTFOUND);
	struct store_portal p;
	cr_assert_eq(store_portal_get(fx_conn, PORTAL, &p, fx_arena), 0);
	cr_assert_str_eq(p.base_url, "https://portal.example");
	cr_assert_eq(p.invite_ttl_days, 30);
	cr_assert_eq(store_audit(fx_conn, ORG_A, "staff", 1, "patient.view", "patient", 1,
	                         "127.0.0.1", NULL),
	             0);
	cr_assert_eq(store_audit(fx_conn, 0, "system", 0, "migrate", NULL, 0, NULL, NULL), 0);
	cr_assert_eq(store_audit(fx_conn, 0, "robot", 0, "x", NULL, 0, NULL, NULL), STORE_CONFLICT);
}

Test(store_patients, common_prefix_takes_the_walk_and_agrees)
{
	/* Past the probe cap (1000) the list walks the organisation in id order instead. */
	cr_assert_eq(store_begin(fx_conn), 0);
	for (int i = 0; i < 1100; i++)
		add(ORG_A, i % 2 ? "Walter" : "Anna", i % 3 ? "Walker" : "Wallace", NULL, NULL);
	int64_t odd = add(ORG_A, "Zed", "Zulu", NULL, NULL);
	cr_assert_eq(store_commit(fx_conn), 0);
	struct store_patient *rows = NULL;
	int more = 0, total = 0;
	int64_t after = 0;
	do {
		int n = list(ORG_A, "wal", -1, after, 500, &rows, &more);
		for (int i = 0; i < n; i++)
			cr_assert_neq(rows[i].id, odd);
		total += n;
		after = rows[n - 1].id;
	} while (more);
	cr_assert_eq(total, 1100);
	int64_t count = 0;
	struct store_patient_filter f = {.q = "wal", .status = STORE_PS_NONE, .limit = 50};
	cr_assert_eq(store_patient_count(fx_conn, ORG_A, &f, &count), 0);
	cr_assert_eq(count, 1100);
	f.q = "walker w";
	cr_assert_eq(store_patient_count(fx_conn, ORG_A, &f, &count), 0);
	cr_assert_eq(count, 367, "family first, then given");
	f.q = "walter wal";
	cr_assert_eq(store_patient_count(fx_conn, ORG_A, &f, &count), 0);
	cr_assert_eq(count, 550);
}
