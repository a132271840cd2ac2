/*
 * store/portals: several portals in one installation (issue 5, migration
 * 006_portals). Loading a portal by the host a request names, by id or by the
 * organisation that owns it; its look (host, primary colour, logo), its
 * limits (invitation lifetime and tries, shortest password: 008), its privacy
 * policy per language, and the privacy consents an account has given.
 *
 * A host only picks among configured portals: it is compared with
 * portals.host, never stored from a request and never used to build a link
 * (links come from portals.base_url). A colour is '#rrggbb' dark enough for
 * white text (store_portal_colour_ok) before it is stored; a logo is a PNG,
 * JPEG or WebP image of at most STORE_LOGO_MAX bytes whose first bytes say so.
 * It must never return a portal other than the one asked for, or the default
 * (lowest id) when the host names none.
 */
#include "store/store.h"

#include "lib/arena.h"
#include "lib/password.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define PORTAL_COLS                                                                                \
	"p.id, p.name, p.base_url, p.policy_text, p.policy_version, p.languages, "                 \
	"p.invite_ttl_days, p.host, p.primary_colour, p.logo_type, p.invite_max_attempts, "        \
	"p.password_min_chars "
#define PORTAL_NCOLS 12

static void portal_fill(struct store_stmt *s, struct store_portal *out, struct arena *a)
{
	out->id = store_col_int(s, 0);
	out->name = store_col_dup(s, 1, a);
	out->base_url = store_col_dup(s, 2, a);
	out->policy_text = store_col_dup(s, 3, a);
	out->policy_version = store_col_dup(s, 4, a);
	out->languages = store_col_dup(s, 5, a);
	out->invite_ttl_days = store_col_int(s, 6);
	out->host = store_col_dup(s, 7, a);
	out->primary_colour = store_col_dup(s, 8, a);
	/* re-checked on the way out: a row written by hand must not put anything into CSS */
	if (store_portal_colour_ok(out->primary_colour) != 0)
		out->primary_colour = NULL;
	out->has_logo = !store_col_is_null(s, 9);
	out->invite_max_attempts = (int)store_col_int(s, 10);
	out->password_min_chars = (int)store_col_int(s, 11);
}

int store_portal_by_id(struct store_conn *c, int64_t id, struct store_portal *out, struct arena *a)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(c, &s, "SELECT " PORTAL_COLS "FROM portals p WHERE p.id = ?", "i", id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		portal_fill(s, out, a);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

int store_portal_for_host(struct store_conn *c, const char *host, struct store_portal *out,
                          int *by_host, int *hosted, struct arena *a)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	*by_host = 0;
	*hosted = 0;
	/* One round trip: the portal of this host, else the lowest id, and whether any portal
	 * has a host at all. A NULL host compares unknown: only the default row comes back. */
	int rc =
	    store_query(c, &s,
	                "SELECT " PORTAL_COLS ", CASE WHEN p.host = ? THEN 1 ELSE 0 END, "
	                "(SELECT COUNT(*) FROM portals h WHERE h.host IS NOT NULL) "
	                "FROM portals p WHERE p.host = ? OR p.id = (SELECT MIN(id) FROM portals) "
	                "ORDER BY CASE WHEN p.host = ? THEN 0 ELSE 1 END, p.id LIMIT 1",
	                "ttt", host, host, host);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		portal_fill(s, out, a);
		*by_host = store_col_int(s, PORTAL_NCOLS) == 1;
		*hosted = store_col_int(s, PORTAL_NCOLS + 1) > 0;
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

int store_org_portal(struct store_conn *c, int64_t org_id, int64_t *portal_id)
{
	return store_scalar(c, portal_id, "SELECT portal_id FROM organisations WHERE id = ?", "i",
	                    org_id);
}

int store_org_portals(struct store_conn *c, int64_t org_id, struct store_portal **rows, int *n,
                      struct arena *a)
{
	struct store_stmt *s = NULL;
	struct store_portal *r = NULL;
	int k = 0, cap = 0;
	*rows = NULL;
	*n = 0;
	int rc = store_query(c, &s,
	                     "SELECT " PORTAL_COLS "FROM portals p JOIN organisations o "
	                     "ON o.portal_id = p.id WHERE o.id = ? AND o.kind = 'customer' "
	                     "ORDER BY p.id",
	                     "i", org_id);
	if (rc != 0)
		return rc;
	while ((rc = store_step(s)) == 1) {
		if (k == cap) {
			int ncap = cap ? cap * 2 : 2;
			struct store_portal *nr = arena_alloc(a, (size_t)ncap * sizeof(*nr));
			if (k > 0)
				memcpy(nr, r, (size_t)k * sizeof(*nr));
			r = nr;
			cap = ncap;
		}
		memset(&r[k], 0, sizeof(r[k]));
		portal_fill(s, &r[k++], a);
	}
	store_done(s);
	if (rc < 0)
		return rc;
	*rows = r;
	*n = k;
	return 0;
}

int store_portal_password_min(struct store_conn *c, int64_t portal_id, int *min_chars)
{
	int64_t v = 0;
	int rc = store_scalar(c, &v, "SELECT password_min_chars FROM portals WHERE id = ?", "i",
	                      portal_id);
	if (rc == 0)
		*min_chars = (int)v;
	return rc;
}

int store_portal_set_limits(struct store_conn *c, int64_t id, int invite_ttl_days,
                            int invite_max_attempts, int password_min_chars)
{
	if (invite_ttl_days < STORE_INVITE_TTL_MIN || invite_ttl_days > STORE_INVITE_TTL_MAX ||
	    invite_max_attempts < STORE_INVITE_ATTEMPTS_MIN ||
	    invite_max_attempts > STORE_INVITE_ATTEMPTS_MAX ||
	    password_min_chars < PASSWORD_MIN_CHARS_LOW ||
	    password_min_chars > PASSWORD_MIN_CHARS_HIGH)
		return STORE_INVALID;
	int64_t changed = 0;
	int rc = store_exec(c, &changed,
	                    "UPDATE portals SET invite_ttl_days = ?, invite_max_attempts = ?, "
	                    "password_min_chars = ? WHERE id = ?",
	                    "iiii", (int64_t)invite_ttl_days, (int64_t)invite_max_attempts,
	                    (int64_t)password_min_chars, id);
	return rc == 0 && changed == 0 ? STORE_NOTFOUND : rc;
}

int store_patient_portal(struct store_conn *c, int64_t patient_id, int64_t org_id,
                         int64_t *portal_id)
{
	int rc = store_scalar(c, portal_id,
	                      "SELECT COALESCE((SELECT a.portal_id FROM accounts a "
	                      "WHERE a.patient_id = ?), (SELECT o.portal_id FROM organisations o "
	                      "WHERE o.id = ?), 0)",
	                      "ii", patient_id, org_id);
	return rc == 0 && *portal_id == 0 ? STORE_NOTFOUND : rc;
}

/* --- look ------------------------------------------------------------------------------- */

/* v ** 0.4 for 0 < v <= 1: the fifth root of v * v by Newton's method (no libm). */
static double pow_04(double v)
{
	double w = v * v, y = 1.0;
	for (int i = 0; i < 60; i++)
		y = (4.0 * y + w / (y * y * y * y)) / 5.0;
	return y;
}

/* sRGB channel (0..255) to linear light, as WCAG 2 defines it. */
static double channel(int v)
{
	double x = v / 255.0;
	if (x <= 0.04045)
		return x / 12.92;
	double b = (x + 0.055) / 1.055;
	return b * b * pow_04(b);
}

int store_portal_colour_ok(const char *colour)
{
	unsigned rgb[3];
	if (colour == NULL || strlen(colour) != 7 || colour[0] != '#')
		return STORE_INVALID;
	for (int i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)colour[i]))
			return STORE_INVALID;
	if (sscanf(colour + 1, "%2x%2x%2x", &rgb[0], &rgb[1], &rgb[2]) != 3)
		return STORE_INVALID;
	/* WCAG 2 relative luminance; white text on it must reach 4.5:1 (the header's) */
	double l = 0.2126 * channel((int)rgb[0]) + 0.7152 * channel((int)rgb[1]) +
	           0.0722 * channel((int)rgb[2]);
	return 1.05 / (l + 0.05) >= 4.5 ? 0 : STORE_INVALID;
}

int store_portal_host_of(const char *base_url, char *out, size_t size)
{
	const char *p;
	if (base_url == NULL || size == 0)
		return STORE_INVALID;
	if (strncmp(base_url, "http://", 7) == 0)
		p = base_url + 7;
	else if (strncmp(base_url, "https://", 8) == 0)
		p = base_url + 8;
	else
		return STORE_INVALID;
	size_t n = strcspn(p, "/?#");
	if (n == 0 || n >= size || memchr(p, '@', n) != NULL)
		return STORE_INVALID;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']'))
			return STORE_INVALID;
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	return 0;
}

int store_portal_set_look(struct store_conn *c, int64_t id, const char *base_url,
                          const char *colour)
{
	char host[256];
	if (colour != NULL && store_portal_colour_ok(colour) != 0)
		return STORE_INVALID;
	if (base_url != NULL && store_portal_host_of(base_url, host, sizeof(host)) != 0)
		return STORE_INVALID;
	int64_t changed = 0;
	int rc = base_url != NULL
	             ? store_exec(c, &changed,
	                          "UPDATE portals SET base_url = ?, host = ?, primary_colour = ? "
	                          "WHERE id = ?",
	                          "ttti", base_url, host, colour, id)
	             : store_exec(c, &changed, "UPDATE portals SET primary_colour = ? WHERE id = ?",
	                          "ti", colour, id);
	return rc == 0 && changed == 0 ? STORE_NOTFOUND : rc;
}

/* The image type the first bytes show, or NULL. */
static const char *logo_sniff(const unsigned char *d, size_t n)
{
	if (d == NULL)
		return NULL;
	static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	if (n >= 8 && memcmp(d, png, 8) == 0)
		return "image/png";
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return "image/jpeg";
	if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
		return "image/webp";
	return NULL;
}

const char *store_portal_logo_type(const void *data, size_t len)
{
	return len == 0 || len > STORE_LOGO_MAX ? NULL : logo_sniff(data, len);
}

int store_portal_set_logo(struct store_conn *c, int64_t id, const void *data, size_t len)
{
	const char *type = NULL;
	if (data != NULL &&
	    (len == 0 || len > STORE_LOGO_MAX || (type = logo_sniff(data, len)) == NULL))
		return STORE_INVALID;
	int64_t changed = 0;
	int rc =
	    data != NULL
	        ? store_exec(c, &changed, "UPDATE portals SET logo = ?, logo_type = ? WHERE id = ?",
	                     "bti", data, len, type, id)
	        : store_exec(c, &changed,
	                     "UPDATE portals SET logo = NULL, logo_type = NULL WHERE id = ?", "i",
	                     id);
	return rc == 0 && changed == 0 ? STORE_NOTFOUND : rc;
}

int store_portal_logo(struct store_conn *c, int64_t id, const char **type, const void **data,
                      size_t *len, struct arena *a)
{
	struct store_stmt *s = NULL;
	*type = NULL;
	*data = NULL;
	*len = 0;
	int rc = store_query(
	    c, &s, "SELECT logo_type, logo FROM portals WHERE id = ? AND logo IS NOT NULL", "i",
	    id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		size_t n = 0;
		const void *d = store_col_blob(s, 1, &n);
		const char *t = store_col_text(s, 0);
		const char *sniffed = d != NULL ? logo_sniff(d, n) : NULL;
		if (t != NULL && sniffed != NULL && strcmp(t, sniffed) == 0) {
			void *copy = arena_alloc(a, n);
			memcpy(copy, d, n);
			*data = copy;
			*len = n;
			*type = sniffed; /* a literal, not the row's text */
			rc = 0;
		} else {
			rc = STORE_NOTFOUND;
		}
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

/* --- privacy policy ---------------------------------------------------------------------- */

int store_portal_policy(struct store_conn *c, int64_t portal_id, const char *lang, char **text,
                        struct arena *a)
{
	struct store_stmt *s = NULL;
	*text = NULL;
	int rc = store_query(c, &s,
	                     "SELECT pp.text FROM portal_policies pp "
	                     "WHERE pp.portal_id = ? AND pp.lang = ? "
	                     "UNION ALL SELECT p.policy_text FROM portals p WHERE p.id = ?",
	                     "iti", portal_id, lang ? lang : "", portal_id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		*text = store_col_dup(s, 0, a);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

int store_portal_set_policy(struct store_conn *c, int64_t portal_id, const char *version,
                            const char *lang, const char *text, int64_t now)
{
	int rc = 0;
	int64_t changed = 0;
	if (version != NULL) {
		if (version[0] == '\0' || strlen(version) > 64)
			return STORE_INVALID;
		rc = store_exec(c, &changed, "UPDATE portals SET policy_version = ? WHERE id = ?",
		                "ti", version, portal_id);
		if (rc == 0 && changed == 0)
			return STORE_NOTFOUND;
	}
	if (rc == 0 && lang != NULL && text != NULL)
		rc = store_exec(c, NULL,
		                "INSERT INTO portal_policies (portal_id, lang, text, updated_at) "
		                "VALUES (?, ?, ?, ?) ON CONFLICT (portal_id, lang) DO UPDATE SET "
		                "text = excluded.text, updated_at = excluded.updated_at",
		                "itti", portal_id, lang, text, now);
	return rc;
}

int store_portal_policy_bump(struct store_conn *c, int64_t portal_id, const char *from,
                             const char *to)
{
	int64_t changed = 0, exists = 0;
	if (from == NULL || to == NULL || to[0] == '\0' || strlen(to) > 64)
		return STORE_INVALID;
	int rc = store_exec(c, &changed,
	                    "UPDATE portals SET policy_version = ? WHERE id = ? AND "
	                    "policy_version = ?",
	                    "tit", to, portal_id, from);
	if (rc != 0 || changed == 1)
		return rc;
	rc = store_scalar(c, &exists, "SELECT COUNT(*) FROM portals WHERE id = ?", "i", portal_id);
	if (rc != 0)
		return rc;
	return exists > 0 ? STORE_CONFLICT : STORE_NOTFOUND;
}

int store_policy_version_next(const char *cur, char *out, size_t size)
{
	if (cur == NULL || size == 0)
		return STORE_INVALID;
	size_t n = strlen(cur), d = n;
	while (d > 0 && isdigit((unsigned char)cur[d - 1]))
		d--;
	int w;
	if (d == n || n - d > 18) { /* no number at the end (or one too long to add to) */
		w = snprintf(out, size, "%s-2", cur);
	} else {
		long long v = 0;
		for (size_t i = d; i < n; i++)
			v = v * 10 + (cur[i] - '0');
		/* keep the zero padding: "2026-01" -> "2026-02", "009" -> "010" */
		w = snprintf(out, size, "%.*s%0*lld", (int)d, cur, (int)(n - d), v + 1);
	}
	if (w < 0 || (size_t)w >= size || w > 64) {
		out[0] = '\0';
		return STORE_INVALID;
	}
	return 0;
}

int store_policy_accepted(struct store_conn *c, int64_t account_id, char **version, struct arena *a)
{
	struct store_stmt *s = NULL;
	*version = NULL;
	int rc =
	    store_query(c, &s,
	                "SELECT version FROM consents WHERE account_id = ? AND kind = 'privacy' "
	                "AND withdrawn_at IS NULL ORDER BY accepted_at DESC, id DESC LIMIT 1",
	                "i", account_id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		*version = store_col_dup(s, 0, a);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

int store_policy_accept(struct store_conn *c, int64_t account_id, const char *version,
                        const char *ip, int64_t now)
{
	if (version == NULL || version[0] == '\0')
		return STORE_INVALID;
	return store_exec(c, NULL,
	                  "INSERT INTO consents (account_id, kind, version, accepted_at, ip) "
	                  "VALUES (?, 'privacy', ?, ?, ?)",
	                  "itit", account_id, version, now, ip);
}
