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
 * Audit: ONE event "invite.bulk" per run (who, when, from where, the counts);
 * each invitation row keeps created_by_staff and created_at, which the
 * profile's history shows. A per-invitation audit row would double the
 * writes of a 100,000-patient run.
 *
 * Speed: the organisation and its portal are read once. Patients are read
 * up to READ_MAX at a time: a dense run of the sorted selection (at least
 * one selected id in two) with one range query, anything sparser BATCH ids
 * at a time with one IN query; so a read never returns more than twice the
 * rows it needs. Tokens come READ_MAX at a time from one call for
 * randomness. Invitations and messages are written BATCH rows per INSERT:
 * one statement shape per table, prepared once and cached, so the
 * per-statement cost of SQLite (and the round trips of PostgreSQL) is paid
 * once per BATCH rows. Work buffers are reused; strings go to arenas renewed
 * per chunk. bench/bulk_invite measures it against bare INSERTs of the same
 * rows.
 * It must never log a token or a message body.
 */
#include "invite/internal.h"

#include "comms/texts.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* A filter's selection comes in id order already: check in one pass before sorting. */
	size_t sorted = 1;
	while (sorted < n && u[sorted - 1] <= u[sorted])
		sorted++;
	if (sorted < n)
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

/* --- the batched writer of a bulk run ------------------------------------ */

#define BATCH    128 /* rows per multi-row INSERT, ids per IN list */
#define READ_MAX 256 /* ids per range read */

#define INV_INSERT                                                                                 \
	"INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, created_by_staff, "   \
	"channel, target, created_at, expires_at, state) VALUES "
#define INV_ROW "(?, ?, ?, ?, ?, ?, NULL, ?, ?, 'pending')"
#define MSG_INSERT                                                                                 \
	"INSERT INTO messages (org_id, patient_id, kind, channel, recipient, subject, body, "      \
	"state, created_at) VALUES "
#define MSG_ROW "(?, ?, ?, ?, ?, ?, ?, 'queued', ?)"

struct inv_row {
	int64_t patient_id;
	unsigned char hash[32];
	const char *channel;
};
struct msg_row {
	int64_t patient_id;
	const char *channel, *recipient, *subject, *body; /* strings in writer.marena */
};

/*
 * Rows wait here until BATCH of a kind are ready, then go in one multi-row
 * INSERT (one statement shape per table, prepared once and cached); the last
 * few go one by one. The SQL is built from constant fragments only.
 */
struct writer {
	struct store_conn *c;
	const struct inv_org *o;
	int64_t staff_id, now;
	struct inv_row inv[BATCH];
	int ninv;
	struct msg_row msg[BATCH];
	int nmsg;
	struct arena *marena; /* the queued messages' strings; renewed after each flush */
	struct buf inv_sql, msg_sql, in_sql, scratch, subject;
	struct comms_texts *texts; /* the organisation's invitation texts, parsed once */
	/* the current chunk: its patients, which were found, tokens for the eligible ones */
	struct inv_patient p[READ_MAX];
	int found[READ_MAX];
	char tokens[READ_MAX][INVITE_TOKEN_CHARS + 1];
	unsigned char hashes[READ_MAX][32];
};

static void sql_rows(struct buf *b, const char *head, const char *row, int n)
{
	buf_init(b, 0);
	buf_puts(b, head);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(b, ", ");
		buf_puts(b, row);
	}
}

/* A dense run of ids: one range, rows in id order. */
#define RANGE_SQL INV_PATIENT_SELECT "WHERE p.org_id = ? AND p.id >= ? AND p.id <= ? ORDER BY p.id"

/* The sparse reader's query: BATCH ids in one IN list, from constant fragments only. */
static void in_sql_build(struct buf *b)
{
	buf_init(b, 0);
	buf_puts(b, INV_PATIENT_SELECT "WHERE p.org_id = ? AND p.id IN (?");
	for (int i = 1; i < BATCH; i++)
		buf_puts(b, ", ?");
	buf_puts(b, ") ORDER BY p.id");
}

/* The writer of one run (on the heap: the chunk arrays are too big for a thread's stack). */
static struct writer *writer_create(struct store_conn *c, const struct inv_org *o, int64_t staff_id,
                                    int64_t now)
{
	struct writer *w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->o = o;
	w->staff_id = staff_id;
	w->now = now;
	w->marena = arena_create();
	sql_rows(&w->inv_sql, INV_INSERT, INV_ROW, BATCH);
	sql_rows(&w->msg_sql, MSG_INSERT, MSG_ROW, BATCH);
	in_sql_build(&w->in_sql);
	buf_init(&w->scratch, 64 * 1024);
	buf_init(&w->subject, 64 * 1024);
	return w;
}

/* Accepts NULL. */
static void writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	sodium_memzero(w->tokens, sizeof(w->tokens));
	arena_free(w->marena);
	buf_free(&w->inv_sql);
	buf_free(&w->msg_sql);
	buf_free(&w->in_sql);
	buf_free(&w->scratch);
	buf_free(&w->subject);
	comms_texts_free(w->texts);
	free(w);
}

/* Inserts inv[from..from+n) with the n-row statement sql. */
static int flush_inv(struct writer *w, const char *sql, int from, int n)
{
	struct store_stmt *s = NULL;
	int rc = store_prepare(w->c, &s, sql);
	for (int i = from; rc == 0 && i < from + n; i++) {
		const struct inv_row *r = &w->inv[i];
		rc = store_bind(s, "iiibItii", r->patient_id, w->o->portal_id, w->o->org_id,
		                r->hash, sizeof(r->hash), w->staff_id, r->channel, w->now,
		                w->now + w->o->ttl_days * 86400);
	}
	if (rc == 0)
		while ((rc = store_step(s)) == 1)
			;
	store_done(s);
	return rc;
}

static int flush_msg(struct writer *w, const char *sql, int from, int n)
{
	struct store_stmt *s = NULL;
	int rc = store_prepare(w->c, &s, sql);
	for (int i = from; rc == 0 && i < from + n; i++) {
		const struct msg_row *m = &w->msg[i];
		/* 's': the strings stay in w->marena until after store_done(). */
		rc = store_bind(s, "iIsssssi", w->o->org_id, m->patient_id, "invitation",
		                m->channel, m->recipient, m->subject, m->body, w->now);
	}
	if (rc == 0)
		while ((rc = store_step(s)) == 1)
			;
	store_done(s);
	return rc;
}

/* Writes what is queued: full batches at once, else (final) row by row. */
static int writer_flush(struct writer *w, int final)
{
	int rc = 0;
	if (w->ninv == BATCH)
		rc = flush_inv(w, w->inv_sql.data, 0, BATCH);
	else if (final)
		for (int i = 0; rc == 0 && i < w->ninv; i++)
			rc = flush_inv(w, INV_INSERT INV_ROW, i, 1);
	if (rc == 0 && (w->ninv == BATCH || final))
		w->ninv = 0;
	if (rc == 0 && w->nmsg == BATCH)
		rc = flush_msg(w, w->msg_sql.data, 0, BATCH);
	else if (rc == 0 && final)
		for (int i = 0; rc == 0 && i < w->nmsg; i++)
			rc = flush_msg(w, MSG_INSERT MSG_ROW, i, 1);
	if (rc == 0 && (w->nmsg == BATCH || final)) {
		w->nmsg = 0;
		arena_free(w->marena);
		w->marena = arena_create();
	}
	return rc == 0 ? 0 : inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
}

/* Queues one message; flushes when the queue is full. */
static int queue_msg(struct writer *w, const struct inv_patient *p, const char *channel,
                     const char *recipient, const struct comms_link_vars *v)
{
	int email = strcmp(channel, "email") == 0;
	if (comms_texts_render(w->texts, channel, p->lang, v, email ? &w->subject : NULL,
	                       &w->scratch) != 0)
		return INVITE_ERR;
	struct msg_row *m = &w->msg[w->nmsg];
	m->patient_id = p->id;
	m->channel = channel;
	m->recipient = arena_strdup(w->marena, recipient);
	m->subject = email ? arena_strndup(w->marena, w->subject.data, w->subject.len) : NULL;
	m->body = arena_strndup(w->marena, w->scratch.data, w->scratch.len);
	if (++w->nmsg == BATCH)
		return writer_flush(w, 0);
	return 0;
}

/* Queues an invitation of an eligible patient with the token given, and its message(s). */
static int queue_invite(struct writer *w, const struct inv_patient *p, const char *token,
                        const unsigned char hash[32])
{
	int sms, mail, rc = 0;
	if (inv_channels(NULL, p->mobile, p->email, &sms, &mail) != 0)
		return INVITE_NO_CONTACT;
	struct inv_row *r = &w->inv[w->ninv];
	memcpy(r->hash, hash, sizeof(r->hash));
	r->patient_id = p->id;
	r->channel = sms && mail ? "both" : sms ? "sms" : "email";
	if (inv_link(&w->scratch, w->o->base_url, "/i/", token) != 0)
		return INVITE_ERR;
	char *link = arena_strndup(w->marena, w->scratch.data, w->scratch.len);
	struct comms_link_vars v = {p->given_name, p->family_name, link, w->o->ttl_days};
	if (++w->ninv == BATCH && (rc = writer_flush(w, 0)) != 0)
		return rc;
	if (sms && (rc = queue_msg(w, p, "sms", p->mobile, &v)) != 0)
		return rc;
	/* A flush may have renewed the arena: the link must be copied again. */
	if (mail) {
		if (inv_link(&w->scratch, w->o->base_url, "/i/", token) != 0)
			return INVITE_ERR;
		v.link = arena_strndup(w->marena, w->scratch.data, w->scratch.len);
		rc = queue_msg(w, p, "email", p->email, &v);
	}
	return rc;
}

/*
 * How many of ids[0..n) (sorted, unique) the next read takes: the longest
 * run, up to READ_MAX, in which at least one id in two of its range is
 * selected, when that run is worth a range read; else 0 (read by IN list).
 */
static int dense_run(const int64_t *ids, size_t n)
{
	int best = 0;
	for (size_t k = 1; k <= n && k <= READ_MAX; k++)
		if (ids[k - 1] - ids[0] < 2 * (int64_t)k)
			best = (int)k;
	return best >= BATCH ? best : 0;
}

/*
 * Loads ids[0..n) (sorted, unique; n <= READ_MAX, and n <= BATCH unless
 * range): with range, every patient of org_id from ids[0] to ids[n - 1];
 * else with the IN query in_sql, its list padded with the last id so that
 * every chunk uses one statement shape. Rows come in id order and are
 * matched to ids by a merge. found[i] is 1 and p[i] filled when ids[i] is a
 * patient of org_id.
 */
static int load_chunk(struct store_conn *c, const char *in_sql, int range, int64_t org_id,
                      const int64_t *ids, int n, struct inv_patient *p, int *found, struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc;
	if (range) {
		rc = store_query(c, &s, RANGE_SQL, "iii", org_id, ids[0], ids[n - 1]);
	} else {
		rc = store_prepare(c, &s, in_sql);
		if (rc == 0)
			rc = store_bind(s, "i", org_id);
		for (int i = 0; rc == 0 && i < BATCH; i++)
			rc = store_bind(s, "i", ids[i < n ? i : n - 1]);
	}
	memset(found, 0, (size_t)n * sizeof(*found));
	int k = 0, st = 0;
	while (rc == 0 && (st = store_step(s)) == 1) {
		int64_t id = store_col_int(s, 0);
		while (k < n && ids[k] < id)
			k++;
		if (k < n && ids[k] == id) {
			inv_patient_fill(s, &p[k], a);
			found[k] = 1;
		}
	}
	if (rc == 0 && st < 0)
		rc = st;
	store_done(s);
	return rc == 0 ? 0 : inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
}

/* The next chunk of u[0..n): its length, and whether it is read as a range. */
static int next_chunk(const int64_t *u, size_t n, int *range)
{
	int run = dense_run(u, n);
	*range = run > 0;
	return run > 0 ? run : n < BATCH ? (int)n : BATCH;
}

/* Counts by reason without inviting anyone: the same chunked reads as invite_bulk. */
int invite_bulk_preview(struct store_conn *c, int64_t org_id, const int64_t *ids, size_t n,
                        int64_t now, struct invite_bulk_report *rep)
{
	size_t un = 0;
	int64_t *u = unique_ids(ids, n, &un);
	struct arena *a = NULL;
	struct buf in_sql;
	int rc = 0;
	memset(rep, 0, sizeof(*rep));
	in_sql_build(&in_sql);
	struct inv_patient *p = xmalloc(READ_MAX * sizeof(*p));
	int found[READ_MAX];
	for (size_t i = 0; rc == 0 && i < un;) {
		int range = 0, cnt = next_chunk(u + i, un - i, &range);
		arena_free(a);
		a = arena_create();
		if ((rc = load_chunk(c, in_sql.data, range, org_id, u + i, cnt, p, found, a)) != 0)
			break;
		for (int k = 0; k < cnt; k++)
			count(rep, found[k] ? inv_eligible(&p[k], NULL, 0, now) : INVITE_NOTFOUND);
		i += (size_t)cnt;
	}
	free(p);
	if (rc != 0)
		memset(rep, 0, sizeof(*rep));
	arena_free(a);
	buf_free(&in_sql);
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
	struct inv_org o;
	struct writer *w = NULL;
	int64_t changed = 0;
	int rc;

	memset(rep, 0, sizeof(*rep));
	/* Every row this run refers to is read below in the same transaction (the
	 * organisation and its portal, the staff user, each patient), so SQLite may skip
	 * its own lookups of them: 0.3 s of 1.8 s at 100,000 patients. */
	if ((rc = store_begin_bulk(c)) != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto done;
	}
	if ((rc = inv_lock_org(c, org_id)) != 0)
		goto out;
	if (staff_id != 0) {
		int64_t staff = 0;
		if (store_scalar(c, &staff, "SELECT COUNT(*) FROM staff_users WHERE id = ?", "i",
		                 staff_id) != 0 ||
		    staff != 1) {
			rc = INVITE_ERR;
			goto out;
		}
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
	w = writer_create(c, &o, staff_id, now);
	if (comms_texts_load(c, org_id, COMMS_INVITATION, &w->texts) != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	for (size_t i = 0; i < un;) {
		int range = 0, cnt = next_chunk(u + i, un - i, &range), r[READ_MAX], ok = 0;
		arena_free(a);
		a = arena_create();
		rc = load_chunk(c, w->in_sql.data, range, org_id, u + i, cnt, w->p, w->found, a);
		if (rc != 0)
			goto out;
		for (int k = 0; k < cnt; k++) {
			r[k] = w->found[k] ? inv_eligible(&w->p[k], NULL, 0, now) : INVITE_NOTFOUND;
			ok += r[k] == 0;
		}
		invite_tokens_new((size_t)ok, w->tokens, w->hashes);
		for (int k = 0, t = 0; k < cnt; k++) {
			if (r[k] == 0) {
				rc = queue_invite(w, &w->p[k], w->tokens[t], w->hashes[t]);
				if (rc != 0)
					goto out;
				t++;
			}
			count(rep, r[k]);
		}
		sodium_memzero(w->tokens, sizeof(w->tokens));
		i += (size_t)cnt;
	}
	if ((rc = writer_flush(w, 1)) != 0)
		goto out;
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
	/* One audit event for the run (each invitation row keeps who sent it and when). */
	char detail[160];
	snprintf(detail, sizeof(detail),
	         "invited %d; skipped: account %d, family %d, no contact %d, recent %d, "
	         "not found %d",
	         rep->invited, rep->has_account, rep->family, rep->no_contact, rep->recent,
	         rep->not_found);
	if (store_audit(c, org_id, "staff", staff_id, "invite.bulk", NULL, 0, ip, detail) != 0) {
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
	writer_free(w);
	arena_free(a);
	arena_free(keep);
	free(u);
	return rc;
}
