/*
 * invite/bulk: invite many patients at once, in ONE transaction (all or
 * nothing), with a report of who was invited and who was skipped and why.
 *
 * Idempotency: the staff form carries a one-time batch key. The run starts by
 * inserting (org_id, batch_key) into invite_batches (migration 002) with ON
 * CONFLICT DO NOTHING; when the row already exists, the earlier run's report
 * is returned and nobody is invited again. The row is in the same transaction
 * as the invitations, so a rolled-back run leaves the key free.
 *
 * Speed: the organisation and its portal are read once; every statement is
 * one cached prepared statement reused for each patient; work buffers are
 * reused; per-patient strings go to an arena cleared every few hundred rows.
 * It must never log a token or a message body.
 */
#include "invite/internal.h"

#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ROWS 512 /* patients per scratch arena */

static int cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

/* The selection sorted, without repeats (a patient selected twice is invited once). */
static int64_t *unique_ids(const int64_t *ids, size_t n, size_t *out_n)
{
	int64_t *u = xmalloc((n ? n : 1) * sizeof(*u));
	if (n > 0)
		memcpy(u, ids, n * sizeof(*u));
	qsort(u, n, sizeof(*u), cmp_id);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || u[k - 1] != u[i])
			u[k++] = u[i];
	*out_n = k;
	return u;
}

static void count(struct invite_bulk_report *rep, int reason)
{
	switch (reason) {
	case 0:
		rep->invited++;
		break;
	case INVITE_HAS_ACCOUNT:
		rep->has_account++;
		break;
	case INVITE_FAMILY:
		rep->family++;
		break;
	case INVITE_NO_CONTACT:
		rep->no_contact++;
		break;
	case INVITE_RECENT:
		rep->recent++;
		break;
	default:
		rep->not_found++;
		break;
	}
}

/* Reads the report of an earlier run of the same batch. */
static int batch_report(struct store_conn *c, int64_t org_id, const char *batch,
                        struct invite_bulk_report *rep)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT invited, has_account, family, no_contact, recent, not_found "
	                     "FROM invite_batches WHERE org_id = ? AND batch_key = ?",
	                     "it", org_id, batch);
	if (rc != 0)
		return INVITE_ERR;
	rc = store_step(s);
	if (rc == 1) {
		rep->invited = (int)store_col_int(s, 0);
		rep->has_account = (int)store_col_int(s, 1);
		rep->family = (int)store_col_int(s, 2);
		rep->no_contact = (int)store_col_int(s, 3);
		rep->recent = (int)store_col_int(s, 4);
		rep->not_found = (int)store_col_int(s, 5);
		rc = 0;
	} else {
		rc = INVITE_ERR;
	}
	store_done(s);
	return rc;
}

int invite_bulk_preview(struct store_conn *c, int64_t org_id, const int64_t *ids, size_t n,
                        int64_t now, struct invite_bulk_report *rep)
{
	size_t un = 0;
	int64_t *u = unique_ids(ids, n, &un);
	struct arena *a = arena_create();
	int rc = 0;
	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < un; i++) {
		struct inv_patient p;
		if (i % ARENA_ROWS == 0) {
			arena_free(a);
			a = arena_create();
		}
		int r = inv_patient_load(c, org_id, u[i], &p, a);
		if (r == INVITE_ERR || r == INVITE_BUSY) {
			rc = r;
			break;
		}
		count(rep, r == 0 ? inv_eligible(&p, NULL, 0, now) : r);
	}
	arena_free(a);
	free(u);
	return rc;
}

int invite_bulk(struct store_conn *c, const struct config *cfg, int64_t org_id, int64_t staff_id,
                const int64_t *ids, size_t n, const char *batch, const char *ip, int64_t now,
                struct invite_bulk_report *rep)
{
	(void)cfg; /* links come from portals.base_url only */
	size_t un = 0;
	int64_t *u = unique_ids(ids, n, &un);
	struct arena *keep = arena_create(), *a = NULL;
	struct buf link, scratch;
	struct inv_org o;
	int64_t changed = 0;
	int rc;

	memset(rep, 0, sizeof(*rep));
	buf_init(&link, 4096);
	buf_init(&scratch, 64 * 1024);
	if ((rc = store_begin(c)) != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto done;
	}
	if (batch != NULL && batch[0] != '\0') {
		rc = store_exec(
		    c, &changed,
		    "INSERT INTO invite_batches (org_id, batch_key, staff_id, created_at) "
		    "VALUES (?, ?, ?, ?) ON CONFLICT (org_id, batch_key) DO NOTHING",
		    "itIi", org_id, batch, staff_id, now);
		if (rc != 0) {
			rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
			goto out;
		}
		if (changed == 0) {
			/* This form ran already: nobody is invited twice. */
			store_rollback(c);
			rc = batch_report(c, org_id, batch, rep);
			goto done;
		}
	}
	if ((rc = inv_org_load(c, org_id, &o, keep)) != 0)
		goto out;
	for (size_t i = 0; i < un; i++) {
		struct inv_patient p;
		int64_t id = 0;
		if (i % ARENA_ROWS == 0) {
			arena_free(a);
			a = arena_create();
		}
		int r = inv_patient_load(c, org_id, u[i], &p, a);
		if (r == INVITE_ERR || r == INVITE_BUSY) {
			rc = r;
			goto out;
		}
		if (r == 0)
			r = inv_eligible(&p, NULL, 0, now);
		if (r == 0) {
			r = inv_write(c, &o, &p, NULL, NULL, staff_id, now, &link, &scratch, &id);
			if (r != 0) {
				rc = r;
				goto out;
			}
			r = store_audit(c, org_id, "staff", staff_id, "invite.sent", "invitation",
			                id, ip, "bulk");
			if (r != 0) {
				rc = INVITE_ERR;
				goto out;
			}
		}
		count(rep, r);
	}
	if (batch != NULL && batch[0] != '\0' &&
	    store_exec(
	        c, NULL,
	        "UPDATE invite_batches SET invited = ?, has_account = ?, family = ?, "
	        "no_contact = ?, recent = ?, not_found = ? WHERE org_id = ? AND batch_key = ?",
	        "iiiiiiit", (int64_t)rep->invited, (int64_t)rep->has_account, (int64_t)rep->family,
	        (int64_t)rep->no_contact, (int64_t)rep->recent, (int64_t)rep->not_found, org_id,
	        batch) != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	if ((rc = store_commit(c)) != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto out;
	}
	rc = 0;
	goto done;
out:
	store_rollback(c);
	memset(rep, 0, sizeof(*rep));
done:
	buf_free(&link);
	buf_free(&scratch);
	arena_free(a);
	arena_free(keep);
	free(u);
	return rc;
}
