/*
 * Tests for store/backup.c (and the SQLite backend's backup hook): a copy
 * taken while another thread keeps committing holds every row committed
 * before the copy began, and no half transaction; a path that cannot be
 * written is an error that leaves nothing behind; the database itself is
 * never a target; PostgreSQL is refused (pg_dump is its tool).
 */
#include "fixture.h"

#include "lib/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

TestSuite(store_backup, .init = fx_setup, .fini = fx_teardown);

#define PRELOAD 3000 /* rows of ~1 KB before the copy: several hundred pages, many steps */

struct writer {
	struct store *st;
	atomic_long committed; /* rows the writer has committed (seq 1..committed) */
	atomic_int stop;
	int rc;
};

/* Inserts audit rows with subject_id 1, 2, 3, ... each in its own transaction. */
static void *writer_run(void *arg)
{
	struct writer *w = arg;
	struct store_conn *c = store_acquire(w->st);
	for (long seq = 1; !atomic_load(&w->stop) && seq <= 1000000; seq++) {
		int rc = store_begin(c);
		if (rc == 0)
			rc = store_audit(c, ORG_A, "system", 0, "backup.test", "row", seq, NULL,
			                 "w");
		if (rc == 0)
			rc = store_audit(c, ORG_A, "system", 0, "backup.pair", "row", seq, NULL,
			                 "w");
		if (rc == 0)
			rc = store_commit(c);
		else
			store_rollback(c);
		if (rc != 0) {
			w->rc = rc;
			break;
		}
		atomic_store(&w->committed, seq);
	}
	store_release(c);
	return NULL;
}

static void preload(void)
{
	char detail[1001];
	memset(detail, 'x', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	cr_assert_eq(store_begin(fx_conn), 0);
	for (int i = 0; i < PRELOAD; i++)
		cr_assert_eq(store_audit(fx_conn, ORG_A, "system", 0, "backup.preload", "row",
		                         i + 1, NULL, detail),
		             0);
	cr_assert_eq(store_commit(fx_conn), 0);
}

static int64_t count_in(struct store *st, const char *action)
{
	int64_t n = -1;
	struct store_conn *c = store_acquire(st);
	cr_assert_eq(
	    store_scalar(c, &n, "SELECT count(*) FROM audit_events WHERE action = ?", "t", action),
	    0);
	store_release(c);
	return n;
}

static int64_t max_in(struct store *st, const char *action)
{
	int64_t n = -1;
	struct store_conn *c = store_acquire(st);
	cr_assert_eq(
	    store_scalar(c, &n,
	                 "SELECT coalesce(max(subject_id), 0) FROM audit_events WHERE action = ?",
	                 "t", action),
	    0);
	store_release(c);
	return n;
}

static void copy_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", fx_dir, name);
}

static void remove_db(const char *path)
{
	const char *sfx[] = {"", "-wal", "-shm", ".partial"};
	char p[200];
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

Test(store_backup, copy_while_another_thread_writes)
{
	if (fx_pg() != NULL) {
		cr_expect_eq(store_backup(fx_store, "/tmp/invito-backup-never.db"), STORE_INVALID);
		return;
	}
	preload();
	struct writer w = {.st = fx_store};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, writer_run, &w), 0);
	/* The writer is well under way before the copy starts. */
	for (int i = 0; i < 5000 && atomic_load(&w.committed) < 50; i++)
		usleep(1000);
	long before = atomic_load(&w.committed);
	char path[200];
	copy_path(path, sizeof(path), "copy.db");
	int rc = store_backup(fx_store, path);
	long after = atomic_load(&w.committed);
	atomic_store(&w.stop, 1);
	pthread_join(th, NULL);
	cr_assert_eq(rc, 0, "store_backup: %s", store_strerror(rc));
	cr_assert_eq(w.rc, 0, "writer: %s", store_strerror(w.rc));
	cr_assert_gt(before, 0);
	cr_log_info("backup: %ld rows committed before the copy, %ld when it returned", before,
	            after);

	/* Restore: open the copy as a database of its own. */
	struct store *copy = NULL;
	cr_assert_eq(store_open(&copy, path, 1), 0);
	cr_expect_eq(count_in(copy, "backup.preload"), PRELOAD);
	int64_t n = count_in(copy, "backup.test"), top = max_in(copy, "backup.test");
	/* Every row committed before the copy began is there... */
	cr_expect_geq(n, before, "%lld rows in the copy, %ld committed before it began",
	              (long long)n, before);
	/* ...as one unbroken prefix (no row skipped), and both rows of each transaction. */
	cr_expect_eq(top, n);
	cr_expect_eq(count_in(copy, "backup.pair"), n);
	cr_expect_leq(n, after);
	store_free(copy);
	struct stat sb;
	char partial[220];
	snprintf(partial, sizeof(partial), "%s.partial", path);
	cr_expect_neq(stat(partial, &sb), 0, "the .partial file is left behind");
	remove_db(path);
}

Test(store_backup, replaces_an_existing_file)
{
	if (fx_pg() != NULL)
		return;
	preload();
	char path[200];
	copy_path(path, sizeof(path), "old.db");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not a database\n", f);
	fclose(f);
	cr_assert_eq(store_backup(fx_store, path), 0);
	struct store *copy = NULL;
	cr_assert_eq(store_open(&copy, path, 1), 0);
	cr_expect_eq(count_in(copy, "backup.preload"), PRELOAD);
	store_free(copy);
	remove_db(path);
}

Test(store_backup, unwritable_path_is_an_error)
{
	if (fx_pg() != NULL)
		return;
	char path[200];
	copy_path(path, sizeof(path), "no/such/dir/copy.db");
	int rc = store_backup(fx_store, path);
	cr_expect_lt(rc, 0);
	cr_expect_neq(rc, STORE_INVALID);
	struct stat sb;
	cr_expect_neq(stat(path, &sb), 0);
	/* A directory in the way of the final name: the copy is made, the rename fails,
	 * and the partial copy is removed. */
	copy_path(path, sizeof(path), "adir");
	cr_assert_eq(mkdir(path, 0700), 0);
	char inner[220];
	snprintf(inner, sizeof(inner), "%s/x", path);
	FILE *f = fopen(inner, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_expect_lt(store_backup(fx_store, path), 0);
	char partial[220];
	snprintf(partial, sizeof(partial), "%s.partial", path);
	cr_expect_neq(stat(partial, &sb), 0, "the .partial file is left behind");
	unlink(inner);
	rmdir(path);
	/* The store still works afterwards. */
	cr_expect_eq(store_audit(fx_conn, ORG_A, "system", 0, "after", NULL, 0, NULL, NULL), 0);
}

Test(store_backup, never_over_the_database_itself)
{
	if (fx_pg() != NULL)
		return;
	cr_expect_eq(store_backup(fx_store, fx_path), STORE_INVALID);
	cr_expect_eq(store_backup(fx_store, ""), STORE_INVALID);
	cr_expect_eq(store_backup(NULL, "/tmp/x.db"), STORE_INVALID);
	/* Still a database. */
	cr_expect_eq(count_in(fx_store, "backup.preload"), 0);
}
