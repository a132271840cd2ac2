/*
 * Tests of src/comms/transport_sms.c against a local stand-in for an SMS
 * gateway: a libmicrohttpd server on 127.0.0.1 (an ephemeral port) that
 * records each request (method, path, Authorization, Idempotency-Key,
 * Content-Type, the JSON body) and answers the statuses the test queues.
 * Checked: the request, the provider id kept, 400 dead with the reason, 503
 * retried with the same Idempotency-Key, the organisation's sender, a bad
 * number dead without a request, and no token or body in last_error.
 */
#include "dispatch_fixture.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

#define REQ_MAX 16

struct seen {
	char method[16], path[128], auth[256], idem[128], ctype[128];
	char body[4096];
	size_t body_len;
};

static struct {
	pthread_mutex_t lock;
	struct MHD_Daemon *d;
	char url[96];
	int requests;
	struct seen seen[REQ_MAX];
	unsigned status[REQ_MAX]; /* answer to request i (0: 200) */
	const char *answer[REQ_MAX];
} gw = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void copy_hdr(struct MHD_Connection *conn, const char *name, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	snprintf(out, n, "%s", v != NULL ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct seen *s = *con_cls;
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		snprintf(s->method, sizeof(s->method), "%s", method);
		snprintf(s->path, sizeof(s->path), "%s", url);
		copy_hdr(conn, "Authorization", s->auth, sizeof(s->auth));
		copy_hdr(conn, "Idempotency-Key", s->idem, sizeof(s->idem));
		copy_hdr(conn, "Content-Type", s->ctype, sizeof(s->ctype));
		*con_cls = s;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;
		if (s->body_len + n < sizeof(s->body)) {
			memcpy(s->body + s->body_len, upload, n);
			s->body_len += n;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&gw.lock);
	int i = gw.requests < REQ_MAX ? gw.requests : REQ_MAX - 1;
	gw.seen[i] = *s;
	gw.requests++;
	unsigned status = gw.status[i] ? gw.status[i] : 200;
	const char *answer = gw.answer[i] ? gw.answer[i] : "{\"id\": \"gw-1\"}";
	pthread_mutex_unlock(&gw.lock);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(answer), (void *)answer, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void gw_setup(void)
{
	dq_setup();
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gw.requests = 0;
	memset(gw.seen, 0, sizeof(gw.seen));
	memset(gw.status, 0, sizeof(gw.status));
	memset(gw.answer, 0, sizeof(gw.answer));
	gw.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	                        on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
	cr_assert_not_null(gw.d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw.d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(gw.url, sizeof(gw.url), "http://127.0.0.1:%u/v1/sms", (unsigned)info->port);
	dq_set("transport", "sms-http");
	dq_set("sms_url", gw.url);
	dq_set("sms_token", "tok-SECRET-123");
	dq_set("sms_sender", "Invito");
}

static void gw_teardown(void)
{
	MHD_stop_daemon(gw.d);
	gw.d = NULL;
	dq_teardown();
}

TestSuite(sms, .init = gw_setup, .fini = gw_teardown, .timeout = 30);

static json_t *body_json(int i)
{
	json_t *j = json_loadb(gw.seen[i].body, gw.seen[i].body_len, 0, NULL);
	cr_assert_not_null(j, "%.*s", (int)gw.seen[i].body_len, gw.seen[i].body);
	return j;
}

Test(sms, sends_json_with_auth_and_idempotency_key)
{
	gw.answer[0] = "{\"message_id\": \"gw-42\", \"status\": \"accepted\"}";
	int64_t id =
	    dq_add(ORG_A, "sms", "+393331234567", NULL, "Ciao Nicolò: https://p.example/i/x");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	cr_assert_eq(gw.requests, 1);
	cr_assert_str_eq(gw.seen[0].method, "POST");
	cr_assert_str_eq(gw.seen[0].path, "/v1/sms");
	cr_assert_str_eq(gw.seen[0].auth, "Bearer tok-SECRET-123");
	cr_assert_str_eq(gw.seen[0].ctype, "application/json");
	char key[64];
	snprintf(key, sizeof(key), "invito-%lld-%lld", (long long)id, (long long)(DQ_NOW - 10));
	cr_assert_str_eq(gw.seen[0].idem, key);
	json_t *j = body_json(0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "to")), "+393331234567");
	/* no sender name set: the configured sms_sender, not the organisation's name */
	cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "Invito");
	cr_assert_str_eq(json_string_value(json_object_get(j, "text")),
	                 "Ciao Nicolò: https://p.example/i/x");
	cr_assert_str_eq(json_string_value(json_object_get(j, "id")), key);
	json_decref(j);
	cr_assert_str_eq(dq_text(id, "state"), "sent");
	cr_assert_str_eq(dq_text(id, "provider_ref"), "gw-42");
}

Test(sms, organisation_sender_name)
{
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE organisations SET sender_name = 'StudioR' "
	                        "WHERE id = ?",
	                        "i", ORG_A),
	             0);
	dq_add(ORG_A, "sms", "+393331234567", NULL, "x");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	json_t *j = body_json(0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "StudioR");
	json_decref(j);
}

Test(sms, a_sender_name_networks_refuse_is_never_sent)
{
	/* written by hand, past the Settings page's check: spaces, too long */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE organisations SET sender_name = 'Studio Rossi Roma' "
	                        "WHERE id = ?",
	                        "i", ORG_A),
	             0);
	dq_add(ORG_A, "sms", "+393331234567", NULL, "x");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	json_t *j = body_json(0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "Invito");
	json_decref(j);
}

Test(sms, sender_id_rule)
{
	const char *good[] = {"SanLuca", "DrFerri", "ABC", "Studio2024", "StudioRossi", "a1b"};
	const char *bad[] = {NULL,       "",       "AB",       "StudioRossi1", "Studio Rossi",
	                     "12345678", "Nicolò", "San-Luca", "San_Luca",     "Clinic\r\nX",
	                     "€1"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect(comms_sms_sender_ok(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(!comms_sms_sender_ok(bad[i]), "%s", bad[i] ? bad[i] : "(null)");
}

Test(sms, status_400_is_dead_with_the_reason)
{
	gw.status[0] = 400;
	gw.answer[0] = "{\"error\": \"invalid destination\"}";
	int64_t id = dq_add(ORG_A, "sms", "+393331234567", NULL, "secret text");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	cr_assert_str_eq(dq_text(id, "state"), "dead");
	cr_assert_str_eq(dq_text(id, "last_error"), "SMS gateway HTTP 400: invalid destination");
}

Test(sms, echoed_body_never_reaches_last_error)
{
	gw.status[0] = 422;
	gw.answer[0] = "{\"error\": \"secret text\"}";
	int64_t id = dq_add(ORG_A, "sms", "+393331234567", NULL, "the secret text here");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	cr_assert_str_eq(dq_text(id, "last_error"), "SMS gateway HTTP 422");
}

Test(sms, status_503_is_retried_with_the_same_key)
{
	gw.status[0] = 503;
	gw.status[1] = 429;
	int64_t id = dq_add(ORG_A, "sms", "+393331234567", NULL, "x");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	cr_assert_str_eq(dq_text(id, "state"), "failed");
	cr_assert_leq(dq_int(id, "next_attempt_at") - (DQ_NOW + 60), 2);
	cr_assert(strstr(dq_text(id, "last_error"), "503") != NULL);
	cr_assert(strstr(dq_text(id, "last_error"), "SECRET") == NULL);
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 62, NULL), 1);
	cr_assert_str_eq(dq_text(id, "state"), "failed");
	cr_assert_leq(dq_int(id, "next_attempt_at") - (DQ_NOW + 62 + 300), 2);
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 370, NULL), 1);
	comms_dispatcher_free(d);
	cr_assert_str_eq(dq_text(id, "state"), "sent");
	cr_assert_eq(dq_int(id, "attempts"), 3);
	cr_assert_eq(gw.requests, 3);
	cr_assert_str_eq(gw.seen[0].idem, gw.seen[2].idem);
}

Test(sms, bad_number_is_dead_without_a_request)
{
	int64_t id = dq_add(ORG_A, "sms", "3331234567\r\nX-Evil: 1", NULL, "x");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	cr_assert_eq(gw.requests, 0);
	cr_assert_str_eq(dq_text(id, "state"), "dead");
	cr_assert_str_eq(dq_text(id, "last_error"), "not a mobile number in E.164 form");
}
