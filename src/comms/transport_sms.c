/*
 * comms/transport_sms: SMS through an HTTP gateway with libcurl.
 *
 * POST sms_url, JSON {"to", "from", "text", "id"} (jansson), with
 * "Authorization: Bearer sms_token" and "Idempotency-Key: invito-ID-CREATED":
 * the same key on every try of one message, so a gateway that honours it never
 * delivers twice when invito crashed between its answer and the outbox update.
 * The sender is the organisation's sender name when it is a valid alphanumeric
 * sender ID (comms_sms_sender_ok), else sms_sender. The gateway's
 * message id ("id" or "message_id" in its JSON answer) is the provider
 * reference. One easy handle per instance keeps the HTTP connection alive.
 *
 * Answers: 2xx sent; 408, 425, 429 and 5xx retried, like timeouts; a gateway
 * that cannot be reached stops the pass (COMMS_SEND_DOWN); any other 4xx is
 * permanent (a bad number, a refused sender). The error kept is the status
 * and the gateway's short error text: never the token, never the body.
 */
#include "comms/transport.h"

#include "config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

enum {
	CONNECT_TIMEOUT = 10, /* seconds */
	SEND_TIMEOUT = 30,
	MAX_ANSWER = 64 * 1024,
	MAX_REASON = 120, /* bytes of the gateway's error text kept */
};

struct sms {
	const struct config *cfg;
	CURL *h;
	struct curl_slist *fixed; /* Content-Type, Authorization, Expect */
	struct buf answer;
	char errbuf[CURL_ERROR_SIZE];
};

/* E.164: '+', then 8 to 15 digits. */
static int e164_ok(const char *s)
{
	size_t n = 0;
	if (s == NULL || *s++ != '+')
		return 0;
	for (; *s != '\0'; s++, n++)
		if (*s < '0' || *s > '9')
			return 0;
	return n >= 8 && n <= 15;
}

int comms_sms_sender_ok(const char *s)
{
	size_t n = 0;
	int letter = 0;
	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char ch = s[n];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))
			letter = 1;
		else if (ch < '0' || ch > '9')
			return 0;
		if (n >= COMMS_SMS_SENDER_MAX)
			return 0;
	}
	return letter && n >= COMMS_SMS_SENDER_MIN;
}

static size_t write_cb(char *src, size_t size, size_t nmemb, void *arg)
{
	struct sms *s = arg;
	buf_append(&s->answer, src, size * nmemb); /* past the cap: the answer is just cut */
	return size * nmemb;
}

static int sms_open(void **state, const struct config *cfg)
{
	struct sms *s = xcalloc(1, sizeof(*s));
	struct buf auth;
	int rc = -1;

	s->cfg = cfg;
	buf_init(&s->answer, MAX_ANSWER);
	buf_init(&auth, 4096);
	if (cfg->sms_url == NULL || cfg->sms_url[0] == '\0') {
		log_error("sms-http: sms_url is not set");
		goto out;
	}
	if (strpbrk(cfg->sms_token, "\r\n") != NULL) {
		log_error("sms-http: sms_token must be one line");
		goto out;
	}
	s->h = curl_easy_init();
	if (s->h == NULL)
		goto out;
	s->fixed = curl_slist_append(NULL, "Content-Type: application/json");
	s->fixed = curl_slist_append(s->fixed, "Accept: application/json");
	s->fixed = curl_slist_append(s->fixed, "Expect:");
	if (cfg->sms_token[0] != '\0') {
		buf_printf(&auth, "Authorization: Bearer %s", cfg->sms_token);
		s->fixed = curl_slist_append(s->fixed, auth.data);
	}
	if (s->fixed == NULL)
		goto out;
	curl_easy_setopt(s->h, CURLOPT_URL, cfg->sms_url);
	curl_easy_setopt(s->h, CURLOPT_POST, 1L);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, (long)SEND_TIMEOUT);
	curl_easy_setopt(s->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = 0;
out:
	if (auth.data != NULL)
		sodium_memzero(auth.data, auth.len); /* the token: not left in freed memory */
	buf_free(&auth);
	if (rc < 0) {
		if (s->h != NULL)
			curl_easy_cleanup(s->h);
		curl_slist_free_all(s->fixed);
		buf_free(&s->answer);
		free(s);
		s = NULL;
	}
	*state = s;
	return rc;
}

/* Copies a string or integer field of the gateway's answer as printable ASCII. */
static void answer_field(json_t *root, const char *const *names, size_t nnames, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < nnames && out[0] == '\0'; i++) {
		json_t *v = json_object_get(root, names[i]);
		if (json_is_string(v))
			snprintf(out, n, "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	}
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

static int classify_status(long status)
{
	if (status >= 200 && status < 300)
		return COMMS_SEND_OK;
	if (status == 408 || status == 425 || status == 429 || status >= 500)
		return COMMS_SEND_RETRY;
	if (status >= 400)
		return COMMS_SEND_PERMANENT;
	return COMMS_SEND_RETRY; /* 1xx/3xx: a gateway we do not understand; do not lose it */
}

static int sms_send(void *state, const struct comms_msg *m, struct comms_result *r)
{
	static const char *const id_names[] = {"id", "message_id", "messageId"};
	static const char *const err_names[] = {"error", "message", "detail"};
	struct sms *s = state;
	struct curl_slist *hdrs = NULL;
	char key[64], idem[96];
	char *json = NULL;
	json_t *req = NULL, *ans = NULL;
	int rc = COMMS_SEND_RETRY;

	r->provider_ref[0] = r->error[0] = '\0';
	if (!e164_ok(m->recipient)) {
		snprintf(r->error, sizeof(r->error), "not a mobile number in E.164 form");
		return COMMS_SEND_PERMANENT;
	}
	/* a row written by hand must not give the gateway a sender it refuses */
	const char *from =
	    comms_sms_sender_ok(m->sender_name) ? m->sender_name : s->cfg->sms_sender;
	comms_msg_key(m, key, sizeof(key));
	req = json_pack("{s:s, s:s, s:s, s:s}", "to", m->recipient, "from", from, "text",
	                m->body != NULL ? m->body : "", "id", key);
	json = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	if (json == NULL) {
		snprintf(r->error, sizeof(r->error), "the text is not valid UTF-8");
		rc = COMMS_SEND_PERMANENT;
		goto out;
	}
	snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key);
	for (const struct curl_slist *h = s->fixed; h != NULL; h = h->next)
		hdrs = curl_slist_append(hdrs, h->data);
	hdrs = curl_slist_append(hdrs, idem);
	if (hdrs == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	buf_reset(&s->answer);
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	CURLcode res = curl_easy_perform(s->h);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, NULL);
	if (res != CURLE_OK) {
		rc = res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
		             res == CURLE_SSL_CONNECT_ERROR || res == CURLE_PEER_FAILED_VERIFICATION
		         ? COMMS_SEND_DOWN
		         : COMMS_SEND_RETRY;
		snprintf(r->error, sizeof(r->error), "SMS gateway: %.200s",
		         s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(res));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	rc = classify_status(status);
	ans = s->answer.data != NULL ? json_loads(s->answer.data, 0, NULL) : NULL;
	if (rc == COMMS_SEND_OK) {
		if (ans != NULL)
			answer_field(ans, id_names, ARRAY_LEN(id_names), r->provider_ref,
			             sizeof(r->provider_ref));
		goto out;
	}
	char reason[MAX_REASON + 1] = "";
	if (ans != NULL)
		answer_field(ans, err_names, ARRAY_LEN(err_names), reason, sizeof(reason));
	/* a gateway that echoes the text back must not put the body into last_error */
	if (reason[0] != '\0' && m->body != NULL && m->body[0] != '\0' &&
	    strstr(m->body, reason) != NULL)
		reason[0] = '\0';
	snprintf(r->error, sizeof(r->error), "SMS gateway HTTP %ld%s%s", status,
	         reason[0] != '\0' ? ": " : "", reason);
out:
	curl_slist_free_all(hdrs);
	free(json);
	json_decref(req);
	json_decref(ans);
	return rc;
}

static void sms_close(void *state)
{
	struct sms *s = state;
	if (s == NULL)
		return;
	curl_easy_cleanup(s->h);
	curl_slist_free_all(s->fixed);
	buf_free(&s->answer);
	free(s);
}

const struct comms_transport comms_transport_sms = {
    .name = "sms-http", .channel = "sms", .open = sms_open, .send = sms_send, .close = sms_close};
