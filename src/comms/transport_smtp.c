/*
 * comms/transport_smtp: e-mail over SMTP with libcurl.
 *
 * One libcurl easy handle per transport instance (one per dispatcher thread),
 * kept across messages, so libcurl's connection cache keeps ONE connection to
 * the server open for a whole pass (and between passes while the server keeps
 * it): each message is a MAIL FROM / RCPT TO / DATA on that connection.
 * `smtps://` is implicit TLS; on `smtp://`, smtp_starttls says whether STARTTLS
 * is tried (auto), demanded (required) or not used (off). AUTH happens when
 * smtp_user is set. The message comes from mime.c; its Message-ID is the
 * provider reference kept in the outbox, and lets a receiving system drop a
 * copy that a crash between sending and recording would cause.
 *
 * Answers: 2xx sent; 4xx and connection trouble retried (a connection that
 * cannot be made stops the pass: COMMS_SEND_DOWN); 5xx (550 mailbox
 * unavailable, 553, 554, ...) permanent, except 530/535 (authentication: our
 * configuration, not the message). The error kept is libcurl's text and the
 * server's code: never the body, never the password.
 */
#include "comms/transport.h"

#include "config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	CONNECT_TIMEOUT = 10, /* seconds */
	SEND_TIMEOUT = 60,
	MAX_MESSAGE = 4 * 1024 * 1024,
	MAX_ADDRESS = 254,
};

struct smtp {
	const struct config *cfg;
	CURL *h;
	struct buf msg; /* the message being uploaded */
	size_t pos;
	char errbuf[CURL_ERROR_SIZE];
};

/* A bare address libcurl can put between < and >: one '@', printable ASCII without spaces
 * or the characters that would end or split the address. */
static int address_ok(const char *a)
{
	size_t n = strlen(a);
	const char *at = strchr(a, '@');
	if (n == 0 || n > MAX_ADDRESS || at == NULL || at == a || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strstr(at, "..") != NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("<>()[]\\,;:\"", *p) != NULL)
			return 0;
	return 1;
}

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct smtp *s = arg;
	size_t room = size * nmemb, left = s->msg.len - s->pos;
	size_t n = left < room ? left : room;
	memcpy(dst, s->msg.data + s->pos, n);
	s->pos += n;
	return n;
}

static int smtp_open(void **state, const struct config *cfg)
{
	struct smtp *s = xcalloc(1, sizeof(*s));
	int rc = -1;

	s->cfg = cfg;
	buf_init(&s->msg, MAX_MESSAGE);
	if (cfg->smtp_url == NULL || cfg->smtp_url[0] == '\0') {
		log_error("smtp: smtp_url is not set");
		goto out;
	}
	if (strpbrk(cfg->smtp_password, "\r\n") != NULL) {
		log_error("smtp: smtp_password must be one line");
		goto out;
	}
	s->h = curl_easy_init();
	if (s->h == NULL)
		goto out;
	long ssl = CURLUSESSL_TRY;
	if (strcmp(cfg->smtp_starttls, "required") == 0)
		ssl = CURLUSESSL_ALL;
	else if (strcmp(cfg->smtp_starttls, "off") == 0)
		ssl = CURLUSESSL_NONE;
	if (strncmp(cfg->smtp_url, "smtps://", 8) == 0)
		ssl = CURLUSESSL_ALL; /* implicit TLS: never without */
	if (cfg->smtp_user[0] != '\0' && ssl == CURLUSESSL_NONE)
		log_warn("smtp: smtp_user is set and TLS is off: the password travels in clear");
	char from[MAX_ADDRESS + 3];
	snprintf(from, sizeof(from), "<%s>", cfg->smtp_from);
	curl_easy_setopt(s->h, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(s->h, CURLOPT_USE_SSL, ssl);
	curl_easy_setopt(s->h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(s->h, CURLOPT_READDATA, s);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, (long)SEND_TIMEOUT);
	curl_easy_setopt(s->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf);
	if (cfg->smtp_cafile[0] != '\0')
		curl_easy_setopt(s->h, CURLOPT_CAINFO, cfg->smtp_cafile);
	if (cfg->smtp_user[0] != '\0') {
		curl_easy_setopt(s->h, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(s->h, CURLOPT_PASSWORD, cfg->smtp_password);
	}
	rc = 0;
out:
	if (rc < 0) {
		if (s->h != NULL)
			curl_easy_cleanup(s->h);
		buf_free(&s->msg);
		free(s);
		s = NULL;
	}
	*state = s;
	return rc;
}

/* The outcome of a failed transfer from libcurl's code and the server's last reply. */
static int classify(CURLcode res, long code)
{
	if (code == 530 || code == 535 || code == 421)
		return COMMS_SEND_DOWN; /* authentication, or the server is closing */
	if (code >= 500)
		return COMMS_SEND_PERMANENT;
	if (code >= 400)
		return COMMS_SEND_RETRY;
	switch (res) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_LOGIN_DENIED:
	case CURLE_OPERATION_TIMEDOUT:
		return COMMS_SEND_DOWN;
	default:
		return COMMS_SEND_RETRY;
	}
}

static int smtp_send(void *state, const struct comms_msg *m, struct comms_result *r)
{
	struct smtp *s = state;
	struct curl_slist *rcpt = NULL;
	char mid[COMMS_REF_MAX], to[MAX_ADDRESS + 3];
	int rc = COMMS_SEND_RETRY;

	r->provider_ref[0] = r->error[0] = '\0';
	if (m->recipient == NULL || !address_ok(m->recipient)) {
		snprintf(r->error, sizeof(r->error), "not a valid e-mail address");
		return COMMS_SEND_PERMANENT;
	}
	comms_message_id(m, s->cfg->smtp_from, mid, sizeof(mid));
	buf_reset(&s->msg);
	s->pos = 0;
	if (comms_mime_build(&s->msg, m, s->cfg->smtp_from, mid, now_utc()) < 0) {
		snprintf(r->error, sizeof(r->error), "message too large for e-mail");
		return COMMS_SEND_PERMANENT;
	}
	snprintf(to, sizeof(to), "<%s>", m->recipient);
	rcpt = curl_slist_append(NULL, to);
	if (rcpt == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return COMMS_SEND_RETRY;
	}
	curl_easy_setopt(s->h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(s->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->msg.len);
	s->errbuf[0] = '\0';
	CURLcode res = curl_easy_perform(s->h);
	long code = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK) {
		snprintf(r->provider_ref, sizeof(r->provider_ref), "%s", mid);
		rc = COMMS_SEND_OK;
	} else {
		rc = classify(res, code);
		snprintf(r->error, sizeof(r->error), "SMTP %ld: %.200s", code,
		         s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(res));
	}
	curl_easy_setopt(s->h, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	return rc;
}

static void smtp_close(void *state)
{
	struct smtp *s = state;
	if (s == NULL)
		return;
	curl_easy_cleanup(s->h);
	buf_free(&s->msg);
	free(s);
}

const struct comms_transport comms_transport_smtp = {
    .name = "smtp", .channel = "email", .open = smtp_open, .send = smtp_send, .close = smtp_close};
