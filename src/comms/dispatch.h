/*
 * comms/dispatch: the outbox dispatcher. It claims due messages, sends them
 * through the channel's transport (transport.h), records the provider's
 * answer, retries transient failures with exponential backoff and gives up
 * ("dead", with the reason) on permanent failures and after max_attempts.
 *
 * Claiming is portable SQL, the same on SQLite and PostgreSQL: candidates are
 * read, then each is taken with a conditional update
 *   UPDATE messages SET state = 'sending', claimed_by = ?, claimed_at = ?, ...
 *   WHERE id = ? AND (due: queued/failed and next_attempt_at <= now,
 *                     or sending with a claim older than dispatch_claim_timeout)
 * in one transaction, in ascending id order, counting changes() == 1. On
 * PostgreSQL a second node's update of a row just claimed waits for the first
 * transaction and then sees the row no longer due (READ COMMITTED re-checks
 * the WHERE), so no message is ever claimed by two nodes at once; the fixed id
 * order means two nodes never deadlock. No backend hook is needed.
 *
 * Delivery is at least once, never knowingly twice: a message is marked sent
 * right after the provider's answer (in a group commit of at most 32 rows or
 * 50 ms). A node that dies before that commit leaves those rows 'sending';
 * after dispatch_claim_timeout another pass re-claims and re-sends them with
 * the same Message-ID / Idempotency-Key, which lets the receiving side drop
 * the copies. Exactly once would need the provider to take
 * part in our transaction; no SMTP server or SMS gateway does.
 *
 * Throttles: a token bucket per channel (rate_email_per_sec, rate_sms_per_sec)
 * per dispatcher, i.e. per node. It must never log a message body or a
 * recipient; last_error never holds a body.
 */
#ifndef INVITO_COMMS_DISPATCH_H
#define INVITO_COMMS_DISPATCH_H

#include <stdint.h>

struct arena;
struct config;
struct store;
struct store_conn;

struct comms_dispatcher;

/* What one pass (or a run of passes) did. */
struct comms_dispatch_stats {
	int claimed;  /* rows taken */
	int sent;     /* state sent */
	int retried;  /* state failed, to be tried again */
	int dead;     /* state dead */
	int released; /* given back untried after the provider went down */
};

/*
 * A dispatcher on st with cfg (both outlive it; cfg is read, never changed). Opens the
 * transports: with transport = log every channel goes to the log transport; otherwise
 * e-mail goes over SMTP when smtp_url is set and SMS to the gateway when sms_url is set,
 * and a channel without one stays queued (a warning says so). Returns 0 and *out, or -1.
 */
int comms_dispatcher_create(struct comms_dispatcher **out, struct store *st,
                            const struct config *cfg);
/* Stops the thread if it runs, closes the transports; accepts NULL. */
void comms_dispatcher_free(struct comms_dispatcher *d);

/*
 * One pass at clock `now` (seconds UTC; tests move it): claims up to dispatch_batch due
 * messages and handles each. Adds to *stats (may be NULL). Returns how many were claimed
 * (0: nothing due), or a negative store_err.
 */
int comms_dispatch_pass(struct comms_dispatcher *d, int64_t now,
                        struct comms_dispatch_stats *stats);
/* Passes at the real clock until one claims fewer than a batch (`invito run-due`). Returns
 * the number claimed in all, or a negative store_err. */
int comms_dispatch_drain(struct comms_dispatcher *d, struct comms_dispatch_stats *stats);

/* Runs passes on a thread of its own, every dispatch_interval_ms when idle, at once
 * when a pass was full. 0 or -1. */
int comms_dispatcher_start(struct comms_dispatcher *d);
/* Asks the thread to stop, waits for the message in hand to finish, joins. Accepts NULL
 * and a dispatcher that was never started. */
void comms_dispatcher_stop(struct comms_dispatcher *d);

/* Seconds to wait before the next try after `attempts` tries (1 min, 5 min, 30 min, 2 h,
 * 12 h, then 12 h). */
int64_t comms_dispatch_backoff(int attempts);

/* --- for the staff "Messages" page --------------------------------------- */

struct comms_message_row {
	int64_t id, patient_id, attempts, created_at, sent_at, next_attempt_at;
	char *kind, *channel, *recipient, *subject, *body, *state, *last_error, *provider_ref;
};

struct comms_message_filter {
	const char *state; /* NULL or "" for any, else one of the five states */
	int64_t before_id; /* keyset: rows with id < before_id (0 from the newest) */
	int limit;         /* 1..200 */
};

/*
 * The organisation's messages, newest first, into *rows (arena); *n rows; *more set when
 * an older page follows. STORE_INVALID for a bad filter. 0 or a negative store_err.
 */
int comms_message_list(struct store_conn *c, int64_t org_id, const struct comms_message_filter *f,
                       struct comms_message_row **rows, int *n, int *more, struct arena *a);
/* Counts of the organisation's messages by state, in the order of comms_message_states. */
int comms_message_counts(struct store_conn *c, int64_t org_id, int64_t counts[5]);
extern const char *const comms_message_states[5]; /* queued sending sent failed dead */

/*
 * Gives a dead message of org_id another life: state queued, attempts 0, due at now,
 * last_error kept until the next try. STORE_NOTFOUND when there is no such dead message in
 * that organisation, or its text was purged (comms_outbox_purge). 0 or a negative store_err.
 */
int comms_message_retry(struct store_conn *c, int64_t org_id, int64_t id, int64_t now);

#endif
