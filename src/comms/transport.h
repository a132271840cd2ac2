/*
 * comms/transport: how one outbox message leaves invito. A transport is a
 * table of three functions (open, send, close) with a name; the dispatcher
 * (dispatch.c) keeps one instance per channel and per dispatcher thread, so a
 * transport's state (a libcurl handle and its open connection) is never
 * shared between threads and is reused for every message of a pass.
 *
 * Transports: `log` (dev: the message stays in the outbox, marked sent with
 * provider reference "log"), `smtp` (transport_smtp.c, MIME from mime.c) and
 * `sms-http` (transport_sms.c). A transport must never log, or put into an
 * error text, a message body, a password or a token; it must never put a
 * value holding CR or LF into a protocol header.
 */
#ifndef INVITO_COMMS_TRANSPORT_H
#define INVITO_COMMS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct config;

/* One claimed message as the transport sees it; every string is owned by the dispatcher. */
struct comms_msg {
	int64_t id, created_at;
	const char *kind, *channel; /* "invitation", ...; "email" or "sms" */
	const char *recipient;      /* e-mail address or E.164 mobile, as stored */
	const char *subject;        /* NULL for SMS */
	const char *body;           /* UTF-8 text */
	/* the organisation's: the e-mail display name (else the organisation's name); the SMS
	 * sender when it passes comms_sms_sender_ok (else NULL: the configured sms_sender) */
	const char *sender_name;
};

/* What send() answers; the dispatcher turns it into a state (dispatch.c). */
enum comms_send {
	COMMS_SEND_OK = 0,
	COMMS_SEND_RETRY = -1,     /* transient (4xx SMTP, 5xx HTTP, a timeout): try again later */
	COMMS_SEND_DOWN = -2,      /* transient, and the provider is unreachable: stop this pass */
	COMMS_SEND_PERMANENT = -3, /* will never work (550, HTTP 400, a bad address): dead */
};

#define COMMS_REF_MAX 128
#define COMMS_ERR_MAX 256

/* Filled by send(): the provider's id of the message (OK), or why it failed (never a body). */
struct comms_result {
	char provider_ref[COMMS_REF_MAX];
	char error[COMMS_ERR_MAX];
};

struct comms_transport {
	const char *name;    /* the `transport` value: "log", "smtp", "sms-http" */
	const char *channel; /* "email", "sms", or NULL for both */
	/* Makes *state from the configuration (kept by reference: cfg outlives the state).
	 * 0, or -1 after logging why (without secrets). */
	int (*open)(void **state, const struct config *cfg);
	/* Sends m once; returns an enum comms_send and fills r. */
	int (*send)(void *state, const struct comms_msg *m, struct comms_result *r);
	/* Closes the connection and frees state; accepts NULL. */
	void (*close)(void *state);
};

extern const struct comms_transport comms_transport_log;
extern const struct comms_transport comms_transport_smtp;
extern const struct comms_transport comms_transport_sms;

/* SMS sender names (an alphanumeric sender ID, as phone networks accept it). */
#define COMMS_SMS_SENDER_MIN 3
#define COMMS_SMS_SENDER_MAX 11
/* 1 when s is COMMS_SMS_SENDER_MIN to _MAX ASCII letters and digits with at least one letter
 * (all digits would read as a phone number); else 0. The staff Settings page refuses any
 * other organisation sender name, and the SMS transport never sends one. */
int comms_sms_sender_ok(const char *s);

/* --- ids that travel with a message -------------------------------------- */

/*
 * The message's stable key, "invito-ID-CREATED" (the row id and its creation time, so
 * a restored or second database never reuses one): the SMS Idempotency-Key and the
 * left part of the e-mail Message-ID. Writes at most n bytes; returns out.
 */
char *comms_msg_key(const struct comms_msg *m, char *out, size_t n);
/* "<invito-ID-CREATED@DOMAIN>", DOMAIN the part of from_addr after '@' (a stable domain
 * the sender owns). Writes at most n bytes; returns out. */
char *comms_message_id(const struct comms_msg *m, const char *from_addr, char *out, size_t n);

/* --- MIME (mime.c) ------------------------------------------------------- */

/*
 * The whole RFC 5322 message for m, CRLF line ends, ready for SMTP DATA (libcurl
 * dot-stuffs): Date (date, seconds UTC), From (m->sender_name RFC 2047-encoded, then
 * from_addr), To, Subject (RFC 2047 B-encoded when not plain ASCII), Message-ID,
 * MIME-Version, Auto-Submitted, and a multipart/alternative body: text/plain and
 * text/html (the text escaped, line breaks kept, http(s) links made clickable), both
 * UTF-8 quoted-printable. CR and LF in any header value become spaces. Appends to out;
 * 0, or -1 when out's cap is passed.
 */
int comms_mime_build(struct buf *out, const struct comms_msg *m, const char *from_addr,
                     const char *message_id, int64_t date);
/* Appends s as quoted-printable (RFC 2045: lines at most 76, CRLF breaks). 0 or -1. */
int comms_mime_qp(struct buf *out, const char *s);
/* Appends s as one or more RFC 2047 "=?UTF-8?B?...?=" words (each at most 68 bytes,
 * never splitting a UTF-8 sequence), separated by CRLF SPACE; plain when s is printable
 * ASCII. CR/LF in s become spaces. 0 or -1. */
int comms_mime_header_text(struct buf *out, const char *s);
/* Appends text as HTML: escaped, line breaks as <br>, http:// and https:// URLs as links. */
int comms_mime_html(struct buf *out, const char *text);

#endif
