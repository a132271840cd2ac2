/*
 * bench/bulk_invite: invite_bulk() of 100,000 patients on SQLite (tokens,
 * invitations, rendered outbox messages, audit events, one transaction)
 * against a baseline in the same run: inserting the same number of invitation
 * rows with one bare prepared statement, on an identical database (same
 * schema, indexes and pragmas). Prints both times and the ratio.
 * Target (issue 3): invite_bulk <= 2 s and <= 3x the baseline.
 *
 * Build and run (from the repository root):
 *   make B=build/invite build/invite/libinvito.a
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/bulk_invite.c build/invite/libinvito.a \
 *      $(pkg-config --libs libmicrohttpd sqlite3 libsodium libutf8proc libcurl jansson libpq) \
 *      -lcsv -lzxcvbn -lpthread -o build/invite/bulk_invite
 *   build/invite/bulk_invite [patients]
 * It writes two databases in a new directory under /tmp and removes them.
 *
 * On PostgreSQL (issue 7): give a postgresql:// URL after the number of
 * patients, e.g. on a throwaway server:
 *   scripts/pg-test.sh sh -c 'build/invite/bulk_invite 100000 "$INVITO_TEST_PG"'
 * The two databases are then two new schemas on that server (dropped at the
 * end), and the baseline is the same bare prepared INSERT through libpq, one
 * row per round trip, in one transaction, on the same server in the same run.
 */
#include "invite/invite.h"
#include "lib/util.h"
#include "store/store.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOW ((int64_t)1800000000)

/* CPU milliseconds of this process: the machine may be shared, wall time alone misleads. */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bulk_invite: %s failed (%d)\n", what, rc);
		exit(1);
	}
}

/* A database with a portal, an organisation and n patients (every one has a
 * mobile, every third an e-mail too). Returns the organisation id. */
static int64_t populate(struct store *st, int64_t n, int64_t **ids)
{
	struct store_conn *c = store_acquire(st);
	int64_t portal = 0, org = 0;
	check(store_insert(c, &portal,
	                   "INSERT INTO portals (name, base_url) VALUES ('Portal', "
	                   "'https://portal.example') RETURNING id",
	                   ""),
	      "portal");
	check(
	    store_insert(c, &org,
	                 "INSERT INTO organisations (kind, portal_id, name) VALUES ('customer', ?, "
	                 "'Clinic') RETURNING id",
	                 "i", portal),
	    "org");
	*ids = xmalloc((size_t)n * sizeof(**ids));
	check(store_begin(c), "begin");
	for (int64_t i = 0; i < n; i++) {
		char mobile[32], email[48], family[32];
		snprintf(mobile, sizeof(mobile), "+39333%07" PRId64, i);
		snprintf(email, sizeof(email), "p%" PRId64 "@example.org", i);
		snprintf(family, sizeof(family), "family%" PRId64, i);
		check(store_insert(
		          c, &(*ids)[i],
		          "INSERT INTO patients (org_id, given_name, family_name, family_key, "
		          "search_key, search_key_fg, birth_date, mobile, email, lang, "
		          "created_at, updated_at) VALUES (?, 'Anna', ?, ?, ?, ?, '1980-01-01', "
		          "?, ?, ?, ?, ?) RETURNING id",
		          "itttttttii", org, family, family, family, family, mobile,
		          i % 3 == 0 ? email : NULL, i % 2 ? "it" : "en", NOW, NOW),
		      "patient");
	}
	check(store_commit(c), "commit");
	store_release(c);
	return org;
}

/* The baseline: n invitation rows with one bare prepared statement, one transaction. */
static double baseline(const char *path, int64_t org, const int64_t *ids, int64_t n, double *cpu)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(
	        db,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
	        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;",
	        NULL, NULL, NULL) != SQLITE_OK)
		check(-1, "baseline open");
	int64_t t0 = now_ms();
	double c0 = cpu_ms();
	check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "baseline begin");
	check(sqlite3_prepare_v2(
	          db,
	          "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	          "created_by_staff, channel, target, created_at, expires_at, state) "
	          "VALUES (?, 1, ?, ?, NULL, 'sms', NULL, ?, ?, 'pending')",
	          -1, &s, NULL),
	      "baseline prepare");
	for (int64_t i = 0; i < n; i++) {
		unsigned char h[32];
		randombytes_buf(h, sizeof(h));
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_int64(s, 2, org);
		sqlite3_bind_blob(s, 3, h, sizeof(h), SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 4, NOW);
		sqlite3_bind_int64(s, 5, NOW + 30 * 86400);
		if (sqlite3_step(s) != SQLITE_DONE)
			check(-1, "baseline insert");
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "baseline commit");
	double ms = (double)(now_ms() - t0);
	*cpu = cpu_ms() - c0;
	sqlite3_close(db);
	return ms;
}

/* --- PostgreSQL mode ------------------------------------------------------ */

/* DROP SCHEMA ... CASCADE lists every table as a notice: not for the bench's output. */
static void pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Runs one statement on the server (schema creation and removal). */
static void pg_admin(const char *url, const char *sql)
{
	PGconn *pg = PQconnectdb(url);
	PQsetNoticeProcessor(pg, pg_quiet, NULL);
	PGresult *res = PQstatus(pg) == CONNECTION_OK ? PQexec(pg, sql) : NULL;
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bulk_invite: %s: %s", sql, PQerrorMessage(pg));
		exit(1);
	}
	PQclear(res);
	PQfinish(pg);
}

/* The server URL with schema first on the search path. */
static void pg_schema_url(const char *url, const char *schema, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s%coptions=-csearch_path%%3D%s", url,
	                     strchr(url, '?') ? '&' : '?', schema) >= size)
		check(-1, "URL too long");
}

static void pg_check(PGconn *pg, PGresult *res, ExecStatusType want, const char *what)
{
	if (PQresultStatus(res) != want) {
		fprintf(stderr, "bulk_invite: %s: %s", what, PQerrorMessage(pg));
		exit(1);
	}
	PQclear(res);
}

/* The PostgreSQL baseline: n invitation rows with one bare prepared INSERT, one transaction. */
static double baseline_pg(const char *url, int64_t org, const int64_t *ids, int64_t n, double *cpu)
{
	PGconn *pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK)
		check(-1, "baseline connect");
	int64_t t0 = now_ms();
	double c0 = cpu_ms();
	pg_check(pg, PQexec(pg, "BEGIN"), PGRES_COMMAND_OK, "baseline begin");
	pg_check(pg,
	         PQprepare(pg, "ins",
	                   "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	                   "created_by_staff, channel, target, created_at, expires_at, state) "
	                   "VALUES ($1, 1, $2, $3, NULL, 'sms', NULL, $4, $5, 'pending')",
	                   5, NULL),
	         PGRES_COMMAND_OK, "baseline prepare");
	char pid[24], porg[24], pnow[24], pexp[24];
	snprintf(porg, sizeof(porg), "%" PRId64, org);
	snprintf(pnow, sizeof(pnow), "%" PRId64, NOW);
	snprintf(pexp, sizeof(pexp), "%" PRId64, NOW + 30 * 86400);
	for (int64_t i = 0; i < n; i++) {
		unsigned char h[32];
		randombytes_buf(h, sizeof(h));
		snprintf(pid, sizeof(pid), "%" PRId64, ids[i]);
		const char *vals[5] = {pid, porg, (const char *)h, pnow, pexp};
		int lens[5] = {0, 0, (int)sizeof(h), 0, 0};
		int fmts[5] = {0, 0, 1, 0, 0};
		pg_check(pg, PQexecPrepared(pg, "ins", 5, vals, lens, fmts, 0), PGRES_COMMAND_OK,
		         "baseline insert");
	}
	pg_check(pg, PQexec(pg, "COMMIT"), PGRES_COMMAND_OK, "baseline commit");
	double ms = (double)(now_ms() - t0);
	*cpu = cpu_ms() - c0;
	PQfinish(pg);
	return ms;
}

static void remove_db(const char *path)
{
	const char *sfx[] = {"", "-wal", "-shm"};
	char p[256];
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

int main(int argc, char **argv)
{
	int64_t n = 100000;
	const char *pg = argc > 2 ? argv[2] : NULL; /* postgresql://...: PostgreSQL mode */
	if ((argc > 1 && parse_i64(argv[1], 1, 10000000, &n) != 0) || argc > 3 ||
	    (pg != NULL && strncmp(pg, "postgres", 8) != 0)) {
		fprintf(stderr, "usage: bulk_invite [patients [postgresql://...]]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	char dir[] = "/tmp/invito-bench-XXXXXX", a[1024], b[1024];
	char schema_a[64] = "", schema_b[64] = "";
	if (pg != NULL) {
		char sql[128];
		snprintf(schema_a, sizeof(schema_a), "invito_bench_%ld_a", (long)getpid());
		snprintf(schema_b, sizeof(schema_b), "invito_bench_%ld_b", (long)getpid());
		snprintf(sql, sizeof(sql), "CREATE SCHEMA %s; CREATE SCHEMA %s", schema_a,
		         schema_b);
		pg_admin(pg, sql);
		pg_schema_url(pg, schema_a, a, sizeof(a));
		pg_schema_url(pg, schema_b, b, sizeof(b));
	} else {
		if (mkdtemp(dir) == NULL)
			return 1;
		snprintf(a, sizeof(a), "%s/invite.db", dir);
		snprintf(b, sizeof(b), "%s/baseline.db", dir);
	}

	struct store *sa = NULL, *sb = NULL;
	int64_t *ids = NULL, *ids_b = NULL;
	check(store_open(&sa, a, 2), "open");
	check(store_open(&sb, b, 2), "open baseline");
	int64_t org = populate(sa, n, &ids);
	int64_t org_b = populate(sb, n, &ids_b);
	store_free(sb);

	double base_cpu = 0;
	double base_ms = pg != NULL ? baseline_pg(b, org_b, ids_b, n, &base_cpu)
	                            : baseline(b, org_b, ids_b, n, &base_cpu);

	struct store_conn *c = store_acquire(sa);
	struct invite_bulk_report rep;
	int64_t t0 = now_ms();
	double c0 = cpu_ms();
	check(invite_bulk(c, NULL, org, 0, ids, (size_t)n, "bench-batch", "127.0.0.1", NOW, &rep),
	      "invite_bulk");
	double bulk_ms = (double)(now_ms() - t0);
	double bulk_cpu = cpu_ms() - c0;
	int64_t msgs = 0;
	check(store_scalar(c, &msgs, "SELECT COUNT(*) FROM messages", ""), "count");
	store_release(c);
	store_free(sa);

	printf("patients:                 %" PRId64 "%s\n", n,
	       pg != NULL ? " (PostgreSQL, local server)" : " (SQLite)");
	printf("invite_bulk:              %.0f ms wall, %.0f ms CPU  (%d invitations, %" PRId64
	       " messages)\n",
	       bulk_ms, bulk_cpu, rep.invited, msgs);
	printf("baseline (bare INSERT):   %.0f ms wall, %.0f ms CPU  (%" PRId64
	       " invitation rows)\n",
	       base_ms, base_cpu, n);
	printf("ratio:                    %.2fx wall, %.2fx CPU  (target <= 3x, <= 2000 ms)\n",
	       bulk_ms / base_ms, bulk_cpu / base_cpu);
	free(ids);
	free(ids_b);
	if (pg != NULL) {
		char sql[160];
		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE; DROP SCHEMA %s CASCADE",
		         schema_a, schema_b);
		pg_admin(pg, sql);
		return 0;
	}
	remove_db(a);
	remove_db(b);
	rmdir(dir);
	return 0;
}
