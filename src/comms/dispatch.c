/*
 * comms/dispatch: the outbox dispatcher (see dispatch.h for the claim, the
 * delivery guarantee and the throttles), and the queries of the staff
 * "Messages" page (list, counts, retry of a dead message).
 *
 * A pass: read candidate ids (stale 'sending' claims, then due 'failed' and
 * 'queued' rows), claim up to a batch of them with conditional updates in one
 * transaction, read the claimed rows, and for each one wait for the channel's
 * token bucket, send through the channel's transport and record the answer:
 * failures at once, successes in group commits (up to 32 rows or 50 ms in one
 * transaction: one fsync instead of 32), so a crash forgets at most that many
 * records, and those messages go again with the same ids (see dispatch.h).
 * When a provider cannot be reached at all, the rest of that channel's batch
 * is given back untried (its attempt not counted) to wait one backoff step.
 *
 * It must never log a recipient or a message body, and never put a body into
 * last_error (the transports' error texts never hold one).
 */
#include "comms/dispatch.h"

#include "comms/transport.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "store/store.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { CH_EMAIL, CH_SMS, CH_N };

static const char *const channel_names[CH_N] = {"email", "sms"};

/* Every transport, by name; transport.h explains each. */
static const struct comms_transport *const transports[] = {
    &comms_transport_log,
    &comms_transport_smtp,
    &comms_transport_sms,
};

/* With a transport other than `log`: which transport a channel uses, and the URL setting
 * that switches the channel on. */
static const struct {
	int channel;
	const char *transport;
	size_t url; /* offsetof(struct config, ...) */
} real_lanes[] = {
    {CH_EMAIL, "smtp", offsetof(struct config, smtp_url)},
    {CH_SMS, "sms-http", offsetof(struct config, sms_url)},
};

/* Backoff after the n-th failed try (index n - 1); the last entry repeats. */
static const int64_t backoff_secs[] = {60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600};

enum {
	CANDIDATES_PER_CLAIM = 3, /* candidates read per message to claim: other nodes take some */
	RECORD_TRIES = 3,
	GROUP_MAX = 32, /* at most 64: struct group */
	GROUP_MS = 50,
	MAX_ROWS = 10000,
};

struct bucket {
	double tokens, rate, cap; /* rate 0: unlimited */
	int64_t last_ms;
};

struct lane {
	const struct comms_transport *t; /* NULL: the channel is not sent */
	void *state;
	struct bucket bucket;
	int down; /* the provider could not be reached during this pass */
};

struct comms_dispatcher {
	struct store *st;
	const struct config *cfg;
	struct lane lane[CH_N];
	char node[96];  /* "host:pid:random", the claimed_by prefix of this dispatcher */
	uint64_t seq;   /* passes: claimed_by is "host:pid:random:seq", one per pass */
	int64_t offset; /* the pass's clock minus the real clock (tests move the clock) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running, stop;
};

/* libcurl's global state (and libsodium's, for the claim nonce), once per process, before
 * any transport makes a handle. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init(void)
{
	curl_ok = sodium_init() >= 0 && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static int curl_init_once(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_ok ? 0 : -1;
}

int64_t comms_dispatch_backoff(int attempts)
{
	if (attempts < 1)
		attempts = 1;
	size_t i = (size_t)attempts - 1;
	return backoff_secs[i < ARRAY_LEN(backoff_secs) ? i : ARRAY_LEN(backoff_secs) - 1];
}

static const struct comms_transport *transport_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(transports); i++)
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	return NULL;
}

static int channel_index(const char *name)
{
	for (int i = 0; i < CH_N; i++)
		if (name != NULL && strcmp(name, channel_names[i]) == 0)
			return i;
	return -1;
}

/* --- lifecycle ------------------------------------------------------------- */

int comms_dispatcher_create(struct comms_dispatcher **out, struct store *st,
                            const struct config *cfg)
{
	struct comms_dispatcher *d = xcalloc(1, sizeof(*d));
	char host[64] = "node";
	int rc = -1;

	d->st = st;
	d->cfg = cfg;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	if (curl_init_once() < 0)
		goto out;
	gethostname(host, sizeof(host) - 1);
	/* host:pid alone is not unique: containers all run as pid 1 on hosts called alike, and
	 * one process may run several dispatchers; a random part makes every claim its own */
	uint32_t nonce = randombytes_random();
	snprintf(d->node, sizeof(d->node), "%.60s:%ld:%08x", host, (long)getpid(), nonce);
	int is_log = strcmp(cfg->transport, "log") == 0;
	for (int ch = 0; ch < CH_N; ch++) {
		const struct comms_transport *t = NULL;
		if (is_log)
			t = &comms_transport_log;
		for (size_t i = 0; !is_log && i < ARRAY_LEN(real_lanes); i++) {
			const char *url = *(char *const *)((const char *)cfg + real_lanes[i].url);
			if (real_lanes[i].channel == ch && url != NULL && url[0] != '\0')
				t = transport_named(real_lanes[i].transport);
		}
		if (t == NULL) {
			log_warn(
			    "dispatch: no transport for %s messages (set %s): they stay queued",
			    channel_names[ch], ch == CH_EMAIL ? "smtp_url" : "sms_url");
			continue;
		}
		if (t->open(&d->lane[ch].state, cfg) < 0) {
			log_error("dispatch: the %s transport did not start", t->name);
			goto out;
		}
		d->lane[ch].t = t;
		int rate = ch == CH_EMAIL ? cfg->rate_email_per_sec : cfg->rate_sms_per_sec;
		d->lane[ch].bucket.rate = rate;
		d->lane[ch].bucket.cap = rate > 0 ? rate : 1;
		d->lane[ch].bucket.tokens = d->lane[ch].bucket.cap;
		d->lane[ch].bucket.last_ms = now_ms();
	}
	rc = 0;
out:
	if (rc < 0) {
		comms_dispatcher_free(d);
		d = NULL;
	}
	*out = d;
	return rc;
}

void comms_dispatcher_free(struct comms_dispatcher *d)
{
	if (d == NULL)
		return;
	comms_dispatcher_stop(d);
	for (int ch = 0; ch < CH_N; ch++)
		if (d->lane[ch].t != NULL)
			d->lane[ch].t->close(d->lane[ch].state);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* --- throttle ---------------------------------------------------------------- */

/* Waits until ms have passed or stop is asked; 1 when stop was asked. */
static int wait_or_stop(struct comms_dispatcher *d, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->lock);
	while (!d->stop && pthread_cond_timedwait(&d->cond, &d->lock, &ts) != ETIMEDOUT)
		;
	int stop = d->stop;
	pthread_mutex_unlock(&d->lock);
	return stop;
}

/* Takes one token from b, waiting for it. 0, or 1 when stop was asked meanwhile. */
static int bucket_take(struct comms_dispatcher *d, struct bucket *b)
{
	if (b->rate <= 0)
		return 0;
	for (;;) {
		int64_t t = now_ms();
		b->tokens += (double)(t - b->last_ms) * b->rate / 1000.0;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
		b->last_ms = t;
		if (b->tokens >= 1.0) {
			b->tokens -= 1.0;
			return 0;
		}
		int64_t wait = (int64_t)((1.0 - b->tokens) * 1000.0 / b->rate) + 1;
		if (wait_or_stop(d, wait))
			return 1;
	}
}

/* --- one pass ---------------------------------------------------------------- */

struct claimed {
	struct comms_msg m;
	int64_t attempts;
	const char *org_name;
	/* set once sent, until the group commit records it */
	int64_t sent_at;
	char *ref;
};

/* Sent messages waiting for their group commit: one transaction (one fsync) records up to
 * GROUP_MAX of them, or what was sent in GROUP_MS. A crash loses at most that many records:
 * those messages are sent again after the claim timeout, with the same Message-ID or
 * Idempotency-Key. Failures are recorded at once. */
struct group {
	struct claimed *rows[64];
	int n;
	int64_t first_ms;
};

/* Appends up to max - *n ids of one candidate query to ids. */
static int read_ids(struct store_stmt *s, int64_t *ids, int *n, int max)
{
	int rc;
	while ((rc = store_step(s)) == 1)
		if (*n < max)
			ids[(*n)++] = store_col_int(s, 0);
	store_done(s);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Reads candidates and claims up to batch of them under the name claim. Returns how many
 * were claimed, or a negative store_err. */
static int claim(struct comms_dispatcher *d, struct store_conn *c, const char *claim_by,
                 int64_t now, struct arena *a)
{
	int batch = d->cfg->dispatch_batch, max = batch * CANDIDATES_PER_CLAIM, n = 0, got = 0;
	int64_t stale = now - d->cfg->dispatch_claim_timeout;
	int64_t *ids = arena_alloc(a, (size_t)max * sizeof(*ids));
	const char *ch0 = d->lane[CH_EMAIL].t ? "email" : "";
	const char *ch1 = d->lane[CH_SMS].t ? "sms" : "";
	struct store_stmt *s = NULL;
	int rc;

	/* crashed claims first: they are the oldest work */
	rc = store_query(c, &s,
	                 "SELECT id FROM messages WHERE state = 'sending' AND claimed_at < ? "
	                 "AND channel IN (?, ?) ORDER BY id LIMIT ?",
	                 "itti", stale, ch0, ch1, (int64_t)max);
	if (rc < 0 || (rc = read_ids(s, ids, &n, max)) < 0)
		return rc;
	static const char *const due_states[] = {"failed", "queued"};
	for (size_t i = 0; i < ARRAY_LEN(due_states) && n < max; i++) {
		rc = store_query(c, &s,
		                 "SELECT id FROM messages WHERE state = ? AND next_attempt_at <= ? "
		                 "AND channel IN (?, ?) ORDER BY next_attempt_at, id LIMIT ?",
		                 "titti", due_states[i], now, ch0, ch1, (int64_t)(max - n));
		if (rc < 0 || (rc = read_ids(s, ids, &n, max)) < 0)
			return rc;
	}
	if (n == 0)
		return 0;
	/* one lock order for every node: two claiming transactions never deadlock */
	qsort(ids, (size_t)n, sizeof(*ids), cmp_id);
	if ((rc = store_begin(c)) < 0)
		return rc;
	for (int i = 0; i < n && got < batch; i++) {
		int64_t changes = 0;
		rc = store_exec(c, &changes,
		                "UPDATE messages SET state = 'sending', claimed_by = ?, "
		                "claimed_at = ?, attempts = attempts + 1 WHERE id = ? AND "
		                "((state IN ('queued', 'failed') AND next_attempt_at <= ?) OR "
		                "(state = 'sending' AND claimed_at < ?))",
		                "tiiii", claim_by, now, ids[i], now, stale);
		if (rc < 0) {
			store_rollback(c);
			return rc;
		}
		got += changes == 1;
	}
	if ((rc = store_commit(c)) < 0) {
		store_rollback(c);
		return rc;
	}
	return got;
}

/* The rows claimed under claim_by, in id order, into *out (arena). */
static int load_claimed(struct store_conn *c, const char *claim_by, int want, struct claimed **out,
                        int *n, struct arena *a)
{
	struct store_stmt *s = NULL;
	struct claimed *r = arena_alloc(a, (size_t)want * sizeof(*r));
	int rc, k = 0;

	rc = store_query(c, &s,
	                 "SELECT m.id, m.created_at, m.kind, m.channel, m.recipient, m.subject, "
	                 "m.body, m.attempts, o.name, o.sender_name FROM messages m "
	                 "JOIN organisations o ON o.id = m.org_id "
	                 "WHERE m.claimed_by = ? AND m.state = 'sending' ORDER BY m.id",
	                 "t", claim_by);
	if (rc < 0)
		return rc;
	while ((rc = store_step(s)) == 1 && k < want) {
		struct claimed *x = &r[k++];
		x->m.id = store_col_int(s, 0);
		x->m.created_at = store_col_int(s, 1);
		x->m.kind = store_col_dup(s, 2, a);
		x->m.channel = store_col_dup(s, 3, a);
		x->m.recipient = store_col_dup(s, 4, a);
		x->m.subject = store_col_dup(s, 5, a);
		x->m.body = store_col_dup(s, 6, a);
		x->attempts = store_col_int(s, 7);
		x->org_name = store_col_dup(s, 8, a);
		const char *sender = store_col_dup(s, 9, a);
		int has_sender = sender != NULL && sender[0] != '\0';
		/* SMS: the organisation's sender ID, else the configured sms_sender (the
		 * transport's); an organisation's name is rarely one networks accept.
		 * E-mail: the display name, else the organisation's name. */
		if (x->m.channel != NULL && strcmp(x->m.channel, "sms") == 0)
			x->m.sender_name = has_sender ? sender : NULL;
		else
			x->m.sender_name = has_sender ? sender : x->org_name;
	}
	store_done(s);
	if (rc < 0)
		return rc;
	*out = r;
	*n = k;
	return 0;
}

/* The recording updates touch a row only while this pass still holds its claim. A busy
 * database is tried again (RECORD_TRIES): a row left 'sending' would be sent once more
 * after the claim timeout. */
static int mark_sent(struct store_conn *c, const struct claimed *x, const char *claim_by,
                     int64_t when, const char *ref)
{
	int rc = STORE_BUSY;
	for (int i = 0; i < RECORD_TRIES && rc == STORE_BUSY; i++)
		rc = store_exec(
		    c, NULL,
		    "UPDATE messages SET state = 'sent', sent_at = ?, provider_ref = ?, "
		    "last_error = NULL WHERE id = ? AND claimed_by = ? AND state = 'sending'",
		    "itit", when, ref[0] != '\0' ? ref : NULL, x->m.id, claim_by);
	return rc;
}

/* state "failed" (due again at next_at) or "dead"; error is kept as last_error. */
static int mark_failed(struct store_conn *c, const struct claimed *x, const char *claim_by,
                       const char *state, int64_t next_at, const char *error)
{
	int rc = STORE_BUSY;
	for (int i = 0; i < RECORD_TRIES && rc == STORE_BUSY; i++)
		rc =
		    store_exec(c, NULL,
		               "UPDATE messages SET state = ?, next_attempt_at = ?, last_error = ? "
		               "WHERE id = ? AND claimed_by = ? AND state = 'sending'",
		               "titit", state, next_at, error, x->m.id, claim_by);
	return rc;
}

/* Gives a claimed message back untried: its attempt is not counted. */
static int release(struct store_conn *c, const struct claimed *x, const char *claim_by,
                   int64_t next_at)
{
	int rc = STORE_BUSY;
	for (int i = 0; i < RECORD_TRIES && rc == STORE_BUSY; i++)
		rc = store_exec(c, NULL,
		                "UPDATE messages SET state = CASE WHEN attempts > 1 THEN 'failed' "
		                "ELSE 'queued' END, attempts = attempts - 1, next_attempt_at = ? "
		                "WHERE id = ? AND claimed_by = ? AND state = 'sending'",
		                "iit", next_at, x->m.id, claim_by);
	return rc;
}

/* Sends one claimed message and records the outcome; adds to st. */
/* Records every pending sent message in one transaction (each row alone if it fails). */
static void group_flush(struct store_conn *c, struct group *g, const char *claim_by)
{
	int tx = g->n > 1 && store_begin(c) == 0;
	for (int i = 0; i < g->n; i++) {
		const struct claimed *x = g->rows[i];
		int rc = mark_sent(c, x, claim_by, x->sent_at, x->ref);
		if (rc < 0)
			log_error("dispatch: message %" PRId64 " sent, but not recorded: %s",
			          x->m.id, store_strerror(rc));
	}
	if (tx && store_commit(c) < 0) {
		store_rollback(c);
		for (int i = 0; i < g->n; i++) /* one by one, autocommitted */
			mark_sent(c, g->rows[i], claim_by, g->rows[i]->sent_at, g->rows[i]->ref);
	}
	g->n = 0;
}

static void handle(struct comms_dispatcher *d, struct store_conn *c, struct claimed *x,
                   const char *claim_by, int stopping, struct group *g, struct arena *a,
                   struct comms_dispatch_stats *st)
{
	int ch = channel_index(x->m.channel);
	struct lane *l = ch >= 0 ? &d->lane[ch] : NULL;
	struct comms_result r = {{0}, {0}};
	int64_t now = now_utc() + d->offset;
	int max = d->cfg->max_attempts, rc;

	if (l == NULL || l->t == NULL) { /* cannot happen: claims filter on channel */
		mark_failed(c, x, claim_by, "dead", now, "unknown channel");
		st->dead++;
		return;
	}
	if (x->attempts > max) { /* re-claimed after a crash with no try left */
		snprintf(r.error, sizeof(r.error),
		         "gave up after %d tries (the last one interrupted)", max);
		rc = mark_failed(c, x, claim_by, "dead", now, r.error);
		st->dead += rc == 0;
		return;
	}
	if (stopping || l->down || bucket_take(d, &l->bucket)) {
		rc = release(c, x, claim_by, l->down ? now + comms_dispatch_backoff(1) : now);
		st->released += rc == 0;
		return;
	}
	int res = l->t->send(l->state, &x->m, &r);
	now = now_utc() + d->offset;
	if (res == COMMS_SEND_OK) {
		x->sent_at = now;
		x->ref = arena_strdup(a, r.provider_ref);
		if (g->n == 0)
			g->first_ms = now_ms();
		g->rows[g->n++] = x;
		if (g->n >= GROUP_MAX || now_ms() - g->first_ms >= GROUP_MS)
			group_flush(c, g, claim_by);
		st->sent++;
		return;
	} else if (res == COMMS_SEND_PERMANENT || x->attempts >= max) {
		if (res != COMMS_SEND_PERMANENT) {
			size_t len = strlen(r.error);
			snprintf(r.error + len, sizeof(r.error) - len, " (gave up after %d tries)",
			         max);
		}
		log_warn("dispatch: message %" PRId64 " (%s) is dead: %s", x->m.id, x->m.channel,
		         r.error);
		rc = mark_failed(c, x, claim_by, "dead", now, r.error);
		st->dead++;
	} else {
		if (res == COMMS_SEND_DOWN)
			l->down = 1;
		int64_t next = now + comms_dispatch_backoff((int)x->attempts);
		log_warn("dispatch: message %" PRId64 " (%s) try %" PRId64
		         " failed, again in %" PRId64 " s: %s",
		         x->m.id, x->m.channel, x->attempts, next - now, r.error);
		rc = mark_failed(c, x, claim_by, "failed", next, r.error);
		st->retried++;
	}
	if (rc < 0)
		log_error("dispatch: message %" PRId64 " sent or tried, but not recorded: %s",
		          x->m.id, store_strerror(rc));
}

static int stop_asked(struct comms_dispatcher *d)
{
	pthread_mutex_lock(&d->lock);
	int s = d->stop;
	pthread_mutex_unlock(&d->lock);
	return s;
}

int comms_dispatch_pass(struct comms_dispatcher *d, int64_t now, struct comms_dispatch_stats *stats)
{
	struct comms_dispatch_stats st = {0};
	struct store_conn *c = NULL;
	struct arena *a = NULL;
	struct claimed *rows = NULL;
	char claim_by[128];
	int rc = 0, n = 0;

	if (d->lane[CH_EMAIL].t == NULL && d->lane[CH_SMS].t == NULL)
		return 0;
	c = store_acquire(d->st);
	a = arena_create();
	d->offset = now - now_utc();
	for (int ch = 0; ch < CH_N; ch++)
		d->lane[ch].down = 0;
	snprintf(claim_by, sizeof(claim_by), "%s:%" PRIu64, d->node, ++d->seq);
	rc = claim(d, c, claim_by, now, a);
	if (rc <= 0)
		goto out;
	st.claimed = rc;
	if ((rc = load_claimed(c, claim_by, st.claimed, &rows, &n, a)) < 0)
		goto out;
	struct group g = {.n = 0};
	for (int i = 0; i < n; i++) {
		/* a throttle wait must not hold records back: flush before a likely wait */
		int ch = channel_index(rows[i].m.channel);
		if (g.n > 0 && ch >= 0 && d->lane[ch].bucket.rate > 0 &&
		    d->lane[ch].bucket.tokens < 1.0)
			group_flush(c, &g, claim_by);
		handle(d, c, &rows[i], claim_by, stop_asked(d), &g, a, &st);
	}
	group_flush(c, &g, claim_by);
	log_info("dispatch: %d claimed: %d sent, %d to retry, %d dead, %d given back", st.claimed,
	         st.sent, st.retried, st.dead, st.released);
	rc = st.claimed;
out:
	if (rc < 0)
		log_error("dispatch: pass failed: %s", store_strerror(rc));
	store_release(c);
	arena_free(a);
	if (stats != NULL) {
		stats->claimed += st.claimed;
		stats->sent += st.sent;
		stats->retried += st.retried;
		stats->dead += st.dead;
		stats->released += st.released;
	}
	return rc;
}

int comms_dispatch_drain(struct comms_dispatcher *d, struct comms_dispatch_stats *stats)
{
	int total = 0, rc;
	do {
		rc = comms_dispatch_pass(d, now_utc(), stats);
		if (rc < 0)
			return rc;
		total += rc;
	} while (rc >= d->cfg->dispatch_batch && !stop_asked(d));
	return total;
}

/* --- the thread ---------------------------------------------------------------- */

static void *run(void *arg)
{
	struct comms_dispatcher *d = arg;
	while (!stop_asked(d)) {
		int rc = comms_dispatch_pass(d, now_utc(), NULL);
		if (rc >= d->cfg->dispatch_batch)
			continue; /* more is due: no pause */
		if (wait_or_stop(d, d->cfg->dispatch_interval_ms))
			break;
	}
	return NULL;
}

int comms_dispatcher_start(struct comms_dispatcher *d)
{
	if (d->running)
		return 0;
	d->stop = 0;
	if (pthread_create(&d->thread, NULL, run, d) != 0)
		return -1;
	d->running = 1;
	return 0;
}

void comms_dispatcher_stop(struct comms_dispatcher *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->running) {
		pthread_join(d->thread, NULL);
		d->running = 0;
	}
}

/* --- the staff page's queries ----------------------------------------------------- */

const char *const comms_message_states[5] = {"queued", "sending", "sent", "failed", "dead"};

int comms_message_list(struct store_conn *c, int64_t org_id, const struct comms_message_filter *f,
                       struct comms_message_row **rows, int *n, int *more, struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc, k = 0, known = 0;

	*rows = NULL;
	*n = *more = 0;
	int any = f->state == NULL || f->state[0] == '\0';
	for (size_t i = 0; !any && i < ARRAY_LEN(comms_message_states); i++)
		known |= strcmp(f->state, comms_message_states[i]) == 0;
	if (f->limit < 1 || f->limit > 200 || (!any && !known) || f->before_id < 0)
		return STORE_INVALID;
	int64_t before = f->before_id > 0 ? f->before_id : INT64_MAX;
	if (any)
		rc = store_query(c, &s,
		                 "SELECT id, patient_id, attempts, created_at, sent_at, "
		                 "next_attempt_at, kind, channel, recipient, subject, body, state, "
		                 "last_error, provider_ref FROM messages "
		                 "WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
		                 "iii", org_id, before, (int64_t)f->limit + 1);
	else
		rc = store_query(
		    c, &s,
		    "SELECT id, patient_id, attempts, created_at, sent_at, "
		    "next_attempt_at, kind, channel, recipient, subject, body, state, "
		    "last_error, provider_ref FROM messages "
		    "WHERE org_id = ? AND state = ? AND id < ? ORDER BY id DESC LIMIT ?",
		    "itii", org_id, f->state, before, (int64_t)f->limit + 1);
	if (rc < 0)
		return rc;
	struct comms_message_row *r = arena_alloc(a, (size_t)f->limit * sizeof(*r));
	while ((rc = store_step(s)) == 1) {
		if (k == f->limit) {
			*more = 1;
			continue;
		}
		struct comms_message_row *x = &r[k++];
		x->id = store_col_int(s, 0);
		x->patient_id = store_col_int(s, 1);
		x->attempts = store_col_int(s, 2);
		x->created_at = store_col_int(s, 3);
		x->sent_at = store_col_int(s, 4);
		x->next_attempt_at = store_col_int(s, 5);
		x->kind = store_col_dup(s, 6, a);
		x->channel = store_col_dup(s, 7, a);
		x->recipient = store_col_dup(s, 8, a);
		x->subject = store_col_dup(s, 9, a);
		x->body = store_col_dup(s, 10, a);
		x->state = store_col_dup(s, 11, a);
		x->last_error = store_col_dup(s, 12, a);
		x->provider_ref = store_col_dup(s, 13, a);
	}
	store_done(s);
	if (rc < 0)
		return rc;
	*rows = r;
	*n = k;
	return 0;
}

int comms_message_counts(struct store_conn *c, int64_t org_id, int64_t counts[5])
{
	struct store_stmt *s = NULL;
	int rc;

	memset(counts, 0, 5 * sizeof(counts[0]));
	rc = store_query(c, &s,
	                 "SELECT state, COUNT(*) FROM messages WHERE org_id = ? GROUP BY state",
	                 "i", org_id);
	if (rc < 0)
		return rc;
	while ((rc = store_step(s)) == 1) {
		const char *state = store_col_text(s, 0);
		for (size_t i = 0; state != NULL && i < ARRAY_LEN(comms_message_states); i++)
			if (strcmp(state, comms_message_states[i]) == 0)
				counts[i] = store_col_int(s, 1);
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

int comms_message_retry(struct store_conn *c, int64_t org_id, int64_t id, int64_t now)
{
	int64_t changes = 0;
	int rc =
	    store_exec(c, &changes,
	               "UPDATE messages SET state = 'queued', attempts = 0, next_attempt_at = ? "
	               "WHERE id = ? AND org_id = ? AND state = 'dead' AND body <> ''",
	               "iii", now, id, org_id);
	if (rc < 0)
		return rc;
	return changes == 1 ? 0 : STORE_NOTFOUND;
}
