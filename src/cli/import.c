/*
 * import: `invito import patients FILE.csv [--org ID]` and the command
 * table of `invito import` (appointments: import_appointments.c).
 *
 * The file is read by the shared CSV reader (import_csv.c), which reports
 * each bad row with the physical line where it starts. Each row is checked
 * (lib/validate.h), matched against existing patients, and inserted through
 * store_patient_add() in transactions of IMPORT_BATCH rows with the
 * connection's cached statements. It must never update an existing patient:
 * a match is counted and skipped.
 */
#include "cli/import.h"

#include "cli/cli.h"
#include "cli/import_csv.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/names.h"
#include "lib/util.h"
#include "lib/validate.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

enum col { COL_GIVEN, COL_FAMILY, COL_BIRTH, COL_MOBILE, COL_EMAIL, COL_LANG, COL_REF, COL_N };

static const char *const col_names[COL_N] = {
    "given_name", "family_name", "birth_date", "mobile", "email", "lang", "external_ref",
};

#define MAX_REF_LEN 100

struct ctx {
	struct store_conn *c;
	int64_t org_id;
	struct import_report *rep;
	int in_tx;
	int64_t batch_rows, batch_imported, batch_present;
	struct arena *a; /* per batch */
	int64_t now;
};

static int batch_commit(struct ctx *x, struct import_csv *r)
{
	if (!x->in_tx)
		return 0;
	int rc = store_commit(x->c);
	x->in_tx = 0;
	if (rc < 0) {
		store_rollback(x->c);
		import_csv_report(r, "database error: %s; this batch of rows was not imported",
		                  store_strerror(rc));
		x->batch_imported = x->batch_present = x->batch_rows = 0;
		return IMPORT_ERR_STORE;
	}
	x->rep->imported += x->batch_imported;
	x->rep->present += x->batch_present;
	x->batch_imported = x->batch_present = x->batch_rows = 0;
	arena_free(x->a);
	x->a = arena_create();
	return 0;
}

static int finish(void *ud, struct import_csv *r)
{
	return batch_commit(ud, r);
}

static int fail_store(struct ctx *x, struct import_csv *r, int err)
{
	import_csv_report(r, "database error: %s; stopped, rows since line %lld not imported",
	                  store_strerror(err), (long long)import_csv_line(r));
	if (x->in_tx)
		store_rollback(x->c);
	x->in_tx = 0;
	x->batch_imported = x->batch_present = x->batch_rows = 0;
	return IMPORT_ERR_STORE;
}

/* 0 and *found when a patient of the org matches p (after validation). */
static int find_existing(struct ctx *x, const struct validate_patient *p, const char *ref,
                         const char *family_key, const char *search_key, int *found)
{
	int64_t id;
	int rc;
	if (ref != NULL) {
		rc = store_patient_by_ref(x->c, x->org_id, ref, &id);
	} else if (p->birth_date != NULL) {
		rc = store_scalar(x->c, &id,
		                  "SELECT id FROM patients WHERE org_id = ? AND family_key = ? AND "
		                  "search_key = ? AND birth_date = ? LIMIT 1",
		                  "ittt", x->org_id, family_key, search_key, p->birth_date);
	} else {
		rc = store_scalar(x->c, &id,
		                  "SELECT id FROM patients WHERE org_id = ? AND family_key = ? AND "
		                  "search_key = ? AND birth_date IS NULL LIMIT 1",
		                  "itt", x->org_id, family_key, search_key);
	}
	if (rc == STORE_NOTFOUND) {
		*found = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	*found = 1;
	return 0;
}

static int do_row(void *ud, struct import_csv *r, const char *const *v)
{
	struct ctx *x = ud;
	struct validate_result res;

	struct validate_patient p = {
	    .given_name = v[COL_GIVEN],
	    .family_name = v[COL_FAMILY],
	    .birth_date = v[COL_BIRTH],
	    .mobile = v[COL_MOBILE],
	    .email = v[COL_EMAIL],
	    .lang = v[COL_LANG],
	};
	if (validate_patient(&p, x->now, x->a, &res) < 0) {
		struct buf b;
		buf_init(&b, 4096);
		for (int i = 0; i < res.n; i++)
			buf_printf(&b, "%s%s: %s", i ? "; " : "", res.err[i].field, res.err[i].msg);
		import_csv_reject(r, "%s", b.data != NULL ? b.data : "invalid row");
		buf_free(&b);
		return 0;
	}
	const char *ref = v[COL_REF];
	if (ref != NULL && ref[0] == '\0')
		ref = NULL;
	if (ref != NULL) {
		if (strlen(ref) > MAX_REF_LEN) {
			import_csv_reject(r, "external_ref is longer than %d bytes", MAX_REF_LEN);
			return 0;
		}
		for (const char *q = ref; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f) {
				import_csv_reject(r, "external_ref contains control characters");
				return 0;
			}
	}

	/* search_key is names_key("given family"): with the family key fixed it pins the
	 * given name's key, so (family_key, search_key) is (family key, given-name key). */
	char *family_key = names_key(p.family_name, x->a);
	char *both = arena_printf(x->a, "%s %s", p.given_name, p.family_name);
	char *search_key = names_key(both, x->a);

	if (!x->in_tx) {
		int rc = store_begin(x->c);
		if (rc < 0)
			return fail_store(x, r, rc);
		x->in_tx = 1;
	}
	int found = 0;
	int rc = find_existing(x, &p, ref, family_key, search_key, &found);
	if (rc < 0)
		return fail_store(x, r, rc);
	if (found) {
		x->batch_present++;
	} else {
		struct store_patient sp = {
		    .org_id = x->org_id,
		    .given_name = (char *)p.given_name,
		    .family_name = (char *)p.family_name,
		    .birth_date = (char *)p.birth_date,
		    .mobile = (char *)p.mobile,
		    .email = (char *)p.email,
		    .lang = (char *)p.lang,
		    .external_ref = (char *)ref,
		    .created_at = x->now,
		    .updated_at = x->now,
		};
		rc = store_patient_add(x->c, &sp);
		if (rc < 0)
			return fail_store(x, r, rc);
		x->batch_imported++;
	}
	if (++x->batch_rows >= IMPORT_BATCH) {
		rc = batch_commit(x, r);
		if (rc < 0)
			return rc;
		import_csv_progress(r, x->rep->imported, x->rep->present);
	}
	return 0;
}

int import_patients_csv(struct store *st, int64_t org_id, const char *path,
                        struct import_report *rep, FILE *errs)
{
	struct ctx x = {0};
	int tuned = 0;

	memset(rep, 0, sizeof(*rep));
	x.org_id = org_id;
	x.rep = rep;
	x.a = arena_create();
	x.now = now_utc();
	x.c = store_acquire(st);
	/* SQLite only, for the duration of the import:
	 *  - temp_store=MEMORY: each INSERT inside a batch keeps a statement journal (so
	 *    that one failing row can be undone alone); on disk that was 20 writes to a
	 *    /var/tmp file per row, the main cost of an import;
	 *  - a page cache larger than the indexes it touches (the default 2 MiB spills);
	 *  - synchronous=NORMAL, which in WAL mode may lose the last batches on a power
	 *    cut but never corrupts the file: harmless, a re-run imports what is missing. */
	if (strcmp(store_backend_name(st), "sqlite") == 0)
		tuned = store_exec(x.c, NULL, "PRAGMA temp_store = MEMORY", "") == 0 &&
		        store_exec(x.c, NULL, "PRAGMA cache_size = -65536", "") == 0 &&
		        store_exec(x.c, NULL, "PRAGMA synchronous = NORMAL", "") == 0;

	struct import_csv_spec spec = {
	    .cols = col_names,
	    .ncols = COL_N,
	    .required = 1u << COL_GIVEN | 1u << COL_FAMILY,
	    .row = do_row,
	    .finish = finish,
	    .ud = &x,
	};
	int rc = import_csv_run(path, &spec, rep, errs);
	if (x.in_tx)
		store_rollback(x.c);
	if (tuned) {
		store_exec(x.c, NULL, "PRAGMA temp_store = DEFAULT", "");
		store_exec(x.c, NULL, "PRAGMA cache_size = -2000", "");
		store_exec(x.c, NULL, "PRAGMA synchronous = FULL", "");
	}
	store_release(x.c);
	arena_free(x.a);
	return rc;
}

/* --- the command --------------------------------------------------------- */

#define CMD_NAME "import"

/* *n customer organisations (counting stops at 2); *org the first one. */
static int customer_orgs(struct store *st, int64_t *org, int *n)
{
	struct store_conn *c = store_acquire(st);
	struct store_stmt *s = NULL;
	int rc = store_query(
	    c, &s, "SELECT id FROM organisations WHERE kind = 'customer' ORDER BY id LIMIT 2", "");
	*n = 0;
	if (rc == 0) {
		while ((rc = store_step(s)) == 1)
			if ((*n)++ == 0)
				*org = store_col_int(s, 0);
		store_done(s);
	}
	store_release(c);
	return rc < 0 ? rc : 0;
}

/* What `invito import` imports: one row per kind, the same options for each. */
static const struct import_kind {
	const char *name;
	int (*run)(struct store *st, int64_t org_id, const char *path, struct import_report *rep,
	           FILE *errs);
} import_kinds[] = {
    {"patients", import_patients_csv},
    {"appointments", import_appointments_csv},
};

#define IMPORT_USAGE "usage: invito import patients|appointments FILE.csv [--org ID]"

int cli_import(int argc, char **argv, struct config *cfg)
{
	const char *file = NULL, *org_arg = NULL;
	const struct import_kind *kind = NULL;
	int64_t org = 0;
	struct store *st = NULL;
	struct import_report rep;
	int ret = 1;

	for (size_t k = 0; argc >= 2 && k < ARRAY_LEN(import_kinds); k++)
		if (strcmp(argv[1], import_kinds[k].name) == 0)
			kind = &import_kinds[k];
	if (kind == NULL)
		return cli_usage_error(CMD_NAME, IMPORT_USAGE);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--org") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error(CMD_NAME, "--org needs an organisation id");
			org_arg = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error(CMD_NAME, "unknown option %s", argv[i]);
		else if (file == NULL)
			file = argv[i];
		else
			return cli_usage_error(CMD_NAME, "only one FILE.csv, got %s too", argv[i]);
	}
	if (file == NULL)
		return cli_usage_error(CMD_NAME, IMPORT_USAGE);
	if (org_arg != NULL && parse_i64(org_arg, 1, INT64_MAX, &org) < 0)
		return cli_usage_error(CMD_NAME, "--org needs an organisation id, not \"%s\"",
		                       org_arg);

	int rc = store_open(&st, cfg->database, 1);
	if (rc < 0) {
		fprintf(stderr, "invito import: cannot open database %s: %s\n", cfg->database,
		        store_strerror(rc));
		goto out;
	}
	if (org_arg == NULL) {
		int n = 0;
		rc = customer_orgs(st, &org, &n);
		if (rc < 0) {
			fprintf(stderr, "invito import: %s\n", store_strerror(rc));
			goto out;
		} else if (n == 0) {
			fprintf(stderr, "invito import: no organisation in %s (create one first)\n",
			        cfg->database);
			goto out;
		} else if (n > 1) {
			ret = cli_usage_error(CMD_NAME,
			                      "several organisations: choose one with --org ID");
			goto out;
		}
	} else {
		struct arena *a = arena_create();
		struct store_org o;
		struct store_conn *c = store_acquire(st);
		rc = store_org_get(c, org, &o, a);
		store_release(c);
		arena_free(a);
		if (rc < 0) {
			fprintf(stderr, "invito import: no organisation with id %lld\n",
			        (long long)org);
			goto out;
		}
	}

	int64_t t0 = now_ms();
	rc = kind->run(st, org, file, &rep, stderr);
	int64_t ms = now_ms() - t0;
	if (kind->run == import_appointments_csv)
		printf("imported %lld, already present %lld, cancelled %lld, rejected %lld; "
		       "payment requests queued %lld\n",
		       (long long)rep.imported, (long long)rep.present, (long long)rep.cancelled,
		       (long long)rep.rejected, (long long)rep.queued);
	else
		printf("imported %lld, already present %lld, rejected %lld\n",
		       (long long)rep.imported, (long long)rep.present, (long long)rep.rejected);
	fprintf(stderr, "invito import: %lld lines in %lld.%03lld s\n", (long long)rep.lines,
	        (long long)(ms / 1000), (long long)(ms % 1000));
	ret = (rc == 0 && rep.rejected == 0) ? 0 : 1;
out:
	store_free(st);
	return ret;
}
