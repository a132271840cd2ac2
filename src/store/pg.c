/*
 * store/pg: the PostgreSQL backend (libpq), behind the same API as sqlite.c.
 *
 * Pool: a fixed number of connections handed out under a mutex and condition
 * variable, opened lazily (the first one at store_open, to fail fast) and
 * reset on acquire when the server dropped them (PQreset); a reset forgets
 * the prepared statements, which the server forgot too.
 *
 * Statements: the portable SQL's `?` placeholders become $1..$n (a `?` inside
 * quotes or comments is left alone); each connection prepares a statement
 * once (PQprepare, name "s<N>") and keeps it keyed by its SQL text; past
 * CACHE_MAX it runs unprepared (PQexecParams). Parameters go as text (int64
 * in decimal) except blobs, sent in binary format. Results come back whole
 * (PQexecPrepared, text format): store_step() walks rows already received, so
 * any number of statements may be open at once on one connection, nested or
 * not. Blob columns arrive as bytea hex text ("\x0aff..") and col_blob
 * decodes them into the statement's own buffer. Boolean columns read as
 * integers ('t' is 1), so `EXISTS (...)` works in a select list.
 *
 * Transactions: store_begin is BEGIN (READ COMMITTED); correctness under
 * concurrency comes from unique constraints, conditional updates and row
 * locks in the SQL, not from serializing writers as SQLite does. An error
 * inside a transaction aborts it on PostgreSQL: later statements return the
 * first error without reaching the server, and store_commit returns it too
 * (after rolling back), so a failed transaction can never look committed.
 * Every connection has lock_timeout 5 s, the analogue of SQLite's busy timeout.
 *
 * Errors (SQLSTATE): class 23 (unique, foreign key, check) -> STORE_CONFLICT;
 * 40001, 40P01, 55P03 (serialization failure, deadlock, lock timeout) ->
 * STORE_BUSY; 53100 (disk full) -> STORE_FULL; class 22 (bad value) ->
 * STORE_INVALID; anything else STORE_ERR.
 *
 * It must never log bound values or the connection URL (it may hold a
 * password), and nothing outside this file may call libpq directly.
 */
#include "store/backend.h"

#include "lib/log.h"
#include "lib/util.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 64
#define CACHE_MAX     256 /* prepared statements kept per connection */
#define PARAMS_MAX    32767
/* Advisory lock key for migrations: "invi" in ASCII, any constant would do. */
#define MIGRATE_LOCK_KEY "1768846953"

/* Run on every new or reset connection. */
static const char session_setup[] = "SET lock_timeout = '5s'; SET bytea_output = 'hex'; "
                                    "SET client_min_messages = warning";

struct pg_conn;

/* One prepared statement on one connection, keyed by the portable SQL. */
struct pg_prep {
	char *sql;
	char name[16];
	int nparams;
	struct pg_stmt *own; /* the statement object kept with it (twins are freed when done) */
	int own_in_use;
	struct pg_prep *next; /* hash chain */
};

struct pg_stmt {
	struct store_stmt base;
	struct pg_conn *conn;
	struct pg_prep *prep; /* NULL: not cached, run with PQexecParams */
	char *pgsql;          /* rewritten SQL when not cached */
	int nparams, next_param;
	char **values;
	int *lengths, *formats;
	PGresult *res;
	int executed, row, ntuples;
	int64_t changes;
	unsigned char *blob; /* decoded bytea of the last col_blob */
	size_t blob_cap;
	struct pg_stmt *next_open, *prev_open; /* the connection's open statements */
};

struct pg_conn {
	struct store_conn base;
	PGconn *pg;
	struct pg_prep *buckets[CACHE_BUCKETS];
	int cached;
	unsigned next_name;
	int tx_err; /* the error that aborted the open transaction, 0 if none */
	struct pg_stmt *open;
	struct pg_conn *next_free;
};

struct pg_store {
	struct store base;
	char *url;
	int size;
	struct pg_conn *conns;
	struct pg_conn *free_list;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static int map_state(const char *st)
{
	if (st == NULL)
		return STORE_ERR;
	if (strncmp(st, "23", 2) == 0)
		return STORE_CONFLICT;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0)
		return STORE_BUSY;
	if (strcmp(st, "53100") == 0)
		return STORE_FULL;
	if (strncmp(st, "22", 2) == 0)
		return STORE_INVALID;
	return STORE_ERR;
}

/*
 * Maps a failed result (or a connection error when res is NULL) and logs it.
 * Conflicts are expected outcomes (a duplicate, a lost race): debug only.
 */
static int report(struct pg_conn *c, const PGresult *res, const char *what, const char *sql)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int err = map_state(state);
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	enum log_level lvl = err == STORE_CONFLICT ? LOG_DEBUG : LOG_ERROR;
	log_msg(lvl, "pg: %s: %.*s (%s) in: %.200s", what, (int)n, msg, state ? state : "-",
	        sql ? sql : "");
	if (PQtransactionStatus(c->pg) == PQTRANS_INERROR && c->tx_err == 0)
		c->tx_err = err;
	return err;
}

static uint32_t hash_sql(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/*
 * Rewrites `?` to $1..$n outside '...' strings, "..." identifiers and
 * comments, into a new string (*out, caller frees). A `;` may end the
 * statement; anything but blanks after it is a second statement:
 * STORE_INVALID, as on SQLite.
 */
static int rewrite(const char *sql, char **out, int *nparams)
{
	size_t len = strlen(sql);
	/* Each `?` (1 byte) becomes at most "$32767" (6 bytes). */
	size_t cap = len * 6 + 1;
	char *o = xmalloc(cap), *p = o;
	int n = 0;
	*out = NULL;
	for (const char *s = sql; *s;) {
		if (*s == '\'' || *s == '"') {
			char q = *s;
			*p++ = *s++;
			while (*s && *s != q)
				*p++ = *s++;
			if (*s)
				*p++ = *s++; /* '' inside a string reads as close + open: same
				                result */
		} else if (s[0] == '-' && s[1] == '-') {
			while (*s && *s != '\n')
				*p++ = *s++;
		} else if (s[0] == '/' && s[1] == '*') {
			const char *end = strstr(s + 2, "*/");
			size_t k = end ? (size_t)(end + 2 - s) : strlen(s);
			memcpy(p, s, k);
			p += k;
			s += k;
		} else if (*s == '?') {
			if (++n > PARAMS_MAX)
				goto bad;
			p += snprintf(p, cap - (size_t)(p - o), "$%d", n);
			s++;
		} else if (*s == ';') {
			for (s++; *s; s++)
				if (!is_space(*s) && *s != ';')
					goto bad;
		} else {
			*p++ = *s++;
		}
	}
	*p = '\0';
	*out = o;
	*nparams = n;
	return 0;
bad:
	log_error("pg: prepare: expected exactly one statement in: %.200s", sql);
	free(o);
	return STORE_INVALID;
}

static void stmt_free(struct pg_stmt *s)
{
	if (s == NULL)
		return;
	free(s->values);
	free(s->lengths);
	free(s->formats);
	free(s->pgsql);
	free(s->blob);
	free(s);
}

static void cache_clear(struct pg_conn *c)
{
	for (int b = 0; b < CACHE_BUCKETS; b++) {
		struct pg_prep *e = c->buckets[b];
		while (e != NULL) {
			struct pg_prep *next = e->next;
			stmt_free(e->own);
			free(e->sql);
			free(e);
			e = next;
		}
		c->buckets[b] = NULL;
	}
	c->cached = 0;
}

static void stmt_clear_params(struct pg_stmt *s)
{
	for (int i = 0; i < s->nparams; i++) {
		free(s->values[i]);
		s->values[i] = NULL;
		s->lengths[i] = 0;
		s->formats[i] = 0;
	}
}

static int pg_prepare(struct store_conn *bc, struct store_stmt **out, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	*out = NULL;
	uint32_t b = hash_sql(sql) % CACHE_BUCKETS;
	struct pg_prep *e = c->buckets[b];
	while (e != NULL && strcmp(e->sql, sql) != 0)
		e = e->next;
	char *pgsql = NULL;
	int nparams = 0;
	if (e == NULL) {
		int rc = rewrite(sql, &pgsql, &nparams);
		if (rc != 0)
			return rc;
		if (c->tx_err != 0) {
			/* Preparing inside an aborted transaction fails anyway. */
			free(pgsql);
			return c->tx_err;
		}
		if (c->cached < CACHE_MAX) {
			e = xcalloc(1, sizeof(*e));
			snprintf(e->name, sizeof(e->name), "s%u", c->next_name++);
			PGresult *res = PQprepare(c->pg, e->name, pgsql, nparams, NULL);
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				rc = report(c, res, "prepare", sql);
				PQclear(res);
				free(e);
				free(pgsql);
				return rc;
			}
			PQclear(res);
			e->sql = xstrdup(sql);
			e->nparams = nparams;
			e->next = c->buckets[b];
			c->buckets[b] = e;
			c->cached++;
			free(pgsql);
			pgsql = NULL;
		}
	} else {
		nparams = e->nparams;
	}
	struct pg_stmt *s = NULL;
	if (e != NULL && e->own != NULL && !e->own_in_use) {
		s = e->own;
	} else {
		/* New, or a twin: the same SQL is open higher up the stack. */
		s = xcalloc(1, sizeof(*s));
		s->base.be = &store_pg_backend;
		s->conn = c;
		s->prep = e;
		s->pgsql = pgsql; /* ownership moves to s */
		s->nparams = nparams;
		if (e != NULL && e->own == NULL)
			e->own = s;
	}
	if (e != NULL && e->own == s)
		e->own_in_use = 1;
	s->next_param = 1;
	if (nparams > 0 && s->values == NULL) {
		s->values = xcalloc((size_t)nparams, sizeof(*s->values));
		s->lengths = xcalloc((size_t)nparams, sizeof(*s->lengths));
		s->formats = xcalloc((size_t)nparams, sizeof(*s->formats));
	}
	s->next_open = c->open;
	if (c->open != NULL)
		c->open->prev_open = s;
	c->open = s;
	*out = &s->base;
	return 0;
}

static int pg_bind(struct store_stmt *bs, const char *types, va_list ap)
{
	struct pg_stmt *s = (struct pg_stmt *)bs;
	for (const char *t = types; *t; t++) {
		int i = s->next_param++ - 1;
		if (i >= s->nparams) {
			log_error("pg: bind: more values (%zu) than parameters (%d) in: %.200s",
			          strlen(types), s->nparams, s->prep ? s->prep->sql : s->pgsql);
			return STORE_INVALID;
		}
		switch (*t) {
		case 'i':
		case 'I': {
			int64_t v = va_arg(ap, int64_t);
			if (*t == 'I' && v == 0)
				break;
			char num[24];
			snprintf(num, sizeof(num), "%lld", (long long)v);
			s->values[i] = xstrdup(num);
			break;
		}
		case 't':
		case 's': {
			const char *v = va_arg(ap, const char *);
			/* Copied: callers may free the string before stepping ('s' too: libpq
			 * would copy it into the message anyway). */
			if (v != NULL)
				s->values[i] = xstrdup(v);
			break;
		}
		case 'b': {
			const void *v = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			if (v == NULL)
				break;
			if (n > 0x3fffffff) {
				log_error("pg: bind: blob of %zu bytes is too large", n);
				return STORE_INVALID;
			}
			s->values[i] = xmalloc(n ? n : 1);
			memcpy(s->values[i], v, n);
			s->lengths[i] = (int)n;
			s->formats[i] = 1; /* binary: bytea as it is */
			break;
		}
		default:
			log_error("pg: bind: unknown type '%c'", *t);
			return STORE_INVALID;
		}
	}
	return 0;
}

static const char *stmt_sql(const struct pg_stmt *s)
{
	return s->prep ? s->prep->sql : s->pgsql;
}

static int pg_step(struct store_stmt *bs)
{
	struct pg_stmt *s = (struct pg_stmt *)bs;
	struct pg_conn *c = s->conn;
	if (!s->executed) {
		if (s->next_param - 1 != s->nparams) {
			log_error("pg: step: %d of %d parameters bound in: %.200s",
			          s->next_param - 1, s->nparams, stmt_sql(s));
			return STORE_INVALID;
		}
		if (c->tx_err != 0) {
			log_error("pg: step: the transaction failed earlier; roll it back: %.200s",
			          stmt_sql(s));
			return c->tx_err;
		}
		const char *const *vals = (const char *const *)s->values;
		PGresult *res = s->prep ? PQexecPrepared(c->pg, s->prep->name, s->nparams, vals,
		                                         s->lengths, s->formats, 0)
		                        : PQexecParams(c->pg, s->pgsql, s->nparams, NULL, vals,
		                                       s->lengths, s->formats, 0);
		ExecStatusType st = PQresultStatus(res);
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			int rc = report(c, res, "step", stmt_sql(s));
			PQclear(res);
			return rc;
		}
		s->res = res;
		s->executed = 1;
		s->row = -1;
		s->ntuples = st == PGRES_TUPLES_OK ? PQntuples(res) : 0;
		const char *n = PQcmdTuples(res);
		s->changes = n != NULL && *n ? strtoll(n, NULL, 10) : 0;
	}
	if (s->row + 1 < s->ntuples) {
		s->row++;
		return 1;
	}
	s->row = s->ntuples;
	return 0;
}

static int64_t pg_changes(struct store_stmt *bs)
{
	return ((struct pg_stmt *)bs)->changes;
}

/* The current row's value of col, NULL for SQL NULL or no such row/column. */
static const char *value(struct pg_stmt *s, int col)
{
	if (s->res == NULL || s->row < 0 || s->row >= s->ntuples || col < 0 ||
	    col >= PQnfields(s->res) || PQgetisnull(s->res, s->row, col))
		return NULL;
	return PQgetvalue(s->res, s->row, col);
}

static int64_t pg_col_int(struct store_stmt *bs, int col)
{
	const char *v = value((struct pg_stmt *)bs, col);
	if (v == NULL)
		return 0;
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	return strtoll(v, NULL, 10); /* 'f' reads as 0 */
}

static const char *pg_col_text(struct store_stmt *bs, int col)
{
	return value((struct pg_stmt *)bs, col);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* bytea arrives as "\x" + hex (bytea_output = hex); any other text is returned as is. */
static const void *pg_col_blob(struct store_stmt *bs, int col, size_t *len)
{
	struct pg_stmt *s = (struct pg_stmt *)bs;
	const char *v = value(s, col);
	size_t n = v ? (size_t)PQgetlength(s->res, s->row, col) : 0;
	if (len != NULL)
		*len = 0;
	if (v == NULL)
		return NULL;
	if (n < 2 || v[0] != '\\' || v[1] != 'x') {
		if (len != NULL)
			*len = n;
		return v;
	}
	size_t out = (n - 2) / 2;
	if (out + 1 > s->blob_cap) {
		s->blob_cap = out + 1;
		s->blob = xrealloc(s->blob, s->blob_cap);
	}
	for (size_t i = 0; i < out; i++) {
		int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
		if (hi < 0 || lo < 0) {
			log_error("pg: col_blob: malformed bytea");
			return NULL;
		}
		s->blob[i] = (unsigned char)(hi << 4 | lo);
	}
	if (len != NULL)
		*len = out;
	return s->blob;
}

static int pg_col_is_null(struct store_stmt *bs, int col)
{
	struct pg_stmt *s = (struct pg_stmt *)bs;
	if (s->res == NULL || s->row < 0 || s->row >= s->ntuples || col < 0 ||
	    col >= PQnfields(s->res))
		return 1;
	return PQgetisnull(s->res, s->row, col);
}

static void pg_done(struct store_stmt *bs)
{
	struct pg_stmt *s = (struct pg_stmt *)bs;
	struct pg_conn *c = s->conn;
	if (s->prev_open != NULL)
		s->prev_open->next_open = s->next_open;
	else
		c->open = s->next_open;
	if (s->next_open != NULL)
		s->next_open->prev_open = s->prev_open;
	PQclear(s->res);
	s->res = NULL;
	stmt_clear_params(s);
	s->executed = 0;
	s->row = -1;
	s->ntuples = 0;
	s->changes = 0;
	s->next_open = s->prev_open = NULL;
	if (s->prep != NULL && s->prep->own == s)
		s->prep->own_in_use = 0; /* the cache keeps it, arrays and all */
	else
		stmt_free(s);
}

/* Runs a parameterless command (or several) outside the statement cache. */
static int simple(struct pg_conn *c, const char *sql, const char *what)
{
	PGresult *res = PQexec(c->pg, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
		rc = report(c, res, what, sql);
	PQclear(res);
	return rc;
}

static int pg_script(struct store_conn *bc, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	if (c->tx_err != 0)
		return c->tx_err;
	return simple(c, sql, "script");
}

/*
 * A session-level advisory lock: a migration running DDL in one process would
 * otherwise make another's identical DDL fail (both see version N pending
 * under READ COMMITTED). It dies with the session if the process does.
 * Keyed by schema: only migrations of the same tables need to queue, not a
 * test suite's schemas (or two deployments' on one server). A node starting
 * while another migrates waits up to 5 minutes, not the usual 5 s lock
 * timeout: a long migration is not an error. The SETs share the lock's
 * implicit transaction, so a failed wait leaves the 5 s in place.
 */
#define MIGRATE_LOCK_ARGS "(" MIGRATE_LOCK_KEY ", hashtext(current_schema()))"

static int pg_migrate_lock(struct store_conn *bc, int lock)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	return simple(c,
	              lock ? "SET lock_timeout = '300s'; "
	                     "SELECT pg_advisory_lock" MIGRATE_LOCK_ARGS "; "
	                     "SET lock_timeout = '5s'"
	                   : "SELECT pg_advisory_unlock" MIGRATE_LOCK_ARGS,
	              "migrate lock");
}

static int pg_begin(struct store_conn *bc)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	if (PQstatus(c->pg) != CONNECTION_OK) {
		log_error("pg: begin: no connection to the server");
		return STORE_ERR;
	}
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		log_error("pg: begin: a transaction is already open");
		return STORE_INVALID;
	}
	c->tx_err = 0;
	return simple(c, "BEGIN", "begin");
}

static void pg_rollback(struct store_conn *bc)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	c->tx_err = 0;
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
		return;
	if (simple(c, "ROLLBACK", "rollback") != 0)
		log_error("pg: rollback failed");
	c->tx_err = 0;
}

static int pg_commit(struct store_conn *bc)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	if (ts == PQTRANS_INERROR || c->tx_err != 0) {
		/* PostgreSQL would answer COMMIT with a silent ROLLBACK. */
		int rc = c->tx_err != 0 ? c->tx_err : STORE_ERR;
		pg_rollback(bc);
		return rc;
	}
	if (ts != PQTRANS_INTRANS) {
		log_error("pg: commit: no transaction is open");
		return STORE_INVALID;
	}
	int rc = simple(c, "COMMIT", "commit");
	c->tx_err = 0;
	if (rc != 0)
		pg_rollback(bc); /* a failed COMMIT ends the transaction; make sure */
	return rc;
}

/* Notices (e.g. "relation already exists, skipping") go to the debug log, not stderr. */
static void on_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("pg: %s", msg);
}

/* After a connect or reset: fresh statement cache and session settings. */
static int conn_ready(struct pg_conn *c)
{
	cache_clear(c);
	c->tx_err = 0;
	if (PQstatus(c->pg) != CONNECTION_OK) {
		log_error("pg: cannot connect: %s", PQerrorMessage(c->pg));
		return STORE_ERR;
	}
	PQsetNoticeProcessor(c->pg, on_notice, NULL);
	if (PQsetClientEncoding(c->pg, "UTF8") != 0) {
		log_error("pg: cannot set client encoding UTF8");
		return STORE_ERR;
	}
	return simple(c, session_setup, "session setup");
}

static int conn_open(struct pg_conn *c, const char *url)
{
	c->pg = PQconnectdb(url);
	if (c->pg == NULL)
		die("pg: out of memory");
	return conn_ready(c);
}

static void conn_close(struct pg_conn *c)
{
	while (c->open != NULL) {
		log_warn("pg: statement left open at close: %.200s", stmt_sql(c->open));
		pg_done(&c->open->base);
	}
	cache_clear(c);
	PQfinish(c->pg);
	c->pg = NULL;
}

static void pg_free(struct store *bst)
{
	struct pg_store *st = (struct pg_store *)bst;
	if (st == NULL)
		return;
	for (int i = 0; i < st->size; i++)
		if (st->conns[i].pg != NULL)
			conn_close(&st->conns[i]);
	free(st->conns);
	free(st->url);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	free(st);
}

/* target is the URL after "postgresql://" or "postgres://"; libpq takes either scheme. */
static int pg_open(struct store **out, const char *target, int pool)
{
	int rc = STORE_ERR;
	struct pg_store *st = xcalloc(1, sizeof(*st));
	st->base.be = &store_pg_backend;
	size_t n = strlen(target) + sizeof("postgresql://");
	st->url = xmalloc(n);
	snprintf(st->url, n, "postgresql://%s", target);
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	st->conns = xcalloc((size_t)pool, sizeof(*st->conns));
	st->size = pool;
	for (int i = pool - 1; i >= 0; i--) {
		struct pg_conn *c = &st->conns[i];
		c->base.be = &store_pg_backend;
		c->base.st = &st->base;
		c->next_free = st->free_list;
		st->free_list = c;
	}
	/* The first connection now, so a wrong URL or a server down fails store_open. */
	if ((rc = conn_open(&st->conns[0], st->url)) != 0)
		goto out;
	*out = &st->base;
	st = NULL;
	rc = 0;
out:
	pg_free(st ? &st->base : NULL);
	return rc;
}

static struct store_conn *pg_acquire(struct store *bst)
{
	struct pg_store *st = (struct pg_store *)bst;
	pthread_mutex_lock(&st->mu);
	while (st->free_list == NULL)
		pthread_cond_wait(&st->cv, &st->mu);
	struct pg_conn *c = st->free_list;
	st->free_list = c->next_free;
	c->next_free = NULL;
	pthread_mutex_unlock(&st->mu);
	/* Outside the lock: connecting takes a round trip or more. */
	if (c->pg == NULL) {
		conn_open(c, st->url); /* on failure its statements fail with STORE_ERR */
	} else if (PQstatus(c->pg) != CONNECTION_OK) {
		log_warn("pg: connection lost; reconnecting");
		PQreset(c->pg);
		conn_ready(c);
	}
	return &c->base;
}

static void pg_release(struct store_conn *bc)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	struct pg_store *st = (struct pg_store *)bc->st;
	/* A caller that forgot store_done() or store_commit() must not poison the next user. */
	while (c->open != NULL) {
		log_warn("pg: statement released without store_done: %.200s", stmt_sql(c->open));
		pg_done(&c->open->base);
	}
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
		log_warn("pg: connection released inside a transaction: rolled back");
		pg_rollback(bc);
	}
	pthread_mutex_lock(&st->mu);
	c->next_free = st->free_list;
	st->free_list = c;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

const struct store_backend store_pg_backend = {
    .name = "pg",
    .open = pg_open,
    .free = pg_free,
    .acquire = pg_acquire,
    .release = pg_release,
    .script = pg_script,
    .migrate_lock = pg_migrate_lock,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .bind = pg_bind,
    .step = pg_step,
    .changes = pg_changes,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_is_null = pg_col_is_null,
    .done = pg_done,
};
