/*
 * cli/migrate_to: `invito migrate-to postgresql://...` moves an SQLite
 * installation to PostgreSQL.
 *
 * It opens the configured SQLite database and the target (both migrated to
 * the latest schema by store_open, and then required to be at the same
 * version), refuses a target that holds any row, and copies every row of
 * every table, ids included, in batches of multi-row INSERTs, parents before
 * children (the foreign keys, read from the target's catalog, give the
 * order). A column that refers to its own table (patients.managed_by) is
 * copied as NULL and set afterwards, so row order never matters. Then each
 * identity sequence is moved past the largest id, so new rows do not collide
 * with copied ones. Everything on the target happens in one transaction: a
 * failure leaves it empty, ready for another try. The source is held in a
 * write transaction meanwhile (a consistent snapshot; writers wait), so stop
 * the nodes first. Last, the row count of each table is compared on both
 * sides and printed; any difference is exit status 1.
 *
 * The table and column list comes from the target's catalog, never from
 * input; names are checked to be plain identifiers before they are put into
 * SQL, and every value is bound. This file holds the only engine-specific
 * SQL outside src/store/ (the SQLite and PostgreSQL catalogs, setval): it is
 * the one command that speaks to both engines by name.
 * It must never print the target's password (store_url_redact) or row data.
 */
#include "cli/cli.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_NAME     "migrate-to"
#define BATCH_ROWS   1000
#define BATCH_PARAMS 30000 /* below the 32767 parameters a statement may carry */
#define MAX_TABLES   128
#define MAX_COLS     128

struct column {
	const char *name;
	int blob;     /* bytea: bound as a blob */
	int self_ref; /* refers to its own table: copied in a second pass */
};

struct table {
	const char *name;
	struct column cols[MAX_COLS];
	int ncols, has_identity, copied;
	const char *deps[MAX_TABLES]; /* tables it refers to (itself excluded) */
	int ndeps;
	int64_t rows;
};

/* A self-reference to set once every row of the table is in. */
struct fixup {
	int64_t id, ref;
	int col;
};

struct job {
	struct store *src, *dst;
	struct store_conn *s, *d;
	struct arena *a;
	struct table *tables[MAX_TABLES];
	int ntables;
	int batch;
	struct fixup *fix;
	size_t nfix, capfix;
};

/* Table and column names go into SQL text: only plain lower-case identifiers pass. */
static int plain_ident(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 63 || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static struct table *find_table(struct job *j, const char *name)
{
	for (int i = 0; i < j->ntables; i++)
		if (strcmp(j->tables[i]->name, name) == 0)
			return j->tables[i];
	return NULL;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "invito %s: %s: %s\n", CMD_NAME, what, store_strerror(err));
	return -1;
}

/* The target's tables and columns, from information_schema (standard SQL). */
static int read_tables(struct job *j)
{
	struct store_stmt *st = NULL;
	int rc = store_query(j->d, &st,
	                     "SELECT table_name FROM information_schema.tables "
	                     "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
	                     "AND table_name <> 'schema_migrations' ORDER BY table_name",
	                     "");
	if (rc != 0)
		return fail("reading the target's tables", rc);
	while ((rc = store_step(st)) == 1) {
		const char *name = store_col_text(st, 0);
		if (!plain_ident(name) || j->ntables >= MAX_TABLES) {
			fprintf(stderr, "invito %s: unexpected table \"%s\" in the target\n",
			        CMD_NAME, name);
			store_done(st);
			return -1;
		}
		struct table *t = arena_alloc(j->a, sizeof(*t));
		memset(t, 0, sizeof(*t));
		t->name = arena_strdup(j->a, name);
		j->tables[j->ntables++] = t;
	}
	store_done(st);
	if (rc < 0)
		return fail("reading the target's tables", rc);

	for (int i = 0; i < j->ntables; i++) {
		struct table *t = j->tables[i];
		rc = store_query(j->d, &st,
		                 "SELECT column_name, data_type, is_identity "
		                 "FROM information_schema.columns WHERE table_schema = "
		                 "current_schema() AND table_name = ? ORDER BY ordinal_position",
		                 "t", t->name);
		if (rc != 0)
			return fail("reading the target's columns", rc);
		while ((rc = store_step(st)) == 1) {
			const char *col = store_col_text(st, 0);
			if (!plain_ident(col) || t->ncols >= MAX_COLS) {
				fprintf(stderr, "invito %s: unexpected column %s.\"%s\"\n",
				        CMD_NAME, t->name, col);
				store_done(st);
				return -1;
			}
			struct column *c = &t->cols[t->ncols++];
			c->name = arena_strdup(j->a, col);
			c->blob = strcmp(store_col_text(st, 1), "bytea") == 0;
			if (strcmp(store_col_text(st, 2), "YES") == 0 && strcmp(col, "id") == 0)
				t->has_identity = 1;
		}
		store_done(st);
		if (rc < 0)
			return fail("reading the target's columns", rc);
	}
	return 0;
}

/* Foreign keys from the PostgreSQL catalog: the copy order and the self-references. */
static int read_foreign_keys(struct job *j)
{
	struct store_stmt *st = NULL;
	int rc = store_query(j->d, &st,
	                     "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, "
	                     "a.attname FROM pg_constraint c JOIN pg_attribute a ON "
	                     "a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
	                     "WHERE c.contype = 'f' AND c.connamespace = "
	                     "current_schema()::regnamespace ORDER BY 1, 2",
	                     "");
	if (rc != 0)
		return fail("reading the target's foreign keys", rc);
	while ((rc = store_step(st)) == 1) {
		struct table *from = find_table(j, store_col_text(st, 0));
		const char *to = store_col_text(st, 1), *col = store_col_text(st, 2);
		if (from == NULL)
			continue; /* schema_migrations refers to nothing; anything else is ours */
		if (strcmp(from->name, to) == 0) {
			for (int k = 0; k < from->ncols; k++)
				if (strcmp(from->cols[k].name, col) == 0)
					from->cols[k].self_ref = 1;
			continue;
		}
		struct table *dep = find_table(j, to);
		if (dep != NULL && from->ndeps < MAX_TABLES)
			from->deps[from->ndeps++] = dep->name;
	}
	store_done(st);
	return rc < 0 ? fail("reading the target's foreign keys", rc) : 0;
}

/* The source must hold the same tables, each with the same number of columns. */
static int check_source(struct job *j)
{
	struct store_stmt *st = NULL;
	int rc = store_query(j->s, &st,
	                     "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
	                     "LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations'",
	                     "");
	if (rc != 0)
		return fail("reading the SQLite tables", rc);
	int bad = 0;
	while ((rc = store_step(st)) == 1) {
		if (find_table(j, store_col_text(st, 0)) == NULL) {
			fprintf(stderr, "invito %s: table %s is only in the SQLite database\n",
			        CMD_NAME, store_col_text(st, 0));
			bad = 1;
		}
	}
	store_done(st);
	if (rc < 0)
		return fail("reading the SQLite tables", rc);
	for (int i = 0; i < j->ntables && !bad; i++) {
		struct table *t = j->tables[i];
		int64_t n = 0;
		rc = store_scalar(j->s, &n, "SELECT COUNT(*) FROM pragma_table_info(?)", "t",
		                  t->name);
		if (rc != 0)
			return fail("reading the SQLite columns", rc);
		if (n != t->ncols) {
			fprintf(stderr,
			        "invito %s: table %s has %lld columns in SQLite and %d in "
			        "PostgreSQL\n",
			        CMD_NAME, t->name, (long long)n, t->ncols);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* Refuses a target with any row: migrate-to fills a new database, it never merges. */
static int check_target_empty(struct job *j)
{
	for (int i = 0; i < j->ntables; i++) {
		int64_t any = 0;
		char *sql =
		    arena_printf(j->a, "SELECT COUNT(*) FROM (SELECT 1 FROM \"%s\" LIMIT 1) x",
		                 j->tables[i]->name);
		int rc = store_scalar(j->d, &any, sql, "");
		if (rc != 0)
			return fail("reading the target", rc);
		if (any) {
			fprintf(stderr,
			        "invito %s: the target is not empty (table %s has rows); give it a "
			        "new, empty database\n",
			        CMD_NAME, j->tables[i]->name);
			return -1;
		}
	}
	return 0;
}

/* The next table whose parents are all copied; NULL when none is left. */
static struct table *next_table(struct job *j)
{
	for (int i = 0; i < j->ntables; i++) {
		struct table *t = j->tables[i];
		if (t->copied)
			continue;
		int ready = 1;
		for (int k = 0; k < t->ndeps && ready; k++)
			ready = find_table(j, t->deps[k])->copied;
		if (ready)
			return t;
	}
	return NULL;
}

static char *column_list(struct job *j, const struct table *t)
{
	struct buf b;
	buf_init(&b, 0);
	for (int k = 0; k < t->ncols; k++)
		buf_printf(&b, "%s\"%s\"", k ? ", " : "", t->cols[k].name);
	char *s = arena_strdup(j->a, b.data);
	buf_free(&b);
	return s;
}

/* INSERT INTO t (cols) VALUES (?, ...), ... for rows rows. */
static char *insert_sql(const struct table *t, const char *cols, int rows)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "INSERT INTO \"%s\" (%s) VALUES ", t->name, cols);
	for (int r = 0; r < rows; r++) {
		buf_puts(&b, r ? ", (" : "(");
		for (int k = 0; k < t->ncols; k++)
			buf_puts(&b, k ? ", ?" : "?");
		buf_putc(&b, ')');
	}
	return buf_steal(&b);
}

static void add_fixup(struct job *j, int64_t id, int64_t ref, int col)
{
	if (j->nfix == j->capfix) {
		j->capfix = j->capfix ? j->capfix * 2 : 1024;
		j->fix = xrealloc(j->fix, j->capfix * sizeof(*j->fix));
	}
	j->fix[j->nfix++] = (struct fixup){id, ref, col};
}

/* One value of a row kept for the next batch: text, a blob, or NULL (p NULL). */
struct val {
	const char *p;
	size_t len;
	int blob;
};

/* Copies the current source row into v (ncols values; the strings into a). */
static void keep_row(struct job *j, const struct table *t, struct store_stmt *src, struct val *v,
                     struct arena *a)
{
	for (int k = 0; k < t->ncols; k++) {
		const struct column *c = &t->cols[k];
		v[k] = (struct val){NULL, 0, 0};
		if (store_col_is_null(src, k))
			continue;
		if (c->self_ref) {
			/* NULL for now: set once the whole table is in (the id is column 0) */
			add_fixup(j, store_col_int(src, 0), store_col_int(src, k), k);
		} else if (c->blob) {
			size_t len = 0;
			const void *p = store_col_blob(src, k, &len);
			char *copy = arena_alloc(a, len + 1);
			if (len > 0)
				memcpy(copy, p, len);
			v[k] = (struct val){copy, len, 1};
		} else {
			v[k].p = arena_strdup(a, store_col_text(src, k));
		}
	}
}

/* Inserts rows kept rows with one multi-row INSERT (sql, or one built for a shorter tail). */
static int insert_rows(struct job *j, const struct table *t, const char *cols, const char *sql,
                       int per, const struct val *v, int rows)
{
	struct store_stmt *ins = NULL;
	char *tail = rows == per ? NULL : insert_sql(t, cols, rows);
	int rc = store_prepare(j->d, &ins, tail ? tail : sql);
	for (int i = 0; rc == 0 && i < rows * t->ncols; i++) {
		if (v[i].blob)
			rc = store_bind(ins, "b", v[i].p, v[i].len);
		else
			rc = store_bind(ins, "t", v[i].p);
	}
	if (rc == 0 && (rc = store_step(ins)) > 0)
		rc = 0;
	store_done(ins);
	free(tail);
	return rc;
}

static int copy_table(struct job *j, struct table *t)
{
	int rc = 0, kept = 0;
	struct store_stmt *src = NULL;
	struct arena *batch = arena_create();
	const char *cols = column_list(j, t);
	int per = BATCH_PARAMS / t->ncols;
	if (per > j->batch)
		per = j->batch;
	if (per < 1)
		per = 1;
	char *full = insert_sql(t, cols, per);
	struct val *v = xcalloc((size_t)per * (size_t)t->ncols, sizeof(*v));
	int self = 0;
	for (int k = 0; k < t->ncols; k++)
		self |= t->cols[k].self_ref;
	if (self && strcmp(t->cols[0].name, "id") != 0) {
		fprintf(stderr, "invito %s: %s refers to itself but has no leading id column\n",
		        CMD_NAME, t->name);
		rc = STORE_INVALID;
		goto out;
	}
	j->nfix = 0;
	char *sel = arena_printf(j->a, "SELECT %s FROM \"%s\"%s", cols, t->name,
	                         t->has_identity ? " ORDER BY id" : "");
	if ((rc = store_query(j->s, &src, sel, "")) != 0)
		goto out;
	while ((rc = store_step(src)) == 1) {
		keep_row(j, t, src, v + (size_t)kept * (size_t)t->ncols, batch);
		t->rows++;
		if (++kept == per) {
			if ((rc = insert_rows(j, t, cols, full, per, v, kept)) != 0)
				goto out;
			kept = 0;
			arena_free(batch);
			batch = arena_create();
		}
	}
	if (rc < 0)
		goto out;
	if (kept > 0 && (rc = insert_rows(j, t, cols, full, per, v, kept)) != 0)
		goto out;
	for (size_t i = 0; i < j->nfix; i++) {
		const struct fixup *f = &j->fix[i];
		char *upd = arena_printf(j->a, "UPDATE \"%s\" SET \"%s\" = ? WHERE id = ?", t->name,
		                         t->cols[f->col].name);
		if ((rc = store_exec(j->d, NULL, upd, "ii", f->ref, f->id)) != 0)
			goto out;
	}
	rc = 0;
out:
	store_done(src);
	arena_free(batch);
	free(full);
	free(v);
	return rc;
}

/* Moves each identity sequence past the largest copied id. */
static int reset_sequences(struct job *j)
{
	for (int i = 0; i < j->ntables; i++) {
		struct table *t = j->tables[i];
		if (!t->has_identity)
			continue;
		int64_t next = 0;
		char *sql = arena_printf(j->a,
		                         "SELECT setval(pg_get_serial_sequence(?, 'id'), "
		                         "COALESCE(MAX(id), 0) + 1, false) FROM \"%s\"",
		                         t->name);
		int rc = store_scalar(j->d, &next, sql, "t", t->name);
		if (rc != 0)
			return fail("resetting the id sequences", rc);
	}
	return 0;
}

static int count_rows(struct store_conn *c, struct arena *a, const char *table, int64_t *n)
{
	char *sql = arena_printf(a, "SELECT COUNT(*) FROM \"%s\"", table);
	return store_scalar(c, n, sql, "");
}

/* Compares and prints the row count of every table; -1 on any difference. */
static int verify(struct job *j)
{
	int bad = 0;
	int64_t total = 0;
	printf("%-28s %12s %12s\n", "table", "sqlite", "postgresql");
	for (int i = 0; i < j->ntables; i++) {
		struct table *t = j->tables[i];
		int64_t a = -1, b = -1;
		int rc = count_rows(j->s, j->a, t->name, &a);
		if (rc == 0)
			rc = count_rows(j->d, j->a, t->name, &b);
		if (rc != 0)
			return fail("counting rows", rc);
		int ok = a == b && b == t->rows;
		printf("%-28s %12lld %12lld%s\n", t->name, (long long)a, (long long)b,
		       ok ? "" : "  MISMATCH");
		bad |= !ok;
		total += b;
	}
	printf("%-28s %12s %12lld\n", "total", "", (long long)total);
	return bad ? -1 : 0;
}

static int copy_all(struct job *j)
{
	int rc = store_begin(j->s);
	if (rc != 0)
		return fail("locking the SQLite database", rc);
	if ((rc = store_begin(j->d)) != 0) {
		store_rollback(j->s);
		return fail("starting the copy", rc);
	}
	struct table *t;
	while ((t = next_table(j)) != NULL) {
		int64_t t0 = now_ms();
		if ((rc = copy_table(j, t)) != 0) {
			fail(arena_printf(j->a, "copying %s", t->name), rc);
			goto fail;
		}
		t->copied = 1;
		printf("copied %-28s %10lld rows in %.1f s\n", t->name, (long long)t->rows,
		       (double)(now_ms() - t0) / 1000.0);
		fflush(stdout);
	}
	for (int i = 0; i < j->ntables; i++) {
		if (!j->tables[i]->copied) {
			fprintf(stderr, "invito %s: foreign keys form a cycle at %s\n", CMD_NAME,
			        j->tables[i]->name);
			goto fail;
		}
	}
	if (reset_sequences(j) != 0)
		goto fail;
	if ((rc = store_commit(j->d)) != 0) {
		fail("committing the copy", rc);
		goto fail;
	}
	store_rollback(j->s);
	return 0;
fail:
	store_rollback(j->d);
	store_rollback(j->s);
	return -1;
}

static int usage(void)
{
	printf("usage: invito migrate-to postgresql://USER:PASSWORD@HOST/DB [--batch N]\n\n"
	       "Copies every row of the configured SQLite database (setting \"database\") into "
	       "a new, empty PostgreSQL database, migrated first to the same schema version; "
	       "ids are kept and the id sequences moved past them. Stop every node first. "
	       "Prints the row count of each table on both sides and exits 1 when any "
	       "differs.\n  --batch N   rows per INSERT (default %d)\n",
	       BATCH_ROWS);
	return 0;
}

int cli_migrate_to(int argc, char **argv, struct config *cfg)
{
	struct job j = {.batch = BATCH_ROWS};
	const char *target = NULL;
	char shown[1024];
	int ret = 1, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage();
		if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			int64_t n;
			if (parse_i64(argv[++i], 1, 100000, &n) < 0)
				return cli_usage_error(CMD_NAME, "--batch must be 1 to 100000");
			j.batch = (int)n;
		} else if (argv[i][0] != '-' && target == NULL) {
			target = argv[i];
		} else {
			return cli_usage_error(CMD_NAME,
			                       "unexpected argument %s (usage: invito migrate-to "
			                       "postgresql://... [--batch N])",
			                       argv[i]);
		}
	}
	if (target == NULL ||
	    (strncmp(target, "postgresql://", 13) != 0 && strncmp(target, "postgres://", 11) != 0))
		return cli_usage_error(CMD_NAME, "the target must be a postgresql:// URL");
	if (strstr(cfg->database, "://") != NULL) {
		fprintf(stderr, "invito %s: the configured database must be SQLite (it is %s)\n",
		        CMD_NAME, store_url_redact(cfg->database, shown, sizeof(shown)));
		return 1;
	}
	store_url_redact(target, shown, sizeof(shown));
	j.a = arena_create();
	int64_t t0 = now_ms();
	if ((rc = store_open(&j.src, cfg->database, 1)) != 0) {
		fprintf(stderr, "invito %s: cannot open %s: %s\n", CMD_NAME, cfg->database,
		        store_strerror(rc));
		goto out;
	}
	if ((rc = store_open(&j.dst, target, 1)) != 0) {
		fprintf(stderr, "invito %s: cannot open %s: %s\n", CMD_NAME, shown,
		        store_strerror(rc));
		goto out;
	}
	int vs = store_schema_version(j.src), vd = store_schema_version(j.dst);
	if (vs < 0 || vd < 0 || vs != vd) {
		fprintf(stderr, "invito %s: schema versions differ (SQLite %d, PostgreSQL %d)\n",
		        CMD_NAME, vs, vd);
		goto out;
	}
	j.s = store_acquire(j.src);
	j.d = store_acquire(j.dst);
	if (read_tables(&j) != 0 || read_foreign_keys(&j) != 0 || check_source(&j) != 0 ||
	    check_target_empty(&j) != 0)
		goto out;
	printf("copying %s (schema version %d) to %s\n", cfg->database, vs, shown);
	if (copy_all(&j) != 0)
		goto out;
	if (verify(&j) != 0) {
		fprintf(stderr, "invito %s: row counts differ: do not use the target\n", CMD_NAME);
		goto out;
	}
	printf("done in %.1f s: every row copied and counted\n", (double)(now_ms() - t0) / 1000.0);
	ret = 0;
out:
	store_release(j.s);
	store_release(j.d);
	store_free(j.src);
	store_free(j.dst);
	arena_free(j.a);
	free(j.fix);
	return ret;
}
