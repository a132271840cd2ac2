/*
 * store/sqlite: the SQLite backend. A struct store is a fixed pool of
 * connections handed out under a mutex and condition variable; each
 * connection is used by one thread at a time (opened NOMUTEX) and keeps its
 * own cache of prepared statements keyed by SQL text.
 *
 * Every connection runs WAL, synchronous=FULL, foreign keys on and a 5 s busy
 * timeout; write transactions start with BEGIN IMMEDIATE so two writers queue
 * on the busy timeout instead of deadlocking on a lock upgrade.
 * It must never log bound values (they may be tokens or personal data), and
 * nothing outside this file may call sqlite3 directly.
 */
#include "store/backend.h"

#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define CACHE_BUCKETS   64
#define CACHE_MAX       256 /* statements kept per connection; more are prepared each time */

struct sq_conn;

struct sq_stmt {
	struct store_stmt base;
	struct sq_conn *conn;
	sqlite3_stmt *st;
	char *sql; /* cache key; NULL for a statement that is finalized when done */
	int in_use;
	int next_param; /* 1-based index of the next parameter to bind */
	int nparams;
	int64_t changes;
	struct sq_stmt *next; /* hash chain */
};

struct sq_conn {
	struct store_conn base;
	sqlite3 *db;
	struct sq_stmt *buckets[CACHE_BUCKETS];
	int cached;
	int fk_off; /* store_begin_bulk turned foreign_keys off until the transaction ends */
	struct sq_conn *next_free;
};

/* The WAL is copied back into the database by a thread of the store's own once it
 * passes this many pages (SQLite's own auto-checkpoint threshold). */
#define CHECKPOINT_PAGES 1000

/*
 * The checkpointer: SQLite checkpoints inside the commit that takes the WAL past
 * CHECKPOINT_PAGES, so that request (a bulk invite of 100,000: 0.1-0.5 s) waits for
 * it. Instead each pool connection's WAL hook only wakes this thread, which runs a
 * PASSIVE checkpoint on a connection of its own: it never blocks a reader or a writer,
 * and the WAL stays as bounded as with SQLite's auto-checkpoint (the same threshold,
 * one pass per wake-up). When the thread cannot start, connections keep SQLite's own.
 */
struct sq_checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pending, stop, running;
};

struct sq_store {
	struct store base;
	int size;
	struct sq_conn *conns;
	struct sq_conn *free_list;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sq_checkpointer ckpt;
};

static int map_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return STORE_OK;
	case SQLITE_CONSTRAINT:
		return STORE_CONFLICT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return STORE_INVALID;
	default:
		return STORE_ERR;
	}
}

/* Conflicts are expected outcomes (a duplicate, a lost race): not worth an error line. */
static int report(sqlite3 *db, int rc, const char *what, const char *sql)
{
	int err = map_err(rc);
	enum log_level lvl = err == STORE_CONFLICT ? LOG_DEBUG : LOG_ERROR;
	log_msg(lvl, "sqlite: %s: %s (%d) in: %.200s", what, sqlite3_errmsg(db), rc,
	        sql ? sql : "");
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

static int only_space(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ';')
			return 0;
	return 1;
}

static void stmt_destroy(struct sq_stmt *s)
{
	sqlite3_finalize(s->st);
	free(s->sql);
	free(s);
}

static int sq_prepare(struct store_conn *bc, struct store_stmt **out, const char *sql)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	*out = NULL;
	uint32_t b = hash_sql(sql) % CACHE_BUCKETS;
	int busy_twin = 0;
	for (struct sq_stmt *s = c->buckets[b]; s != NULL; s = s->next) {
		if (strcmp(s->sql, sql) != 0)
			continue;
		if (s->in_use) {
			/* The same SQL is open higher up the stack: use a private copy. */
			busy_twin = 1;
			break;
		}
		s->in_use = 1;
		s->next_param = 1;
		s->changes = 0;
		*out = &s->base;
		return 0;
	}
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int keep = !busy_twin && c->cached < CACHE_MAX;
	int rc =
	    sqlite3_prepare_v3(c->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, &tail);
	if (rc != SQLITE_OK)
		return report(c->db, rc, "prepare", sql);
	if (st == NULL || (tail != NULL && !only_space(tail))) {
		log_error("sqlite: prepare: expected exactly one statement in: %.200s", sql);
		sqlite3_finalize(st);
		return STORE_INVALID;
	}
	struct sq_stmt *s = xcalloc(1, sizeof(*s));
	s->base.be = &store_sqlite_backend;
	s->conn = c;
	s->st = st;
	s->in_use = 1;
	s->next_param = 1;
	s->nparams = sqlite3_bind_parameter_count(st);
	if (keep) {
		s->sql = xstrdup(sql);
		s->next = c->buckets[b];
		c->buckets[b] = s;
		c->cached++;
	}
	*out = &s->base;
	return 0;
}

static int sq_bind(struct store_stmt *bs, const char *types, va_list ap)
{
	struct sq_stmt *s = (struct sq_stmt *)bs;
	for (const char *t = types; *t; t++) {
		int i = s->next_param++;
		if (i > s->nparams) {
			log_error("sqlite: bind: more values (%zu) than parameters (%d) in: %.200s",
			          strlen(types), s->nparams, sqlite3_sql(s->st));
			return STORE_INVALID;
		}
		int rc;
		switch (*t) {
		case 'i':
			rc = sqlite3_bind_int64(s->st, i, va_arg(ap, int64_t));
			break;
		case 'I': {
			int64_t v = va_arg(ap, int64_t);
			rc = v == 0 ? sqlite3_bind_null(s->st, i) : sqlite3_bind_int64(s->st, i, v);
			break;
		}
		case 't': {
			const char *v = va_arg(ap, const char *);
			/* TRANSIENT: callers may free the string before stepping. */
			rc = v == NULL ? sqlite3_bind_null(s->st, i)
			               : sqlite3_bind_text(s->st, i, v, -1, SQLITE_TRANSIENT);
			break;
		}
		case 's': {
			const char *v = va_arg(ap, const char *);
			/* STATIC: kept by the caller until sq_done() clears the bindings. */
			rc = v == NULL ? sqlite3_bind_null(s->st, i)
			               : sqlite3_bind_text(s->st, i, v, -1, SQLITE_STATIC);
			break;
		}
		case 'b': {
			const void *v = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = v == NULL ? sqlite3_bind_null(s->st, i)
			               : sqlite3_bind_blob64(s->st, i, v, n, SQLITE_TRANSIENT);
			break;
		}
		default:
			log_error("sqlite: bind: unknown type '%c'", *t);
			return STORE_INVALID;
		}
		if (rc != SQLITE_OK)
			return report(s->conn->db, rc, "bind", sqlite3_sql(s->st));
	}
	return 0;
}

static int sq_step(struct store_stmt *bs)
{
	struct sq_stmt *s = (struct sq_stmt *)bs;
	if (s->next_param - 1 != s->nparams) {
		log_error("sqlite: step: %d of %d parameters bound in: %.200s", s->next_param - 1,
		          s->nparams, sqlite3_sql(s->st));
		return STORE_INVALID;
	}
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		s->changes = sqlite3_changes64(s->conn->db);
		return 0;
	}
	return report(s->conn->db, rc, "step", sqlite3_sql(s->st));
}

static int64_t sq_changes(struct store_stmt *bs)
{
	return ((struct sq_stmt *)bs)->changes;
}

static int64_t sq_col_int(struct store_stmt *bs, int col)
{
	return sqlite3_column_int64(((struct sq_stmt *)bs)->st, col);
}

static const char *sq_col_text(struct store_stmt *bs, int col)
{
	return (const char *)sqlite3_column_text(((struct sq_stmt *)bs)->st, col);
}

static const void *sq_col_blob(struct store_stmt *bs, int col, size_t *len)
{
	sqlite3_stmt *st = ((struct sq_stmt *)bs)->st;
	const void *p = sqlite3_column_blob(st, col);
	if (len != NULL)
		*len = (size_t)sqlite3_column_bytes(st, col);
	return p;
}

static int sq_col_is_null(struct store_stmt *bs, int col)
{
	return sqlite3_column_type(((struct sq_stmt *)bs)->st, col) == SQLITE_NULL;
}

static void sq_done(struct store_stmt *bs)
{
	struct sq_stmt *s = (struct sq_stmt *)bs;
	/* reset repeats the last step's error; it was reported already. */
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	if (s->sql == NULL) {
		stmt_destroy(s);
		return;
	}
	s->in_use = 0;
}

/* Runs one parameterless statement through the cache. */
static int simple(struct sq_conn *c, const char *sql)
{
	struct store_stmt *s = NULL;
	int rc = sq_prepare(&c->base, &s, sql);
	if (rc != 0)
		return rc;
	while ((rc = sq_step(s)) == 1)
		;
	sq_done(s);
	return rc;
}

static int sq_script(struct store_conn *bc, const char *sql)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	char *err = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		log_error("sqlite: script: %s (%d)", err ? err : sqlite3_errmsg(c->db), rc);
		sqlite3_free(err);
		return map_err(rc);
	}
	return 0;
}

static int sq_begin(struct store_conn *bc)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	if (!sqlite3_get_autocommit(c->db)) {
		log_error("sqlite: begin: a transaction is already open");
		return STORE_INVALID;
	}
	return simple(c, "BEGIN IMMEDIATE");
}

/*
 * foreign_keys can only change outside a transaction, so store_begin_bulk turns
 * it off before its BEGIN and whatever ends that transaction turns it back on.
 * Changing it expires the connection's prepared statements (recompiled on next
 * use): twice per bulk run, against 500,000 parent lookups saved at 100,000.
 */
static int sq_begin_bulk(struct store_conn *bc)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	if (!sqlite3_get_autocommit(c->db)) {
		log_error("sqlite: begin: a transaction is already open");
		return STORE_INVALID;
	}
	int rc = simple(c, "PRAGMA foreign_keys=OFF");
	if (rc != 0)
		return rc;
	c->fk_off = 1;
	rc = simple(c, "BEGIN IMMEDIATE");
	if (rc != 0 && simple(c, "PRAGMA foreign_keys=ON") == 0)
		c->fk_off = 0;
	return rc;
}

/* After a transaction of store_begin_bulk: the checks back on for the connection's next user. */
static void fk_restore(struct sq_conn *c)
{
	if (!c->fk_off)
		return;
	if (simple(c, "PRAGMA foreign_keys=ON") == 0)
		c->fk_off = 0;
	else
		log_error("sqlite: foreign_keys could not be turned back on");
}

static void sq_rollback(struct store_conn *bc)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	/* SQLite may have rolled back by itself (e.g. after SQLITE_FULL). */
	if (!sqlite3_get_autocommit(c->db) && simple(c, "ROLLBACK") != 0)
		log_error("sqlite: rollback failed");
	fk_restore(c);
}

static int sq_commit(struct store_conn *bc)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	if (sqlite3_get_autocommit(c->db)) {
		log_error("sqlite: commit: no transaction is open");
		return STORE_INVALID;
	}
	int rc = simple(c, "COMMIT");
	if (rc != 0)
		sq_rollback(bc); /* leave the connection clean for its next user */
	else
		fk_restore(c);
	return rc;
}

static void conn_close(struct sq_conn *c)
{
	for (int b = 0; b < CACHE_BUCKETS; b++) {
		struct sq_stmt *s = c->buckets[b];
		while (s != NULL) {
			struct sq_stmt *next = s->next;
			stmt_destroy(s);
			s = next;
		}
		c->buckets[b] = NULL;
	}
	c->cached = 0;
	sqlite3_close_v2(c->db);
	c->db = NULL;
}

static int conn_open(struct sq_conn *c, const char *path)
{
	int rc = sqlite3_open_v2(
	    path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("sqlite: cannot open %s: %s", path,
		          c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close_v2(c->db);
		c->db = NULL;
		return map_err(rc) == STORE_OK ? STORE_ERR : map_err(rc);
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	/* Switching a new file to WAL needs a moment alone with it and answers BUSY at once
	 * (the busy handler does not cover it) while another process opens the same file:
	 * several nodes starting together. Retry for up to the busy timeout. */
	for (int tries = 0;; tries++) {
		rc = sq_script(&c->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
		                         "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
		                         "PRAGMA cache_size=-16384;");
		if (rc != STORE_BUSY || tries * 10 >= BUSY_TIMEOUT_MS)
			break;
		usleep(10000);
	}
	if (rc != 0) {
		sqlite3_close_v2(c->db);
		c->db = NULL;
	}
	return rc;
}

static void *checkpoint_run(void *arg)
{
	struct sq_checkpointer *k = arg;
	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (!k->pending && !k->stop)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->stop)
			break;
		k->pending = 0;
		pthread_mutex_unlock(&k->mu);
		int rc =
		    sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(k->db));
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

/* Called by SQLite after every commit on a pool connection (sqlite3_wal_hook). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sq_checkpointer *k = arg;
	(void)db;
	(void)name;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&k->mu);
		k->pending = 1;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
	return SQLITE_OK;
}

/* Starts the checkpointer and hands it every pool connection's WAL hook; on any failure
 * the connections keep SQLite's auto-checkpoint. */
static void checkpointer_start(struct sq_store *st, const char *path)
{
	struct sq_checkpointer *k = &st->ckpt;
	/* A connection that has not read the file yet does not know it is in WAL mode, and
	 * its checkpoints would do nothing: read the journal mode once. */
	if (sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	        SQLITE_OK ||
	    sqlite3_busy_timeout(k->db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_exec(k->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close_v2(k->db);
		k->db = NULL;
		return;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	if (pthread_create(&k->thread, NULL, checkpoint_run, k) != 0) {
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		sqlite3_close_v2(k->db);
		k->db = NULL;
		return;
	}
	k->running = 1;
	for (int i = 0; i < st->size; i++)
		sqlite3_wal_hook(st->conns[i].db, wal_hook, k);
}

static void checkpointer_stop(struct sq_checkpointer *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	sqlite3_close_v2(k->db);
	k->db = NULL;
	k->running = 0;
}

static void sq_free(struct store *bst)
{
	struct sq_store *st = (struct sq_store *)bst;
	if (st == NULL)
		return;
	checkpointer_stop(&st->ckpt);
	for (int i = 0; i < st->size; i++)
		if (st->conns[i].db != NULL)
			conn_close(&st->conns[i]);
	free(st->conns);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	free(st);
}

/*
 * SQLite counts every allocation it makes in global statistics behind one mutex
 * that all connections share; nothing here reads them. Off before the library's
 * first use (later, sqlite3_config refuses and the counting stays): 5% of a bulk
 * invite's time.
 */
static pthread_once_t sq_config_once = PTHREAD_ONCE_INIT;

static void sq_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(struct store **out, const char *path, int pool)
{
	int rc = STORE_ERR;
	pthread_once(&sq_config_once, sq_config);
	/* Each connection to ":memory:" would be its own empty database. */
	if (strcmp(path, ":memory:") == 0)
		pool = 1;
	struct sq_store *st = xcalloc(1, sizeof(*st));
	st->base.be = &store_sqlite_backend;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	st->conns = xcalloc((size_t)pool, sizeof(*st->conns));
	st->size = pool;
	for (int i = 0; i < pool; i++) {
		struct sq_conn *c = &st->conns[i];
		c->base.be = &store_sqlite_backend;
		c->base.st = &st->base;
		/* One at a time: switching to WAL must not race with another opener. */
		if ((rc = conn_open(c, path)) != 0)
			goto out;
		c->next_free = st->free_list;
		st->free_list = c;
	}
	if (strcmp(path, ":memory:") != 0)
		checkpointer_start(st, path);
	*out = &st->base;
	st = NULL;
	rc = 0;
out:
	sq_free(st ? &st->base : NULL);
	return rc;
}

static struct store_conn *sq_acquire(struct store *bst)
{
	struct sq_store *st = (struct sq_store *)bst;
	pthread_mutex_lock(&st->mu);
	while (st->free_list == NULL)
		pthread_cond_wait(&st->cv, &st->mu);
	struct sq_conn *c = st->free_list;
	st->free_list = c->next_free;
	c->next_free = NULL;
	pthread_mutex_unlock(&st->mu);
	return &c->base;
}

static void sq_release(struct store_conn *bc)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	struct sq_store *st = (struct sq_store *)bc->st;
	/* A caller that forgot store_done() or store_commit() must not poison the next user. */
	for (int b = 0; b < CACHE_BUCKETS; b++)
		for (struct sq_stmt *s = c->buckets[b]; s != NULL; s = s->next)
			if (s->in_use) {
				log_warn("sqlite: statement released without store_done: %.200s",
				         s->sql);
				sq_done(&s->base);
			}
	if (!sqlite3_get_autocommit(c->db)) {
		log_warn("sqlite: connection released inside a transaction: rolled back");
		sq_rollback(bc);
	}
	fk_restore(c); /* SQLite may have ended a bulk transaction by itself */
	pthread_mutex_lock(&st->mu);
	c->next_free = st->free_list;
	st->free_list = c;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

/*
 * The online backup (store_backup): the copy is written to PATH.partial and
 * renamed over path once complete, so a failed or interrupted backup never
 * leaves a file that looks like a good one. The source connection holds one
 * read transaction for the whole copy: under WAL that is a fixed snapshot
 * (every transaction committed before it began, none after) that writers do
 * not wait for, and the copy never restarts however busy they are. Steps are
 * small so a big database is copied a little at a time. The copy passes
 * PRAGMA quick_check before it replaces anything.
 */
#define BACKUP_STEP_PAGES 64
#define BACKUP_BUSY_TRIES 2000 /* 1 ms apart: 2 s of a lock on the destination */

static int same_file(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

static int sq_backup(struct store_conn *bc, const char *path)
{
	struct sq_conn *c = (struct sq_conn *)bc;
	sqlite3 *dst = NULL;
	sqlite3_backup *bk = NULL;
	char *tmp = NULL;
	int rc = STORE_ERR, in_read = 0;
	const char *src_name = sqlite3_db_filename(c->db, "main");

	if (src_name == NULL || src_name[0] == '\0') {
		log_error("sqlite: backup: an in-memory database has no file to copy");
		return STORE_INVALID;
	}
	if (same_file(src_name, path)) {
		log_error("sqlite: backup: %s is the database itself", path);
		return STORE_INVALID;
	}
	size_t n = strlen(path) + sizeof(".partial");
	tmp = xmalloc(n);
	snprintf(tmp, n, "%s.partial", path);
	unlink(tmp);
	int src = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (src != SQLITE_OK) {
		log_error("sqlite: backup: cannot create %s: %s", tmp,
		          dst ? sqlite3_errmsg(dst) : sqlite3_errstr(src));
		rc = map_err(src) == STORE_OK ? STORE_ERR : map_err(src);
		goto out;
	}
	/* The snapshot: a read transaction, started by the first read. */
	if ((rc = simple(c, "BEGIN")) != 0)
		goto out;
	in_read = 1;
	if ((rc = simple(c, "SELECT count(*) FROM sqlite_schema")) != 0)
		goto out;
	rc = STORE_ERR;
	bk = sqlite3_backup_init(dst, "main", c->db, "main");
	if (bk == NULL) {
		rc = report(dst, sqlite3_errcode(dst), "backup init", NULL);
		goto out;
	}
	int busy = 0;
	for (;;) {
		src = sqlite3_backup_step(bk, BACKUP_STEP_PAGES);
		if (src == SQLITE_DONE)
			break;
		if (src == SQLITE_OK) {
			busy = 0;
			continue;
		}
		if ((src == SQLITE_BUSY || src == SQLITE_LOCKED) && ++busy < BACKUP_BUSY_TRIES) {
			sqlite3_sleep(1);
			continue;
		}
		log_error("sqlite: backup: copying to %s: %s (%d)", tmp, sqlite3_errstr(src), src);
		rc = map_err(src) == STORE_OK ? STORE_ERR : map_err(src);
		goto out;
	}
	src = sqlite3_backup_finish(bk);
	bk = NULL;
	if (src != SQLITE_OK) {
		rc = report(dst, src, "backup finish", NULL);
		goto out;
	}
	/* The copy is checked before it may replace anything. */
	sqlite3_stmt *q = NULL;
	src = sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &q, NULL);
	int ok = src == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
	         strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
	sqlite3_finalize(q);
	if (!ok) {
		log_error("sqlite: backup: the copy %s fails PRAGMA quick_check", tmp);
		goto out;
	}
	src = sqlite3_close(dst);
	dst = NULL;
	if (src != SQLITE_OK) {
		log_error("sqlite: backup: closing %s: %s", tmp, sqlite3_errstr(src));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		log_error("sqlite: backup: cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (bk != NULL)
		sqlite3_backup_finish(bk);
	if (dst != NULL)
		sqlite3_close_v2(dst);
	if (in_read)
		simple(c, "COMMIT");
	if (rc != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return rc;
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .free = sq_free,
    .acquire = sq_acquire,
    .release = sq_release,
    .script = sq_script,
    .begin = sq_begin,
    .begin_bulk = sq_begin_bulk,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .prepare = sq_prepare,
    .bind = sq_bind,
    .step = sq_step,
    .changes = sq_changes,
    .col_int = sq_col_int,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_is_null = sq_col_is_null,
    .done = sq_done,
    .backup = sq_backup,
};
