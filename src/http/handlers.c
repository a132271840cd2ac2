/*
 * handlers: the server's own routes: /healthz for the operator, /static/{file}
 * from the files embedded in the binary, and the language switch. A static
 * file name is one path segment checked against a short list of types; it
 * never reaches the file system, so there is no path to traverse.
 */
#include "http/handlers.h"
#include "http/http.h"

#include "app.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/embed.h"
#include "lib/i18n.h"

#include <string.h>

#define LANG_COOKIE_AGE (365 * 86400)

int http_healthz(struct http_req *req, struct http_resp *resp)
{
	int64_t one = 0;
	int ok = req->db != NULL && store_scalar(req->db, &one, "SELECT 1", "") == 0 && one == 1;
	resp->status = ok ? 200 : 503;
	resp->content_type = "text/plain; charset=utf-8";
	buf_puts(&resp->body, ok ? "ok\n" : "unavailable\n");
	return 0;
}

struct mime {
	const char *ext, *type;
};

static const struct mime mimes[] = {
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

static const char *mime_for(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++) {
		size_t e = strlen(mimes[i].ext);
		if (n > e && strcmp(name + n - e, mimes[i].ext) == 0)
			return mimes[i].type;
	}
	return NULL;
}

static int static_name_ok(const char *name)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return strstr(name, "..") == NULL;
}

int http_static(struct http_req *req, struct http_resp *resp)
{
	const char *name = req->nparams > 0 ? req->params[0] : NULL;
	const char *type = static_name_ok(name) ? mime_for(name) : NULL;
	const struct embed_file *f = NULL;
	if (type != NULL)
		f = embed_find(arena_printf(req->arena, "web/static/%s", name));
	if (f == NULL) {
		http_error(req, resp, 404);
		return 0;
	}
	resp->status = 200;
	resp->content_type = type;
	http_add_header(req, resp, "Cache-Control", "public, max-age=86400");
	if (buf_append(&resp->body, f->data, f->len) < 0)
		return -1;
	return 0;
}

int http_lang_switch(struct http_req *req, struct http_resp *resp)
{
	const char *lang = http_form(req, "lang");
	if (lang != NULL && i18n_supported(lang)) {
		http_set_cookie(req, resp, "lang", lang, LANG_COOKIE_AGE);
		req->lang = i18n_pick(lang, NULL, NULL);
		if (req->session != NULL && req->session->id > 0 && req->db != NULL)
			store_session_set_lang(req->db, req->session->id, req->lang);
	}
	/* http_redirect() sends anything but a local path to "/". */
	const char *back = http_form(req, "back");
	http_redirect(resp, back ? back : "/");
	return 0;
}
