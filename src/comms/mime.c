/*
 * comms/mime: an outbox e-mail as an RFC 5322 / MIME message (see transport.h).
 *
 * Header values never carry raw input: CR and LF become spaces, text that is
 * not plain ASCII is RFC 2047-encoded, the display name is a quoted string or
 * an encoded word. Bodies are quoted-printable, so any UTF-8 text travels as
 * 7-bit lines of at most 76 characters, and the boundary ("=_...") can never
 * occur inside a QP body (QP writes '=' as "=3D"). It must never log a body.
 */
#include "comms/transport.h"

#include "lib/buf.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	QP_LINE = 76, /* RFC 2045 line limit, soft break included */
	/* raw bytes per encoded word: base64 56 + 12 of "=?UTF-8?B??=" = 68, so even the first
	 * word after "Subject: " keeps the line within 78 characters */
	WORD_BYTES = 42,
};

char *comms_msg_key(const struct comms_msg *m, char *out, size_t n)
{
	snprintf(out, n, "invito-%" PRId64 "-%" PRId64, m->id, m->created_at);
	return out;
}

char *comms_message_id(const struct comms_msg *m, const char *from_addr, char *out, size_t n)
{
	char key[64];
	const char *at = from_addr != NULL ? strrchr(from_addr, '@') : NULL;
	const char *domain = at != NULL && at[1] != '\0' ? at + 1 : "invito.invalid";
	snprintf(out, n, "<%s@%s>", comms_msg_key(m, key, sizeof(key)), domain);
	return out;
}

/* 1 when every byte of s is printable ASCII (space included). */
static int plain_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Appends s with every CR and LF (and other control bytes) as a space. */
static int put_oneline(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		if (buf_putc(out, (unsigned char)*s < 0x20 ? ' ' : *s) < 0)
			return -1;
	return 0;
}

/* Length of the longest prefix of s (at most max bytes) that ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n > 0 ? n : max; /* broken UTF-8: cut anyway */
}

int comms_mime_header_text(struct buf *out, const char *s)
{
	if (s == NULL)
		s = "";
	if (plain_ascii(s))
		return buf_puts(out, s);
	size_t len = strlen(s);
	char raw[WORD_BYTES + 1] = {0};
	char b64[sodium_base64_ENCODED_LEN(WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	int first = 1;
	while (len > 0 || first) {
		size_t n = utf8_cut(s, len, WORD_BYTES);
		for (size_t i = 0; i < n; i++) /* no control byte survives, even encoded */
			raw[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)raw, n,
		                  sodium_base64_VARIANT_ORIGINAL);
		if ((!first && buf_puts(out, "\r\n ") < 0) ||
		    buf_printf(out, "=?UTF-8?B?%s?=", b64) < 0)
			return -1;
		first = 0;
		s += n;
		len -= n;
	}
	return 0;
}

int comms_mime_qp(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int col = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue; /* the '\n' writes the break */
		if (*p == '\n' || *p == '\r') {
			if (buf_puts(out, "\r\n") < 0)
				return -1;
			col = 0;
			continue;
		}
		int at_eol = p[1] == '\0' || p[1] == '\n' || p[1] == '\r';
		int encode = *p >= 0x7f || *p == '=' || (*p < 0x20 && *p != '\t') ||
		             ((*p == ' ' || *p == '\t') && at_eol) || (*p == '.' && col == 0);
		int w = encode ? 3 : 1;
		/* a soft break takes one column: keep col + w + 1 within the line */
		if (col + w > QP_LINE - 1) {
			if (buf_puts(out, "=\r\n") < 0)
				return -1;
			col = 0;
		}
		if (encode) {
			char e[3] = {'=', hex[*p >> 4], hex[*p & 15]};
			if (buf_append(out, e, 3) < 0)
				return -1;
		} else if (buf_putc(out, (char)*p) < 0) {
			return -1;
		}
		col += w;
	}
	return 0;
}

/* 1 for the bytes that may continue a URL (RFC 3986 unreserved, reserved, '%'). */
static int url_byte(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}

/* Length of the URL at s, without the punctuation that ends a sentence. */
static size_t url_len(const char *s)
{
	size_t n = 0;
	while (url_byte((unsigned char)s[n]))
		n++;
	while (n > 0 && strchr(".,;:!?)]'", s[n - 1]) != NULL)
		n--;
	return n;
}

/* The next "http://" or "https://" in s, or NULL. */
static const char *next_url(const char *s)
{
	const char *h = strstr(s, "http://"), *hs = strstr(s, "https://");
	if (h == NULL || (hs != NULL && hs < h))
		return hs;
	return h;
}

/* Appends n bytes of s escaped, each line break as <br>. */
static int html_text(struct buf *out, const char *s, size_t n)
{
	char piece[2] = {0, 0};
	for (size_t i = 0; i < n; i++) {
		int rc;
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n') {
			rc = buf_puts(out, "<br>\n");
		} else {
			piece[0] = s[i];
			rc = buf_html(out, piece);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int comms_mime_html(struct buf *out, const char *text)
{
	const char *p = text != NULL ? text : "";
	for (;;) {
		const char *u = next_url(p);
		size_t n = u != NULL ? url_len(u) : 0;
		const char *scheme_end = u != NULL ? strstr(u, "//") + 2 : NULL;
		if (u == NULL)
			return html_text(out, p, strlen(p));
		if (n <= (size_t)(scheme_end - u)) { /* "http://" alone is no link */
			if (html_text(out, p, (size_t)(scheme_end - p)) < 0)
				return -1;
			p = scheme_end;
			continue;
		}
		char *url = strndup(u, n);
		if (url == NULL)
			return -1;
		int rc = html_text(out, p, (size_t)(u - p)) < 0 ||
		         buf_puts(out, "<a href=\"") < 0 || buf_html(out, url) < 0 ||
		         buf_puts(out, "\">") < 0 || buf_html(out, url) < 0 ||
		         buf_puts(out, "</a>") < 0;
		free(url);
		if (rc)
			return -1;
		p = u + n;
	}
}

/* RFC 5322 date in UTC, in English whatever the locale. */
static int put_date(struct buf *out, int64_t date)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)date;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	return buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", wd[tm.tm_wday],
	                  tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	                  tm.tm_sec);
}

/* The From display name: a quoted string when plain ASCII, else encoded words. */
static int put_display_name(struct buf *out, const char *name)
{
	if (!plain_ascii(name))
		return comms_mime_header_text(out, name);
	if (buf_putc(out, '"') < 0)
		return -1;
	for (; *name != '\0'; name++) {
		if ((*name == '"' || *name == '\\') && buf_putc(out, '\\') < 0)
			return -1;
		if (buf_putc(out, *name) < 0)
			return -1;
	}
	return buf_putc(out, '"');
}

int comms_mime_build(struct buf *out, const struct comms_msg *m, const char *from_addr,
                     const char *message_id, int64_t date)
{
	char boundary[80];
	struct buf html;
	int rc = -1;

	buf_init(&html, 0);
	snprintf(boundary, sizeof(boundary), "=_invito_%" PRId64 "_%" PRId64, m->id, m->created_at);
	if (put_date(out, date) < 0 || buf_puts(out, "From: ") < 0)
		goto out;
	if (m->sender_name != NULL && m->sender_name[0] != '\0' &&
	    (put_display_name(out, m->sender_name) < 0 || buf_putc(out, ' ') < 0))
		goto out;
	if (buf_putc(out, '<') < 0 || put_oneline(out, from_addr) < 0 ||
	    buf_puts(out, ">\r\nTo: <") < 0 || put_oneline(out, m->recipient) < 0 ||
	    buf_puts(out, ">\r\nSubject: ") < 0 || comms_mime_header_text(out, m->subject) < 0 ||
	    buf_puts(out, "\r\nMessage-ID: ") < 0 || put_oneline(out, message_id) < 0 ||
	    buf_puts(out, "\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n") < 0 ||
	    buf_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
	               boundary) < 0)
		goto out;
	if (buf_printf(out,
	               "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	               "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	               boundary) < 0 ||
	    comms_mime_qp(out, m->body != NULL ? m->body : "") < 0)
		goto out;
	if (buf_puts(&html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
	                    "<body><p>") < 0 ||
	    comms_mime_html(&html, m->body) < 0 || buf_puts(&html, "</p></body></html>\n") < 0)
		goto out;
	if (buf_printf(out,
	               "\r\n--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
	               "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	               boundary) < 0 ||
	    comms_mime_qp(out, html.data) < 0 || buf_printf(out, "\r\n--%s--\r\n", boundary) < 0)
		goto out;
	rc = out->overflow ? -1 : 0;
out:
	buf_free(&html);
	return rc;
}
