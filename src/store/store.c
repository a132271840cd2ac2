/*
 * store: the backend-neutral half of the store. Picks a backend from the URL,
 * dispatches the statement API through its table (backend.h), and builds the
 * conveniences (exec, scalar, insert, col_dup) once for every backend.
 * It must never contain engine-specific SQL or calls: those live in sqlite.c
 * and pg.c.
 */
#include "store/backend.h"
#include "store/store.h"

#include "lib/arena.h"
#include "lib/log.h"

#include <stdarg.h>
#include <string.h>

const char *store_strerror(int err)
{
	switch (err) {
	case STORE_OK:
		return "ok";
	case STORE_ERR:
		return "database error";
	case STORE_NOTFOUND:
		return "not found";
	case STORE_CONFLICT:
		return "conflict (already exists or changed meanwhile)";
	case STORE_BUSY:
		return "database busy";
	case STORE_FULL:
		return "database full";
	case STORE_INVALID:
		return "invalid argument";
	}
	return "unknown store error";
}

/* URL schemes, longest first; a string without a known scheme is an SQLite path. */
static const struct {
	const char *prefix;
	const struct store_backend *be; /* NULL: known but not built in */
} schemes[] = {
    {"sqlite:", &store_sqlite_backend},
    {"postgresql://", &store_pg_backend},
    {"postgres://", &store_pg_backend},
};

int store_open(struct store **out, const char *url, int pool)
{
	*out = NULL;
	if (url == NULL || *url == '\0' || pool < 1 || pool > 64)
		return STORE_INVALID;
	const struct store_backend *be = &store_sqlite_backend;
	const char *target = url;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].prefix);
		if (strncmp(url, schemes[i].prefix, n) != 0)
			continue;
		if (schemes[i].be == NULL) {
			log_error("store: %s databases are not supported by this build",
			          schemes[i].prefix);
			return STORE_INVALID;
		}
		be = schemes[i].be;
		target = url + n;
		break;
	}
	if (*target == '\0')
		return STORE_INVALID;
	struct store *st = NULL;
	int rc = be->open(&st, target, pool);
	if (rc != 0)
		return rc;
	rc = store_migrate(st, NULL);
	if (rc != 0) {
		be->free(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* Appends n bytes of s to out[*len], keeping room for the NUL. */
static void put(char *out, size_t size, size_t *len, const char *s, size_t n)
{
	if (n > size - 1 - *len)
		n = size - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

char *store_url_redact(const char *url, char *out, size_t size)
{
	size_t len = 0;
	if (size == 0)
		return out;
	out[0] = '\0';
	if (url == NULL)
		return out;
	size_t scheme = 0;
	if (strncmp(url, "postgresql://", 13) == 0)
		scheme = 13;
	else if (strncmp(url, "postgres://", 11) == 0)
		scheme = 11;
	if (scheme == 0) {
		put(out, size, &len, url, strlen(url));
		return out;
	}
	put(out, size, &len, url, scheme);
	const char *p = url + scheme;
	size_t auth = strcspn(p, "/?#");
	const char *at = NULL; /* the last '@' of the authority ends the user info */
	for (const char *q = p; q < p + auth; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL) {
			put(out, size, &len, p, (size_t)(colon - p));
			put(out, size, &len, ":***", 4);
			p = at;
		}
	}
	const char *query = strchr(p, '?');
	if (query == NULL) {
		put(out, size, &len, p, strlen(p));
		return out;
	}
	put(out, size, &len, p, (size_t)(query + 1 - p));
	for (const char *q = query + 1; *q != '\0';) {
		size_t n = strcspn(q, "&#");
		if (n >= 9 && strncmp(q, "password=", 9) == 0) {
			put(out, size, &len, "password=***", 12);
		} else {
			put(out, size, &len, q, n);
		}
		q += n;
		if (*q != '\0') {
			put(out, size, &len, q, 1);
			q++;
		}
	}
	return out;
}

void store_free(struct store *st)
{
	if (st != NULL)
		st->be->free(st);
}

const char *store_backend_name(struct store *st)
{
	return st->be->name;
}

int store_last_applied(struct store *st)
{
	return st->last_applied;
}

int store_migrate(struct store *st, int *applied)
{
	struct store_conn *c = store_acquire(st);
	int n = 0;
	/* Several nodes starting at once: the first applies, the others wait and find it done. */
	int rc = c->be->migrate_lock != NULL ? c->be->migrate_lock(c, 1) : 0;
	if (rc == 0) {
		rc = store_migrate_conn(c, &n);
		if (c->be->migrate_lock != NULL && c->be->migrate_lock(c, 0) != 0 && rc == 0)
			rc = STORE_ERR;
	}
	store_release(c);
	st->last_applied = n;
	if (applied != NULL)
		*applied = n;
	return rc;
}

int store_schema_version(struct store *st)
{
	struct store_conn *c = store_acquire(st);
	int v = 0;
	int rc = store_schema_version_conn(c, &v);
	store_release(c);
	return rc != 0 ? rc : v;
}

struct store_conn *store_acquire(struct store *st)
{
	struct store_conn *c = st->be->acquire(st);
	c->busy = 0;
	c->full = 0;
	return c;
}

/* Remembers a lock timeout or a full disk so the HTTP layer can say which, not just 500. */
static int note(struct store_conn *c, int rc)
{
	if (rc == STORE_BUSY && c != NULL)
		c->busy = 1;
	if (rc == STORE_FULL && c != NULL)
		c->full = 1;
	return rc;
}

int store_conn_busy(const struct store_conn *c)
{
	return c != NULL && c->busy;
}

int store_conn_full(const struct store_conn *c)
{
	return c != NULL && c->full;
}

void store_release(struct store_conn *c)
{
	if (c != NULL)
		c->be->release(c);
}

int store_begin(struct store_conn *c)
{
	return note(c, c->be->begin(c));
}

int store_begin_bulk(struct store_conn *c)
{
	return note(c, c->be->begin_bulk != NULL ? c->be->begin_bulk(c) : c->be->begin(c));
}

int store_commit(struct store_conn *c)
{
	return note(c, c->be->commit(c));
}

void store_rollback(struct store_conn *c)
{
	c->be->rollback(c);
}

int store_prepare(struct store_conn *c, struct store_stmt **out, const char *sql)
{
	int rc = c->be->prepare(c, out, sql);
	if (rc == 0)
		(*out)->conn = c;
	return note(c, rc);
}

int store_bind(struct store_stmt *s, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	int rc = s->be->bind(s, types, ap);
	va_end(ap);
	return rc;
}

/* prepare + bind; on a bind error the statement is given back. */
static int vquery(struct store_conn *c, struct store_stmt **out, const char *sql, const char *types,
                  va_list ap)
{
	struct store_stmt *s = NULL;
	*out = NULL;
	int rc = c->be->prepare(c, &s, sql);
	if (rc != 0)
		return note(c, rc);
	s->conn = c;
	rc = c->be->bind(s, types, ap);
	if (rc != 0) {
		c->be->done(s);
		return rc;
	}
	*out = s;
	return 0;
}

int store_query(struct store_conn *c, struct store_stmt **out, const char *sql, const char *types,
                ...)
{
	va_list ap;
	va_start(ap, types);
	int rc = vquery(c, out, sql, types, ap);
	va_end(ap);
	return rc;
}

int store_step(struct store_stmt *s)
{
	return note(s->conn, s->be->step(s));
}

int64_t store_col_int(struct store_stmt *s, int col)
{
	return s->be->col_int(s, col);
}

const char *store_col_text(struct store_stmt *s, int col)
{
	return s->be->col_text(s, col);
}

const void *store_col_blob(struct store_stmt *s, int col, size_t *len)
{
	return s->be->col_blob(s, col, len);
}

char *store_col_dup(struct store_stmt *s, int col, struct arena *a)
{
	const char *t = s->be->col_text(s, col);
	return t == NULL ? NULL : arena_strdup(a, t);
}

int store_col_is_null(struct store_stmt *s, int col)
{
	return s->be->col_is_null(s, col);
}

void store_done(struct store_stmt *s)
{
	if (s != NULL)
		s->be->done(s);
}

int store_exec(struct store_conn *c, int64_t *changes, const char *sql, const char *types, ...)
{
	struct store_stmt *s = NULL;
	va_list ap;
	va_start(ap, types);
	int rc = vquery(c, &s, sql, types, ap);
	va_end(ap);
	if (rc != 0)
		return rc;
	/* Rows a statement returns are ignored; step to the end so it completes. */
	while ((rc = store_step(s)) == 1)
		;
	if (rc == 0 && changes != NULL)
		*changes = s->be->changes(s);
	s->be->done(s);
	return rc;
}

int store_scalar(struct store_conn *c, int64_t *out, const char *sql, const char *types, ...)
{
	struct store_stmt *s = NULL;
	va_list ap;
	va_start(ap, types);
	int rc = vquery(c, &s, sql, types, ap);
	va_end(ap);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		*out = s->be->col_int(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	s->be->done(s);
	return rc;
}

int store_insert(struct store_conn *c, int64_t *id, const char *sql, const char *types, ...)
{
	struct store_stmt *s = NULL;
	va_list ap;
	va_start(ap, types);
	int rc = vquery(c, &s, sql, types, ap);
	va_end(ap);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		if (id != NULL)
			*id = s->be->col_int(s, 0);
		/* Finish the statement so the write is complete before we return. */
		while ((rc = store_step(s)) == 1)
			;
	} else if (rc == 0 && s->be->changes(s) == 0) {
		/* INSERT ... ON CONFLICT DO NOTHING RETURNING id that did nothing. */
		rc = STORE_CONFLICT;
	} else if (rc == 0) {
		log_error("store_insert: statement returned no id (missing RETURNING?)");
		rc = STORE_ERR;
	}
	s->be->done(s);
	return rc;
}
