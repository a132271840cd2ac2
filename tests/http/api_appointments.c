/*
 * HTTP tests of POST /api/v1/appointments (src/api/appointments.c, the
 * HTTP_APIKEY flag in src/http/server.c, store/apikeys.c): 201 then 200 for
 * the same external_ref with one payment request, 400 naming the field for
 * every kind of bad value, 401 alike for a missing, malformed, unknown or
 * revoked key, 413, 415, keys confined to their organisation, an audit
 * event per import, and an access log without the key. On both backends
 * (make http, make http-pg).
 */
#include "harness.h"

#include "comms/triggers.h"
#include "http/http.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH "/api/v1/appointments"

static char KEY0[HTTP_APIKEY_CHARS + 1], KEY1[HTTP_APIKEY_CHARS + 1];
static int64_t KEY0_ID;

static int64_t scalar(const char *sql, int64_t arg)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int rc = strchr(sql, '?') != NULL ? store_scalar(db, &n, sql, "i", arg)
	                                  : store_scalar(db, &n, sql, "");
	store_release(db);
	cr_assert_eq(rc, 0, "%s: %d", sql, rc);
	return n;
}

static int64_t add_key(int org, char key[HTTP_APIKEY_CHARS + 1])
{
	unsigned char hash[32];
	int64_t id = 0;
	http_apikey_new(key, hash);
	struct store_conn *db = h_db();
	cr_assert_eq(store_apikey_add(db, H.org[org].org_id, "gestionale", hash, now_utc(), &id),
	             0);
	store_release(db);
	return id;
}

static void seed_org(int org, const char *patient_ref, const char *service)
{
	struct store_conn *db = h_db();
	struct store_patient p = {.org_id = H.org[org].org_id,
	                          .given_name = "Giulia",
	                          .family_name = "Rossi",
	                          .mobile = org == 0 ? "+393330000100" : "+393330000101",
	                          .lang = "it",
	                          .external_ref = (char *)patient_ref};
	cr_assert_eq(store_patient_add(db, &p), 0);
	int64_t id = 0;
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO services (org_id, name, duration_min, kind, "
	                          "price_cents, payment) VALUES (?, ?, 30, 'video', 8000, "
	                          "'mandatory') RETURNING id",
	                          "it", H.org[org].org_id, service),
	             0);
	store_release(db);
}

static void init(void)
{
	h_start();
	KEY0_ID = add_key(0, KEY0);
	add_key(1, KEY1);
	seed_org(0, "PAT-0", "Televisita");
	seed_org(1, "PAT-1", "Consulto");
}

TestSuite(api_appointments, .init = init, .fini = h_stop);

/* POST body as JSON with "Authorization: Bearer key" (key NULL: no header). */
static long post(const char *key, const char *content_type, const char *body, struct h_resp *r)
{
	char auth[128];
	const char *headers[] = {auth, "Expect:", NULL};
	if (key != NULL)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	else
		snprintf(auth, sizeof(auth), "X-None: 1");
	return h_request(h_client(), "POST", PATH, content_type, body, strlen(body), headers, r);
}

static long post_json(const char *key, const char *body, struct h_resp *r)
{
	return post(key, "application/json", body, r);
}

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

#define GOOD                                                                                       \
	"{\"external_ref\": \"E-1\", \"patient\": \"PAT-0\", \"service\": \"Televisita\", "        \
	"\"start\": \"2030-03-05T09:30\", \"kind\": \"video\", \"payment\": \"mandatory\", "       \
	"\"amount\": \"45.00\"}"

Test(api_appointments, created_then_present_with_one_payment_request)
{
	struct h_resp r;
	cr_assert_eq(post_json(KEY0, GOOD, &r), 201, "%s", r.body);
	cr_assert_str_eq(h_header(&r, "Content-Type"), "application/json");
	cr_assert(has(&r, "\"status\":\"created\""), "%s", r.body);
	cr_assert(has(&r, "\"payment_request\":true"), "%s", r.body);
	int64_t id = scalar("SELECT id FROM appointments WHERE external_ref = 'E-1'", 0);
	char want[64];
	snprintf(want, sizeof(want), "\"id\":%lld", (long long)id);
	cr_assert(has(&r, want), "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE id = ? AND booked_via = "
	                    "'import' AND amount_cents = 4500 AND status = 'booked'",
	                    id),
	             1);
	cr_assert_eq(scalar("SELECT org_id FROM appointments WHERE id = ?", id), H.org[0].org_id);

	/* the same external_ref again: 200, the same id, nothing new */
	cr_assert_eq(post_json(KEY0, GOOD, &r), 200, "%s", r.body);
	cr_assert(has(&r, want) && has(&r, "\"status\":\"present\""), "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 1);

	/* the payment request: once, and the due jobs add nothing */
	cr_assert_eq(comms_triggers_run(H.store, now_utc(), NULL), 0);
	cr_assert_eq(comms_triggers_run(H.store, now_utc(), NULL), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'payment_request' AND "
	                    "appointment_id = ?",
	                    id),
	             1);
	/* one audit event, naming the key by id */
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = "
	                    "'appointment.import' AND subject_id = ?",
	                    id),
	             1);
	struct store_conn *db = h_db();
	struct store_stmt *s = NULL;
	cr_assert_eq(
	    store_query(db, &s, "SELECT detail FROM audit_events WHERE subject_id = ?", "i", id),
	    0);
	cr_assert_eq(store_step(s), 1);
	char key_id[40];
	snprintf(key_id, sizeof(key_id), "api_key=%lld", (long long)KEY0_ID);
	cr_assert_not_null(strstr(store_col_text(s, 0), key_id), "%s", store_col_text(s, 0));
	cr_assert_null(strstr(store_col_text(s, 0), KEY0));
	store_done(s);
	store_release(db);
	cr_assert_gt(scalar("SELECT COALESCE(last_used_at, 0) FROM api_keys WHERE id = ?", KEY0_ID),
	             0);

	/* a cancellation of the same ref is applied, once */
	const char *cancel = "{\"external_ref\": \"E-1\", \"status\": \"cancelled\"}";
	cr_assert_eq(post_json(KEY0, cancel, &r), 200, "%s", r.body);
	cr_assert(has(&r, "\"status\":\"cancelled\""), "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(post_json(KEY0, cancel, &r), 200, "%s", r.body);
	cr_assert(has(&r, "\"status\":\"present\""), "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE id = ? AND status = "
	                    "'cancelled'",
	                    id),
	             1);
}

Test(api_appointments, bad_values_are_400_naming_the_field)
{
	static const struct {
		const char *body, *field, *error;
	} cases[] = {
	    {"{\"external_ref\": \"B\", \"patient\": \"NOBODY\", \"service\": \"Televisita\", "
	     "\"start\": \"2030-03-05T09:30\"}",
	     "patient", "unknown patient"},
	    {"{\"external_ref\": \"B\", \"patient\": \"PAT-0\", \"service\": \"Massaggio\", "
	     "\"start\": \"2030-03-05T09:30\"}",
	     "service", "unknown service"},
	    {"{\"external_ref\": \"B\", \"patient\": \"PAT-0\", \"service\": \"Televisita\", "
	     "\"start\": \"2030-13-05T09:30\"}",
	     "start", "bad date"},
	    {"{\"external_ref\": \"B\", \"patient\": \"PAT-0\", \"service\": \"Televisita\", "
	     "\"start\": \"2030-03-05T09:30\", \"end\": \"2030-03-05T09:00\"}",
	     "end", "end before start"},
	    {"{\"external_ref\": \"B\", \"patient\": \"PAT-0\", \"service\": \"Televisita\", "
	     "\"start\": \"2030-03-05T09:30\", \"amount\": \"lots\"}",
	     "amount", "amount is not a number"},
	    {"{\"external_ref\": \"B\", \"patient\": \"PAT-0\", \"service\": \"Televisita\", "
	     "\"start\": \"2030-03-05T09:30\", \"amount\": 45.123}",
	     "amount", "amount is not a number"},
	    {"{\"external_ref\": \"B\", \"patient\": \"PAT-0\", \"service\": \"Televisita\", "
	     "\"start\": \"2030-03-05T09:30\", \"kind\": \"phone\"}",
	     "kind", "kind must be"},
	    {"{\"external_ref\": \"B\", \"patient\": 7, \"service\": \"Televisita\", "
	     "\"start\": \"2030-03-05T09:30\"}",
	     "patient", "must be a string"},
	    {"{\"patient\": \"PAT-0\", \"service\": \"Televisita\", \"start\": "
	     "\"2030-03-05T09:30\"}",
	     "external_ref", "missing external_ref"},
	    {"{\"external_ref\": \"B\", \"patinet\": \"PAT-0\"}", "patinet", "unknown field"},
	};
	struct h_resp r;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char field[64];
		snprintf(field, sizeof(field), "\"field\":\"%s\"", cases[i].field);
		cr_expect_eq(post_json(KEY0, cases[i].body, &r), 400, "%s: %s", cases[i].body,
		             r.body);
		cr_expect(has(&r, field) && has(&r, cases[i].error), "%s: %s", cases[i].body,
		          r.body);
		cr_expect_str_eq(h_header(&r, "Content-Type"), "application/json");
		h_resp_free(&r);
	}
	static const char *const not_json[] = {"{\"external_ref\": ", "[1, 2]", "\"E-1\"",
	                                       "{\"a\": 1, \"a\": 2}"};
	for (size_t i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++) {
		cr_expect_eq(post_json(KEY0, not_json[i], &r), 400, "%s: %s", not_json[i], r.body);
		cr_expect(has(&r, "\"error\""), "%s", r.body);
		h_resp_free(&r);
	}
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = "
	                    "'appointment.import'",
	                    0),
	             0);
}

Test(api_appointments, a_key_acts_only_for_its_organisation)
{
	struct h_resp r;
	/* organisation 1's key, organisation 0's patient and service: unknown */
	cr_assert_eq(post_json(KEY1, GOOD, &r), 400, "%s", r.body);
	cr_assert(has(&r, "\"field\":\"patient\""), "%s", r.body);
	h_resp_free(&r);
	const char *their_service = "{\"external_ref\": \"E-1\", \"patient\": \"PAT-1\", "
	                            "\"service\": \"Televisita\", \"start\": \"2030-03-05T09:30\"}";
	cr_assert_eq(post_json(KEY1, their_service, &r), 400, "%s", r.body);
	cr_assert(has(&r, "\"field\":\"service\""), "%s", r.body);
	h_resp_free(&r);
	char by_id[256];
	snprintf(by_id, sizeof(by_id),
	         "{\"external_ref\": \"E-1\", \"patient\": \"PAT-1\", \"service\": %lld, "
	         "\"start\": \"2030-03-05T09:30\"}",
	         (long long)scalar("SELECT id FROM services WHERE name = 'Televisita'", 0));
	cr_assert_eq(post_json(KEY1, by_id, &r), 400, "%s", r.body);
	cr_assert(has(&r, "\"field\":\"service\""), "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 0);

	/* organisation 0 imports E-1; organisation 1's E-1 is another appointment, and its
	 * cancellation does not touch organisation 0's */
	cr_assert_eq(post_json(KEY0, GOOD, &r), 201, "%s", r.body);
	h_resp_free(&r);
	const char *cancel = "{\"external_ref\": \"E-1\", \"status\": \"cancelled\"}";
	cr_assert_eq(post_json(KEY1, cancel, &r), 400, "%s", r.body);
	h_resp_free(&r);
	const char *theirs = "{\"external_ref\": \"E-1\", \"patient\": \"PAT-1\", "
	                     "\"service\": \"Consulto\", \"start\": \"2030-03-05T09:30\"}";
	cr_assert_eq(post_json(KEY1, theirs, &r), 201, "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE status = 'booked'", 0), 2);
}

Test(api_appointments, no_bad_or_revoked_key_is_401_alike)
{
	char revoked[HTTP_APIKEY_CHARS + 1], forged[HTTP_APIKEY_CHARS + 1];
	int64_t rid = add_key(0, revoked);
	struct store_conn *db = h_db();
	cr_assert_eq(store_apikey_revoke(db, rid, now_utc()), 0);
	store_release(db);
	memcpy(forged, KEY0, sizeof(forged));
	forged[10] = forged[10] == 'A' ? 'B' : 'A';

	struct h_resp r;
	char first[256] = "";
	const char *keys[] = {NULL, "", "garbage", forged, revoked, "ivk_"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		cr_expect_eq(post_json(keys[i], GOOD, &r), 401, "key %zu: %s", i, r.body);
		cr_expect_str_eq(h_header(&r, "WWW-Authenticate"), "Bearer realm=\"invito\"");
		if (i == 0)
			snprintf(first, sizeof(first), "%s", r.body);
		else
			cr_expect_str_eq(r.body, first, "key %zu", i);
		h_resp_free(&r);
	}
	/* another scheme, and a session cookie, are no key either */
	const char *basic[] = {"Authorization: Basic Z2VzdGlvbmFsZTp4", "Expect:", NULL};
	struct h_client *c = h_client();
	h_staff_signin(c, 0);
	cr_assert_eq(h_request(c, "POST", PATH, "application/json", GOOD, strlen(GOOD), basic, &r),
	             401);
	cr_assert_str_eq(r.body, first);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 0);
}

Test(api_appointments, too_large_is_413_and_not_json_is_415)
{
	struct h_resp r;
	size_t n = HTTP_API_MAX_BODY + 10;
	char *big = malloc(n + 1);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	cr_assert_eq(post_json(KEY0, big, &r), 413, "%s", r.body);
	cr_assert_str_eq(h_header(&r, "Content-Type"), "application/json");
	h_resp_free(&r);
	free(big);

	cr_assert_eq(post(KEY0, "text/plain", GOOD, &r), 415, "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(post(KEY0, "application/x-www-form-urlencoded", "external_ref=E-1", &r), 415);
	h_resp_free(&r);
	cr_assert_eq(post(KEY0, NULL, GOOD, &r), 415);
	h_resp_free(&r);
	cr_assert_eq(post(KEY0, "application/json; charset=utf-8", GOOD, &r), 201, "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 1);
}

Test(api_appointments, access_log_has_no_key, .init = cr_redirect_stderr, .fini = h_stop)
{
	setenv("INVITO_TEST_LOG", "info", 1);
	init();
	struct h_resp r;
	cr_assert_eq(post_json(KEY0, GOOD, &r), 201);
	h_resp_free(&r);
	cr_assert_eq(post_json("ivk_NOTAREALKEYBUTSECRETLOOKINGxxxxxxxxxxxxxxxx", GOOD, &r), 401);
	h_resp_free(&r);
	h_stop_server();
	fflush(stderr);
	char *log = h_read_stderr();
	cr_assert_not_null(strstr(log, "POST /api/v1/appointments 201"), "log: %s", log);
	cr_assert_not_null(strstr(log, "POST /api/v1/appointments 401"), "log: %s", log);
	cr_assert_null(strstr(log, KEY0), "log: %s", log);
	cr_assert_null(strstr(log, "NOTAREALKEY"), "log: %s", log);
	free(log);
}
