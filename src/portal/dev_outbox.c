/*
 * portal/dev_outbox: /dev/outbox, the newest messages kept by the `log`
 * transport, so a newcomer can follow the demo by clicking the links that
 * would have gone out by SMS or e-mail. The route's HTTP_DEV flag answers 404
 * unless `log` is the transport; this handler checks it again all the same.
 *
 * Bodies are escaped first; only then are http(s) URLs that start with the
 * configured base_url turned into links, so the only markup on the page is
 * what this file writes and every href is a prefix-checked, escaped URL of
 * this portal. It must never log a message body.
 */
#include "app.h"
#include "config.h"
#include "comms/outbox.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/i18n.h"
#include "portal/portal.h"

#include <string.h>
#include <time.h>

#define OUTBOX_ROWS 100
#define BODY_MAX    (256u * 1024)

/* 1 for the bytes that may continue a URL in a message (RFC 3986 unreserved, reserved, '%'). */
static int url_byte(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL && c != '\0';
}

/* Length of the URL starting at s, without trailing punctuation that ends a sentence. */
static size_t url_len(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0' && url_byte((unsigned char)s[n]))
		n++;
	while (n > 0 && strchr(".,;:!?)]'", s[n - 1]) != NULL)
		n--;
	return n;
}

/* body as HTML: escaped text with the portal's own links (those starting with base, which must
 * be http:// or https://) made clickable. Returns the HTML in the arena. */
static const char *body_html(const char *body, const char *base, struct arena *a)
{
	struct buf out;
	buf_init(&out, BODY_MAX);
	size_t blen = base ? strlen(base) : 0;
	int base_ok =
	    blen > 0 && (strncmp(base, "http://", 7) == 0 || strncmp(base, "https://", 8) == 0);
	const char *p = body ? body : "";
	while (*p != '\0') {
		const char *hit = base_ok ? strstr(p, base) : NULL;
		if (hit == NULL) {
			buf_html(&out, p); /* no more links: the rest is text */
			break;
		}
		size_t n = url_len(hit);
		/* the base must end where a path, query or fragment begins, so that
		 * "http://portal.example.evil.test" is not taken for the portal's own */
		char after = hit[blen];
		int ours = n >= blen && (base[blen - 1] == '/' || n == blen || after == '/' ||
		                         after == '?' || after == '#');
		if (!ours) {
			buf_html(&out, arena_strndup(a, p, (size_t)(hit - p) + 1));
			p = hit + 1;
			continue;
		}
		buf_html(&out, arena_strndup(a, p, (size_t)(hit - p)));
		const char *url = arena_strndup(a, hit, n);
		buf_puts(&out, "<a href=\"");
		buf_html(&out, url);
		buf_puts(&out, "\">");
		buf_html(&out, url);
		buf_puts(&out, "</a>");
		p = hit + n;
	}
	const char *s = out.overflow || out.data == NULL ? "" : arena_strdup(a, out.data);
	buf_free(&out);
	return s;
}

int portal_dev_outbox(struct http_req *req, struct http_resp *resp)
{
	const struct config *cfg = req->app->cfg;
	if (cfg->transport == NULL || strcmp(cfg->transport, "log") != 0) {
		http_error(req, resp, 404);
		return 0;
	}
	struct comms_outbox_row *rows = NULL;
	int n = 0;
	if (comms_outbox_list(req->db, OUTBOX_ROWS, &rows, &n, req->arena) != 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Outbox (development)"));
	view_set_bool(v, "empty", n == 0);
	for (int i = 0; i < n; i++) {
		const struct comms_outbox_row *r = &rows[i];
		struct view *m = view_append(v, "messages");
		time_t t = (time_t)r->created_at;
		struct tm tm;
		char when[32], iso[32];
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%d/%m/%Y %H:%M:%S", &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
		view_set(m, "created", when);
		view_set(m, "created_iso", iso);
		view_set(m, "channel", r->channel);
		view_set(m, "recipient", r->recipient);
		view_set(m, "kind", r->kind);
		view_set(m, "state", r->state);
		view_set(m, "subject", r->subject);
		view_set(m, "body_html", body_html(r->body, cfg->base_url, req->arena));
	}
	return http_render(req, resp, 200, "portal/outbox.html", v);
}
