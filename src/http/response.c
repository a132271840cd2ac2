/*
 * response: what handlers use to answer: extra headers, cookies, redirects,
 * pages rendered inside the layout, and error pages. It must never let raw
 * input into a header (CR/LF are refused: no header injection) and never
 * redirect outside the site (only local paths: no open redirect).
 */
#include "http/internal.h"

#include "app.h"
#include "config.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"

#include <inttypes.h>
#include <string.h>

static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int http_header_ok(const char *name, const char *value)
{
	if (name == NULL || value == NULL || *name == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (!is_tchar(*p))
			return 0;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

void http_add_header(struct http_req *req, struct http_resp *resp, const char *name,
                     const char *value)
{
	if (!http_header_ok(name, value)) {
		/* The name is ours (a literal); the value is not logged: it may hold input. */
		log_warn("http: refused header %s with an unsafe value", name ? name : "(null)");
		return;
	}
	struct http_kv *kv = arena_alloc(req->arena, sizeof(*kv));
	kv->name = arena_strdup(req->arena, name);
	kv->value = arena_strdup(req->arena, value);
	kv->value_len = strlen(value);
	struct http_kv **tail = &resp->headers;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = kv;
}

/* Cookie names are tokens; values are cookie-octets (no space, quote, comma, semicolon,
 * backslash or control character). */
static int cookie_ok(const char *name, const char *value)
{
	if (name == NULL || value == NULL || *name == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (!is_tchar(*p))
			return 0;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == ',' || *p == ';' || *p == '\\')
			return 0;
	return 1;
}

void http_set_cookie(struct http_req *req, struct http_resp *resp, const char *name,
                     const char *value, int64_t max_age)
{
	if (max_age < 0)
		value = "";
	if (!cookie_ok(name, value)) {
		log_warn("http: refused cookie %s with an unsafe value", name ? name : "(null)");
		return;
	}
	const struct config *cfg = req->app ? req->app->cfg : NULL;
	int secure = cfg != NULL && cfg->secure_cookies;
	char *v =
	    arena_printf(req->arena, "%s=%s; Path=/; Max-Age=%" PRId64 "; HttpOnly; SameSite=Lax%s",
	                 name, value, max_age < 0 ? (int64_t)0 : max_age, secure ? "; Secure" : "");
	http_add_header(req, resp, "Set-Cookie", v);
}

int http_local_path(const char *s)
{
	if (s == NULL || s[0] != '/')
		return 0;
	if (s[1] == '/' || s[1] == '\\')
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0; /* browsers drop tabs and newlines: "/\t/evil" would be "//evil"
			           */
	return 1;
}

void http_redirect(struct http_resp *resp, const char *location)
{
	resp->status = 303;
	resp->location = http_local_path(location) ? location : "/";
	resp->content_type = "text/plain; charset=utf-8";
	buf_reset(&resp->body);
}

int http_render(struct http_req *req, struct http_resp *resp, int status, const char *name,
                struct view *v)
{
	struct buf content;
	int rc = -1;
	buf_init(&content, 0);
	if (v == NULL)
		v = view_new(req->arena);
	const char *lang = req->lang ? req->lang : "it";
	if (req->csrf_token == NULL)
		http_csrf_anonymous(req, resp); /* a signed-out page: its forms need a token */
	view_set(v, "lang", lang);
	view_set(v, "csrf", req->csrf_token ? req->csrf_token : "");
	view_set_bool(v, "staff_signed_in",
	              req->session != NULL && req->session->kind == STORE_SESSION_STAFF);
	if (req->session != NULL && req->session->kind == STORE_SESSION_STAFF && req->db != NULL) {
		/* the admins' links in the navigation (Settings) */
		struct store_staff st;
		int found = store_staff_get(req->db, req->session->user_id, &st, req->arena) == 0;
		view_set_bool(v, "staff_admin",
		              found && st.org_id == req->session->org_id &&
		                  st.role == STORE_ROLE_ADMIN);
	}
	view_set_bool(v, "patient_signed_in",
	              req->session != NULL && req->session->kind == STORE_SESSION_PATIENT);
	if (req->portal != NULL) { /* the layout's name, colour and logo (portal_host.c) */
		view_set(v, "portal_brand", req->portal->name);
		view_set_int(v, "portal_id", req->portal->id);
		view_set_bool(v, "portal_theme",
		              req->portal->primary_colour != NULL || req->portal->has_logo);
		view_set_bool(v, "portal_logo", req->portal->has_logo);
	}
	if (view_get(v, "back") == NULL)
		view_set(v, "back", req->path && http_local_path(req->path) ? req->path : "/");
	if (tmpl_render(&content, name, v, lang) < 0) {
		log_error("http: template %s failed", name);
		goto out;
	}
	view_set(v, "content", content.data ? content.data : "");
	buf_reset(&resp->body);
	if (tmpl_render(&resp->body, "layout.html", v, lang) < 0) {
		log_error("http: template layout.html failed");
		buf_reset(&resp->body);
		goto out;
	}
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	rc = 0;
out:
	buf_free(&content);
	return rc;
}

struct status_text {
	int status;
	const char *title, *message;
};

static const struct status_text statuses[] = {
    {400, N_("Bad request"),
     N_("The request could not be understood. Please go back and try again.")},
    {403, N_("Forbidden"),
     N_("This request was refused. If you were filling in a form, reload the page and try again.")},
    {404, N_("Page not found"), N_("The page you asked for does not exist.")},
    {405, N_("Method not allowed"), N_("This page cannot be used this way.")},
    {413, N_("Request too large"), N_("What you sent is too large. Please send less at once.")},
    {500, N_("Something went wrong"),
     N_("An unexpected error occurred. Please try again in a moment.")},
    {503, N_("Service busy"), N_("The service is busy right now. Please try again in a moment.")},
    {507, N_("Storage full"),
     N_("The clinic's server has run out of storage space, so nothing was saved. Please tell the "
        "clinic, and try again later.")},
};

static const struct status_text *status_find(int status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return &statuses[i];
	return status >= 500 ? &statuses[5] : &statuses[0];
}

void http_error(struct http_req *req, struct http_resp *resp, int status)
{
	const struct status_text *st = status_find(status);
	const char *lang = req->lang ? req->lang : "it";
	const char *title = i18n_tr(lang, st->title);
	const char *message = i18n_tr(lang, st->message);
	resp->location = NULL;
	if (status == 503) {
		int has = 0;
		for (const struct http_kv *h = resp->headers; h != NULL; h = h->next)
			has |= strcmp(h->name, "Retry-After") == 0;
		if (!has)
			http_add_header(req, resp, "Retry-After", "5");
	}
	struct view *v = view_new(req->arena);
	view_set_int(v, "status", status);
	view_set(v, "title", title);
	view_set(v, "message", message);
	if (http_render(req, resp, status, "error.html", v) == 0)
		return;
	/* Built-in page: the templates failed; nothing here comes from the request. */
	buf_reset(&resp->body);
	buf_puts(&resp->body, "<!doctype html><html><head><meta charset=\"utf-8\"><title>");
	buf_html(&resp->body, title);
	buf_puts(&resp->body, "</title></head><body><h1>");
	buf_html(&resp->body, title);
	buf_puts(&resp->body, "</h1><p>");
	buf_html(&resp->body, message);
	buf_puts(&resp->body, "</p></body></html>\n");
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
}
