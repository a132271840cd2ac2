/*
 * portal_host: which portal a request is for (issue 5, "Portals and members").
 *
 * Once per request (server.c, before the session is read) the Host header is
 * compared with the configured hosts of the portals (portals.host, the
 * authority of each portal's base_url): the portal it names is req->portal.
 * A Host that names no portal, or none at all, gets the default portal (the
 * lowest id). The Host header only PICKS among configured portals: it is never
 * stored, echoed or used to build a link (links come from base_url).
 *
 * Strict and single-host installations: when at least one portal has a host,
 * req->portal_strict is 1 and anything of another portal (a patient session,
 * an invitation or reset link) is refused on this request: a session is
 * treated as signed out, a link as unknown. When no portal has a host yet
 * (an installation that serves every portal on one address), nothing is
 * refused by host and the request wears the portal of what it serves (the
 * signed-in patient's, the link's), as before portals had hosts.
 * Staff sessions are never checked: staff pages do not depend on the host.
 *
 * It also serves each portal's look: /portal/{id}/theme.css (the primary
 * colour as a CSS custom property, so pages keep CSP default-src 'self' and
 * no inline style) and /portal/{id}/logo. A colour reaches CSS only after
 * store_portal_colour_ok() passed on the way in and on the way out.
 */
#include "http/http.h"

#include "lib/arena.h"
#include "lib/log.h"

#include <ctype.h>
#include <string.h>

#define HOST_MAX   255
#define LOOK_CACHE "public, max-age=300"

/* The Host header lower-cased, or NULL when absent or not a plain host[:port]. */
static const char *request_host(const struct http_req *req)
{
	const char *h = http_header(req, "Host");
	if (h == NULL || h[0] == '\0' || strlen(h) > HOST_MAX)
		return NULL;
	char *out = arena_strdup(req->arena, h);
	for (char *p = out; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']'))
			return NULL;
		*p = (char)tolower(ch);
	}
	return out;
}

void http_portal_resolve(struct http_req *req)
{
	int by_host = 0, hosted = 0;
	req->portal = NULL;
	req->portal_strict = 0;
	if (req->db == NULL)
		return;
	struct store_portal *p = arena_alloc(req->arena, sizeof(*p));
	int rc =
	    store_portal_for_host(req->db, request_host(req), p, &by_host, &hosted, req->arena);
	if (rc != 0) {
		if (rc != STORE_NOTFOUND)
			log_warn("http: portal lookup failed: %s", store_strerror(rc));
		return;
	}
	req->portal = p;
	req->portal_strict = hosted;
}

int http_portal_allows(struct http_req *req, int64_t portal_id)
{
	if (portal_id <= 0)
		return 0;
	if (req->portal != NULL && req->portal->id == portal_id)
		return 1;
	if (req->portal_strict)
		return 0;
	/* one address for every portal: wear the portal of what is served */
	struct store_portal *p = arena_alloc(req->arena, sizeof(*p));
	if (req->db != NULL && store_portal_by_id(req->db, portal_id, p, req->arena) == 0)
		req->portal = p;
	return 1;
}

int http_portal_session_ok(struct http_req *req, const struct store_session *s)
{
	int64_t portal_id = 0;
	if (s->kind != STORE_SESSION_PATIENT)
		return 1;
	/* the portal of the patient's account (else of their organisation) */
	int rc = store_patient_portal(req->db, s->user_id, s->org_id, &portal_id);
	if (rc != 0) {
		if (rc != STORE_NOTFOUND)
			log_warn("http: session portal lookup failed: %s", store_strerror(rc));
		return 0;
	}
	return http_portal_allows(req, portal_id);
}

int64_t http_portal_id(const struct http_req *req)
{
	return req->portal != NULL ? req->portal->id : 0;
}

/* --- the look ---------------------------------------------------------------------------- */

int http_portal_theme(struct http_req *req, struct http_resp *resp)
{
	struct store_portal p;
	int64_t id = http_param_id(req, 0);
	int rc = id > 0 ? store_portal_by_id(req->db, id, &p, req->arena) : STORE_NOTFOUND;
	if (rc != 0 && rc != STORE_NOTFOUND)
		return -1;
	if (rc != 0) {
		http_error(req, resp, 404);
		return 0;
	}
	resp->status = 200;
	resp->content_type = "text/css; charset=utf-8";
	http_add_header(req, resp, "Cache-Control", LOOK_CACHE);
	buf_printf(&resp->body, "/* invito: the look of portal %lld */\n", (long long)p.id);
	/* the colour is exactly "#" and six hex digits here: nothing else can reach the CSS */
	if (p.primary_colour != NULL && store_portal_colour_ok(p.primary_colour) == 0)
		buf_printf(&resp->body, ":root {\n\t--brand: %s;\n}\n", p.primary_colour);
	buf_puts(&resp->body, ".brand-logo {\n\tdisplay: block;\n\tmax-height: 2.5rem;\n"
	                      "\tmax-width: 12rem;\n\twidth: auto;\n}\n");
	return 0;
}

int http_portal_logo(struct http_req *req, struct http_resp *resp)
{
	const char *type = NULL;
	const void *data = NULL;
	size_t len = 0;
	int64_t id = http_param_id(req, 0);
	int rc = id > 0 ? store_portal_logo(req->db, id, &type, &data, &len, req->arena)
	                : STORE_NOTFOUND;
	if (rc != 0 && rc != STORE_NOTFOUND)
		return -1;
	if (rc != 0) {
		http_error(req, resp, 404);
		return 0;
	}
	resp->status = 200;
	resp->content_type = type;
	http_add_header(req, resp, "Cache-Control", LOOK_CACHE);
	return buf_append(&resp->body, data, len) < 0 ? -1 : 0;
}
