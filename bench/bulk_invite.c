/*
 * bench/bulk_invite: invite_bulk() of 100,000 patients on SQLite (tokens,
 * invitations, rendered outbox messages, the batch row and the audit event,
 * one transaction) against a baseline in the same run: inserting THE SAME
 * ROWS (every invitation and every message that run wrote, read back from
 * its database untimed) with one bare prepared statement per table, one row
 * per step, in one transaction, into an identical database (same schema,
 * indexes, pragmas, the same 100,000 patients). Prints both times and the
 * ratio. Target (issue 3): invite_bulk <= 2 s and <= 3x the baseline.
 *
 * invite_bulk reads every row its writes refer to in its own transaction, so
 * on SQLite it runs without the per-row foreign-key lookups (store_begin_bulk).
 * The baseline keeps them, as any statement on a store connection does; a
 * second baseline without them (a third identical database) is printed too,
 * so that the ratio against the same amount of checking is on record.
 *
 * Until migration 010 the baseline inserted the invitation rows only: the
 * messages, more than half of what a bulk invite writes, were not in it, and
 * the CHECK constraints that 010 rewrote made each of those invitation rows
 * cost three times what it does now, so the old ratio compared two different
 * amounts of work.
 *
 * Build and run (from the repository root; bench/run.sh does the same):
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
 * end), and the baseline is the same bare prepared INSERTs through libpq, one
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

/* The rows a bulk run wrote, read back from its database (not timed). */
struct inv_rec {
	int64_t patient_id, portal_id, org_id, staff_id, created_at, expires_at;
	unsigned char hash[32];
	char channel[8];
};
struct msg_rec {
	int64_t org_id, patient_id, created_at;
	char *kind, *channel, *recipient, *subject, *body; /* malloc'd; subject may be NULL */
};
struct rows {
	struct inv_rec *inv;
	struct msg_rec *msg;
	int64_t ninv, nmsg;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void read_rows(struct store_conn *c, struct rows *r)
{
	struct store_stmt *s = NULL;
	check(store_scalar(c, &r->ninv, "SELECT COUNT(*) FROM invitations", ""), "count");
	check(store_scalar(c, &r->nmsg, "SELECT COUNT(*) FROM messages", ""), "count");
	r->inv = xcalloc((size_t)r->ninv + 1, sizeof(*r->inv));
	r->msg = xcalloc((size_t)r->nmsg + 1, sizeof(*r->msg));
	check(
	    store_query(c, &s,
	                "SELECT patient_id, portal_id, org_id, COALESCE(created_by_staff, 0), "
	                "created_at, expires_at, token_hash, channel FROM invitations ORDER BY id",
	                ""),
	    "read invitations");
	for (int64_t i = 0; i < r->ninv && store_step(s) == 1; i++) {
		struct inv_rec *v = &r->inv[i];
		size_t len = 0;
		v->patient_id = store_col_int(s, 0);
		v->portal_id = store_col_int(s, 1);
		v->org_id = store_col_int(s, 2);
		v->staff_id = store_col_int(s, 3);
		v->created_at = store_col_int(s, 4);
		v->expires_at = store_col_int(s, 5);
		const void *h = store_col_blob(s, 6, &len);
		if (h == NULL || len != sizeof(v->hash))
			check(-1, "token_hash");
		memcpy(v->hash, h, sizeof(v->hash));
		snprintf(v->channel, sizeof(v->channel), "%s", store_col_text(s, 7));
	}
	store_done(s);
	check(
	    store_query(c, &s,
	                "SELECT org_id, patient_id, created_at, kind, channel, recipient, subject, "
	                "body FROM messages ORDER BY id",
	                ""),
	    "read messages");
	for (int64_t i = 0; i < r->nmsg && store_step(s) == 1; i++) {
		struct msg_rec *m = &r->msg[i];
		m->org_id = store_col_int(s, 0);
		m->patient_id = store_col_int(s, 1);
		m->created_at = store_col_int(s, 2);
		m->kind = dup_or_null(store_col_text(s, 3));
		m->channel = dup_or_null(store_col_text(s, 4));
		m->recipient = dup_or_null(store_col_text(s, 5));
		m->subject = dup_or_null(store_col_text(s, 6));
		m->body = dup_or_null(store_col_text(s, 7));
	}
	store_done(s);
}

static void rows_free(struct rows *r)
{
	for (int64_t i = 0; i < r->nmsg; i++) {
		free(r->msg[i].kind);
		free(r->msg[i].channel);
		free(r->msg[i].recipient);
		free(r->msg[i].subject);
		free(r->msg[i].body);
	}
	free(r->inv);
	free(r->msg);
}

#define BASE_INV                                                                                   \
	"INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, created_by_staff, "   \
	"channel, target, created_at, expires_at, state) "
#define BASE_MSG                                                                                   \
	"INSERT INTO messages (org_id, patient_id, kind, channel, recipient, subject, body, "      \
	"state, created_at) "

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* The baseline: the same rows with one bare prepared statement per table, one transaction. */
static double baseline(const char *path, const struct rows *r, int fk, double *cpu)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *si = NULL, *sm = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
	                 fk ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	                      "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
	                      "PRAGMA cache_size=-16384;"
	                    : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	                      "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY; "
	                      "PRAGMA cache_size=-16384;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		check(-1, "baseline open");
	int64_t t0 = now_ms();
	double c0 = cpu_ms();
	check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "baseline begin");
	check(sqlite3_prepare_v2(db, BASE_INV "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, 'pending')",
	                         -1, &si, NULL),
	      "baseline prepare");
	check(sqlite3_prepare_v2(db, BASE_MSG "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)", -1, &sm,
	                         NULL),
	      "baseline prepare");
	for (int64_t i = 0; i < r->ninv; i++) {
		const struct inv_rec *v = &r->inv[i];
		sqlite3_bind_int64(si, 1, v->patient_id);
		sqlite3_bind_int64(si, 2, v->portal_id);
		sqlite3_bind_int64(si, 3, v->org_id);
		sqlite3_bind_blob(si, 4, v->hash, sizeof(v->hash), SQLITE_STATIC);
		if (v->staff_id != 0)
			sqlite3_bind_int64(si, 5, v->staff_id);
		else
			sqlite3_bind_null(si, 5);
		bind_text(si, 6, v->channel);
		sqlite3_bind_int64(si, 7, v->created_at);
		sqlite3_bind_int64(si, 8, v->expires_at);
		if (sqlite3_step(si) != SQLITE_DONE)
			check(-1, "baseline insert");
		sqlite3_reset(si);
	}
	for (int64_t i = 0; i < r->nmsg; i++) {
		const struct msg_rec *m = &r->msg[i];
		sqlite3_bind_int64(sm, 1, m->org_id);
		sqlite3_bind_int64(sm, 2, m->patient_id);
		bind_text(sm, 3, m->kind);
		bind_text(sm, 4, m->channel);
		bind_text(sm, 5, m->recipient);
		bind_text(sm, 6, m->subject);
		bind_text(sm, 7, m->body);
		sqlite3_bind_int64(sm, 8, m->created_at);
		if (sqlite3_step(sm) != SQLITE_DONE)
			check(-1, "baseline insert");
		sqlite3_reset(sm);
	}
	sqlite3_finalize(si);
	sqlite3_finalize(sm);
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

static void pg_num(char *out, size_t size, int64_t v)
{
	snprintf(out, size, "%" PRId64, v);
}

/* The PostgreSQL baseline: the same rows with one bare prepared INSERT per table, one
 * transaction, one row per round trip. */
static double baseline_pg(const char *url, const struct rows *r, double *cpu)
{
	PGconn *pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK)
		check(-1, "baseline connect");
	int64_t t0 = now_ms();
	double c0 = cpu_ms();
	pg_check(pg, PQexec(pg, "BEGIN"), PGRES_COMMAND_OK, "baseline begin");
	pg_check(pg,
	         PQprepare(pg, "inv",
	                   BASE_INV "VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, 'pending')", 8,
	                   NULL),
	         PGRES_COMMAND_OK, "baseline prepare");
	pg_check(pg,
	         PQprepare(pg, "msg", BASE_MSG "VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8)",
	                   8, NULL),
	         PGRES_COMMAND_OK, "baseline prepare");
	char n[6][24];
	for (int64_t i = 0; i < r->ninv; i++) {
		const struct inv_rec *v = &r->inv[i];
		pg_num(n[0], sizeof(n[0]), v->patient_id);
		pg_num(n[1], sizeof(n[1]), v->portal_id);
		pg_num(n[2], sizeof(n[2]), v->org_id);
		pg_num(n[3], sizeof(n[3]), v->staff_id);
		pg_num(n[4], sizeof(n[4]), v->created_at);
		pg_num(n[5], sizeof(n[5]), v->expires_at);
		const char *vals[8] = {
		    n[0],       n[1], n[2], (const char *)v->hash, v->staff_id != 0 ? n[3] : NULL,
		    v->channel, n[4], n[5]};
		int lens[8] = {0, 0, 0, (int)sizeof(v->hash), 0, 0, 0, 0};
		int fmts[8] = {0, 0, 0, 1, 0, 0, 0, 0};
		pg_check(pg, PQexecPrepared(pg, "inv", 8, vals, lens, fmts, 0), PGRES_COMMAND_OK,
		         "baseline insert");
	}
	for (int64_t i = 0; i < r->nmsg; i++) {
		const struct msg_rec *m = &r->msg[i];
		pg_num(n[0], sizeof(n[0]), m->org_id);
		pg_num(n[1], sizeof(n[1]), m->patient_id);
		pg_num(n[2], sizeof(n[2]), m->created_at);
		const char *vals[8] = {n[0],         n[1],       m->kind, m->channel,
		                       m->recipient, m->subject, m->body, n[2]};
		pg_check(pg, PQexecPrepared(pg, "msg", 8, vals, NULL, NULL, 0), PGRES_COMMAND_OK,
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
	char dir[] = "/tmp/invito-bench-XXXXXX", a[1024], b[1024], b2[1024] = "";
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
		snprintf(b2, sizeof(b2), "%s/baseline-nofk.db", dir);
	}

	struct store *sa = NULL, *sb = NULL;
	int64_t *ids = NULL, *ids_b = NULL;
	check(store_open(&sa, a, 2), "open");
	check(store_open(&sb, b, 2), "open baseline");
	int64_t org = populate(sa, n, &ids);
	int64_t org_b = populate(sb, n, &ids_b);
	store_free(sb);
	if (org_b != org || memcmp(ids, ids_b, (size_t)n * sizeof(*ids)) != 0)
		check(-1, "identical databases");
	if (pg == NULL) {
		check(store_open(&sb, b2, 2), "open baseline");
		free(ids_b);
		org_b = populate(sb, n, &ids_b);
		store_free(sb);
		if (org_b != org || memcmp(ids, ids_b, (size_t)n * sizeof(*ids)) != 0)
			check(-1, "identical databases");
	}

	struct store_conn *c = store_acquire(sa);
	struct invite_bulk_report rep;
	if (pg == NULL) {
		/* Start where the baseline starts (its file was closed, so checkpointed), not
		 * racing the store's background checkpoint of the 100,000 patients just added. */
		struct store_stmt *s = NULL;
		check(store_query(c, &s, "PRAGMA wal_checkpoint(TRUNCATE)", ""), "checkpoint");
		while (store_step(s) == 1)
			;
		store_done(s);
	}
	int64_t t0 = now_ms();
	double c0 = cpu_ms();
	check(invite_bulk(c, NULL, org, 0, ids, (size_t)n, "bench-batch", "127.0.0.1", NOW, &rep),
	      "invite_bulk");
	double bulk_ms = (double)(now_ms() - t0);
	double bulk_cpu = cpu_ms() - c0;
	struct rows r;
	read_rows(c, &r);
	store_release(c);
	store_free(sa);

	double base_cpu = 0;
	double base_ms = pg != NULL ? baseline_pg(b, &r, &base_cpu) : baseline(b, &r, 1, &base_cpu);
	double nofk_cpu = 0, nofk_ms = pg != NULL ? 0 : baseline(b2, &r, 0, &nofk_cpu);

	printf("patients:                 %" PRId64 "%s\n", n,
	       pg != NULL ? " (PostgreSQL, local server)" : " (SQLite)");
	printf("invite_bulk:              %.0f ms wall, %.0f ms CPU  (%d invitations, %" PRId64
	       " messages)\n",
	       bulk_ms, bulk_cpu, rep.invited, r.nmsg);
	printf("baseline (bare INSERTs):  %.0f ms wall, %.0f ms CPU  (the same %" PRId64
	       " invitations and %" PRId64 " messages)\n",
	       base_ms, base_cpu, r.ninv, r.nmsg);
	/* Issue 3's target is for SQLite; issue 7 asks for the PostgreSQL numbers side by side. */
	printf("ratio:                    %.2fx wall, %.2fx CPU%s\n", bulk_ms / base_ms,
	       bulk_cpu / base_cpu, pg != NULL ? "" : "  (target <= 3x, <= 2000 ms)");
	if (pg == NULL)
		printf("baseline without FK checks: %.0f ms wall, %.0f ms CPU; ratio %.2fx wall, "
		       "%.2fx CPU\n",
		       nofk_ms, nofk_cpu, bulk_ms / nofk_ms, bulk_cpu / nofk_cpu);
	rows_free(&r);
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
	remove_db(b2);
	rmdir(dir);
	return 0;
}
