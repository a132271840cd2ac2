/*
 * bench/patients_list: is the staff patient list still fast at 100,000
 * patients? Inserts them into a fresh SQLite file, then times list pages,
 * searches and counts, each as a ratio against a baseline measured in the
 * same run on the same file: the bare `SELECT id FROM patients WHERE
 * org_id = ? LIMIT 50`, stepped to the end. Ratios, not milliseconds, are
 * what to compare between machines.
 *
 * Build and run (from the repository root; reuses the objects of any
 * `make B=build/store ...` run, or build them first with the line below):
 *   make B=build/store build/store/obj/embedded.o $(printf 'build/store/obj/src/%s.o ' \
 *     store/store store/sqlite store/migrate store/patients lib/arena lib/buf lib/log \
 *     lib/util lib/names)
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/patients_list.c build/store/obj/src/store/[a-z]*.o \
 *     build/store/obj/src/lib/{arena,buf,log,util,names}.o build/store/obj/embedded.o \
 *     $(pkg-config --libs sqlite3 libutf8proc) -lpthread -o build/store/bench-patients
 *   build/store/bench-patients [N]
 * It must never touch a database it did not create: it works in a new temporary directory.
 */
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const given[] = {"Mario",  "Giulia",  "Luca",     "Francesca", "Marco", "Chiara",
                                    "Andrea", "Sara",    "Giuseppe", "Anna",      "Paolo", "Elena",
                                    "Nicolò", "Martina", "Stefano",  "Laura"};
static const char *const family[] = {
    "Rossi",    "Russo",      "Ferrari",  "Esposito",  "Bianchi",    "Romano",     "Colombo",
    "Ricci",    "Marino",     "Greco",    "Bruno",     "Gallo",      "Conti",      "De Luca",
    "Mancini",  "Costa",      "Giordano", "Rizzo",     "Lombardi",   "Moretti",    "D'Amico",
    "Barbieri", "Fontana",    "Santoro",  "Mariani",   "Rinaldi",    "Caruso",     "Ferrara",
    "Galli",    "Martini",    "Leone",    "Longo",     "Gentile",    "Martinelli", "Vitale",
    "Lombardo", "Serra",      "Coppola",  "De Santis", "D'Angelo",   "Marchetti",  "Parisi",
    "Villa",    "Conte",      "Ferraro",  "Ferri",     "Fabbri",     "Bianco",     "Marini",
    "Grasso",   "Valentini",  "Messina",  "Sala",      "De Angelis", "Gatti",      "Pellegrini",
    "Palumbo",  "Sanna",      "Farina",   "Rizzi",     "Monti",      "Cattaneo",   "Morelli",
    "Amato",    "Silvestri",  "Mazza",    "Testa",     "Grassi",     "Pellegrino", "Carbone",
    "Giuliani", "Benedetti",  "Barone",   "Rossetti",  "Caputo",     "Montanari",  "Guerra",
    "Palmieri", "Bernardi",   "Martino",  "Fiore",     "De Rosa",    "Ferretti",   "Bellini",
    "Basile",   "Riva",       "Donati",   "Piras",     "Vitali",     "Battaglia",  "Sartori",
    "Neri",     "Costantini", "Milani",   "Pagano",    "Ruggiero",   "Sorrentino", "D'Agostino",
    "Orlando",  "Damiani",    "Zanetti"};

#define REPS 300

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of REPS runs, in microseconds. */
static double median(double *t)
{
	qsort(t, REPS, sizeof(double), cmp_double);
	return t[REPS / 2];
}

static double time_baseline(struct store_conn *c, int64_t org)
{
	double t[REPS];
	for (int r = 0; r < REPS; r++) {
		double t0 = now_us();
		struct store_stmt *s = NULL;
		if (store_query(c, &s, "SELECT id FROM patients WHERE org_id = ? LIMIT 50", "i",
		                org) != 0)
			die("baseline query");
		int n = 0;
		while (store_step(s) == 1)
			n++;
		store_done(s);
		t[r] = now_us() - t0;
		if (n != 50)
			die("baseline returned %d rows", n);
	}
	return median(t);
}

static double time_list(struct store_conn *c, int64_t org, const struct store_patient_filter *f,
                        int *rows_out)
{
	double t[REPS];
	for (int r = 0; r < REPS; r++) {
		struct arena *a = arena_create();
		struct store_patient *rows = NULL;
		int n = 0, more = 0;
		double t0 = now_us();
		if (store_patient_list(c, org, f, &rows, &n, &more, a) != 0)
			die("list failed");
		t[r] = now_us() - t0;
		*rows_out = n;
		arena_free(a);
	}
	return median(t);
}

static double time_count(struct store_conn *c, int64_t org, const struct store_patient_filter *f,
                         int64_t *count)
{
	double t[REPS / 10];
	for (int r = 0; r < REPS / 10; r++) {
		double t0 = now_us();
		if (store_patient_count(c, org, f, count) != 0)
			die("count failed");
		t[r] = now_us() - t0;
	}
	qsort(t, REPS / 10, sizeof(double), cmp_double);
	return t[REPS / 20];
}

int main(int argc, char **argv)
{
	int64_t n = 100000;
	if (argc > 1 && parse_i64(argv[1], 100, 10000000, &n) != 0)
		die("usage: %s [N patients]", argv[0]);
	char dir[] = "/tmp/invito-bench-XXXXXX", path[64];
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/bench.db", dir);
	struct store *st = NULL;
	if (store_open(&st, path, 2) != 0)
		die("open");
	struct store_conn *c = store_acquire(st);
	int64_t portal = 0, org = 0, other = 0;
	store_insert(c, &portal,
	             "INSERT INTO portals (name, base_url) VALUES ('P', 'u') RETURNING id", "");
	store_insert(
	    c, &org,
	    "INSERT INTO organisations (kind, portal_id, name) VALUES ('customer', ?, 'A') "
	    "RETURNING id",
	    "i", portal);
	store_insert(
	    c, &other,
	    "INSERT INTO organisations (kind, portal_id, name) VALUES ('customer', ?, 'B') "
	    "RETURNING id",
	    "i", portal);

	double t0 = now_us();
	if (store_begin(c) != 0)
		die("begin");
	int64_t deep_after = 0;
	for (int64_t i = 0; i < n; i++) {
		char mobile[32], email[64];
		snprintf(mobile, sizeof(mobile), "+393%09u", rnd(1000000000u));
		snprintf(email, sizeof(email), "p%lld@example.it", (long long)i);
		struct store_patient p = {.org_id = (i % 10 == 9) ? other : org,
		                          .given_name = (char *)given[rnd(ARRAY_LEN(given))],
		                          .family_name = (char *)family[rnd(ARRAY_LEN(family))],
		                          .mobile = mobile,
		                          .email = email,
		                          .birth_date = "1970-05-06"};
		if (store_patient_add(c, &p) != 0)
			die("add %lld", (long long)i);
		if (i == n * 9 / 10)
			deep_after = p.id;
		/* Some state for the status filters: 5% active, 5% invited. */
		if (i % 20 == 3)
			store_exec(c, NULL,
			           "INSERT INTO accounts (patient_id, portal_id, login, pw_hash) "
			           "VALUES (?, ?, ?, 'h')",
			           "iit", p.id, portal, email);
		else if (i % 20 == 7) {
			unsigned char h[32] = {0};
			memcpy(h, &p.id, sizeof(p.id));
			store_exec(c, NULL,
			           "INSERT INTO invitations (patient_id, portal_id, org_id, "
			           "token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
			           "iiibii", p.id, portal, p.org_id, (const void *)h, sizeof(h),
			           now_utc(), now_utc() + 86400);
		}
	}
	if (store_commit(c) != 0)
		die("commit");
	double insert_s = (now_us() - t0) / 1e6;
	printf("inserted %lld patients in %.1f s (%.0f/s), org A holds 90%%\n", (long long)n,
	       insert_s, n / insert_s);

	double base = time_baseline(c, org);
	printf("%-44s %9.1f us  1.00x\n", "baseline SELECT id ... LIMIT 50", base);
	struct {
		const char *label;
		struct store_patient_filter f;
	} cases[] = {
	    {"list page 1 (50)", {.q = NULL, .status = -1, .after_id = 0, .limit = 50}},
	    {"list deep page (after 90%)",
	     {.q = NULL, .status = -1, .after_id = deep_after, .limit = 50}},
	    {"search common name \"rossi\"", {.q = "rossi", .status = -1, .limit = 50}},
	    {"search \"mario rossi\"", {.q = "mario rossi", .status = -1, .limit = 50}},
	    {"search \"rossi mar\" (family first)", {.q = "rossi mar", .status = -1, .limit = 50}},
	    {"search one letter \"m\"", {.q = "m", .status = -1, .limit = 50}},
	    {"search one letter \"m\", deep page",
	     {.q = "m", .status = -1, .after_id = deep_after, .limit = 50}},
	    {"search rare \"zanetti nicolo\"", {.q = "zanetti nicolo", .status = -1, .limit = 50}},
	    {"search mobile \"+39312\"", {.q = "+39312", .status = -1, .limit = 50}},
	    {"search e-mail \"p4242@\"", {.q = "p4242@", .status = -1, .limit = 50}},
	    {"status invited, page 1", {.q = NULL, .status = STORE_PS_INVITED, .limit = 50}},
	    {"status none, deep page",
	     {.q = NULL, .status = STORE_PS_NONE, .after_id = deep_after, .limit = 50}},
	    {"status active + \"ross\"", {.q = "ross", .status = STORE_PS_ACTIVE, .limit = 50}},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int rows = 0;
		double t = time_list(c, org, &cases[i].f, &rows);
		printf("%-44s %9.1f us %5.2fx  (%d rows)\n", cases[i].label, t, t / base, rows);
	}
	struct store_patient_filter all = {.status = -1, .limit = 50};
	struct store_patient_filter rossi = {.q = "rossi", .status = -1, .limit = 50};
	int64_t count = 0;
	double t = time_count(c, org, &all, &count);
	printf("%-44s %9.1f us %5.2fx  (%lld)\n", "count all", t, t / base, (long long)count);
	t = time_count(c, org, &rossi, &count);
	printf("%-44s %9.1f us %5.2fx  (%lld)\n", "count \"rossi\"", t, t / base, (long long)count);

	store_release(c);
	store_free(st);
	if (getenv("BENCH_KEEP") != NULL) {
		printf("kept %s\n", path);
		return 0;
	}
	const char *sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[96];
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}
