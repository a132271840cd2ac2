/*
 * session: sign-in sessions and CSRF tokens. A session id is 32 random bytes
 * sent as base64url in the "sid" cookie; the store keeps only its BLAKE2b-256
 * hash, so a leaked database does not hand out sessions. A new id is made at
 * every sign-in (the old one deleted first), so an id planted before sign-in
 * is worthless after it. Signed-in forms carry a token derived from the
 * session's own secret; signed-out forms (sign-in, language switch) use a
 * random "csrf" cookie compared with the form field (double submit).
 * Never logs an id, a token or a secret.
 */
#include "http/internal.h"

#include "app.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

#include <sodium.h>
#include <string.h>

#define CSRF_SECRET_BYTES 32
#define TOKEN_BYTES       32

static char *b64url(const unsigned char *bin, size_t n, struct arena *a)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = arena_alloc(a, len);
	sodium_bin2base64(s, len, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

int http_sid_hash(const char *sid, unsigned char out[32])
{
	unsigned char raw[HTTP_SID_BYTES];
	size_t len = 0;
	const char *end = NULL;
	if (sid == NULL || strlen(sid) != 43)
		return -1;
	if (sodium_base642bin(raw, sizeof(raw), sid, strlen(sid), NULL, &len, &end,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(raw) || end == NULL || *end != '\0')
		return -1;
	crypto_generichash(out, 32, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

char *http_csrf_for_session(const struct store_session *s, struct arena *a)
{
	static const char context[] = "invito csrf v1";
	unsigned char mac[32];
	const char *secret = s && s->csrf ? s->csrf : "";
	size_t klen = strlen(secret);
	if (klen > crypto_generichash_KEYBYTES_MAX)
		klen = crypto_generichash_KEYBYTES_MAX;
	if (klen < crypto_generichash_KEYBYTES_MIN)
		/* A session without a proper secret gets a token nobody can guess. */
		return http_random_token(a);
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)context, sizeof(context) - 1,
	                   (const unsigned char *)secret, klen);
	return b64url(mac, sizeof(mac), a);
}

char *http_random_token(struct arena *a)
{
	unsigned char raw[TOKEN_BYTES];
	randombytes_buf(raw, sizeof(raw));
	return b64url(raw, sizeof(raw), a);
}

int http_token_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	size_t n = strlen(a);
	if (n == 0 || n != strlen(b))
		return 0;
	return sodium_memcmp(a, b, n) == 0;
}

static int token_shaped(const char *s)
{
	if (s == NULL || strlen(s) != 43)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

void http_csrf_anonymous(struct http_req *req, struct http_resp *resp)
{
	const char *c = http_cookie(req, "csrf");
	if (token_shaped(c)) {
		req->csrf_token = c;
		return;
	}
	char *t = http_random_token(req->arena);
	req->csrf_token = t;
	/* A browser-session cookie: it only pairs a form with the browser that loaded it. */
	const struct config *cfg = req->app ? req->app->cfg : NULL;
	http_set_cookie(req, resp, "csrf", t, cfg ? cfg->session_absolute : 43200);
}

int http_session_start(struct http_req *req, struct http_resp *resp, enum store_session_kind kind,
                       int64_t user_id, int64_t org_id)
{
	unsigned char raw[HTTP_SID_BYTES], hash[32], secret[CSRF_SECRET_BYTES];
	char secret_hex[CSRF_SECRET_BYTES * 2 + 1];
	int rc = -1;
	const struct config *cfg = req->app->cfg;
	if (req->db == NULL)
		goto out;
	/* Regeneration: whatever session this browser had ends here. */
	if (http_sid_hash(http_cookie(req, "sid"), hash) == 0)
		store_session_delete(req->db, hash);
	req->session = NULL;
	randombytes_buf(raw, sizeof(raw));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(secret_hex, sizeof(secret_hex), secret, sizeof(secret));
	crypto_generichash(hash, sizeof(hash), raw, sizeof(raw), NULL, 0);
	int64_t now = now_utc();
	int err = store_session_create(req->db, hash, kind, user_id, org_id, secret_hex, now);
	if (err < 0) {
		log_error("http: cannot create a session: %s", store_strerror(err));
		goto out;
	}
	struct store_session *s = arena_alloc(req->arena, sizeof(*s));
	s->user_id = user_id;
	s->org_id = org_id;
	s->kind = kind;
	s->created_at = s->last_seen = now;
	s->csrf = arena_strdup(req->arena, secret_hex);
	req->session = s;
	req->csrf_token = http_csrf_for_session(s, req->arena);
	http_set_cookie(req, resp, "sid", b64url(raw, sizeof(raw), req->arena),
	                cfg->session_absolute);
	rc = 0;
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(secret_hex, sizeof(secret_hex));
	return rc;
}

void http_session_end(struct http_req *req, struct http_resp *resp)
{
	unsigned char hash[32];
	if (req->db != NULL && http_sid_hash(http_cookie(req, "sid"), hash) == 0)
		store_session_delete(req->db, hash);
	if (http_cookie(req, "sid") != NULL)
		http_set_cookie(req, resp, "sid", "", -1);
	req->session = NULL;
	http_csrf_anonymous(req, resp);
}
