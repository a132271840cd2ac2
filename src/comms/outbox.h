/*
 * comms/outbox: the messages table seen as an outbox. A message is written
 * 'queued' in the caller's transaction, together with the change that causes
 * it (an invitation, a reset), so a rollback takes the message back too.
 * Delivery is a later issue: until then the `log` transport keeps messages in
 * the outbox and /dev/outbox lists them.
 * Nothing here may log a recipient's message body (it may hold a link).
 */
#ifndef INVITO_COMMS_OUTBOX_H
#define INVITO_COMMS_OUTBOX_H

#include <stdint.h>

struct arena;
struct store_conn;

/*
 * Queues one message in the caller's open transaction (or autocommitted when
 * none is open). kind: "invitation", "reset", "password_changed", ...;
 * channel: "sms" or "email"; subject NULL for SMS; patient_id 0 for none;
 * dedupe_key NULL for none, else a second message with the same key is not
 * written: 0 is returned with *id = 0. now: created_at. Returns 0 and *id
 * (may be NULL), or a negative store_err.
 */
int comms_outbox_add(struct store_conn *c, int64_t org_id, int64_t patient_id, const char *kind,
                     const char *channel, const char *recipient, const char *subject,
                     const char *body, const char *dedupe_key, int64_t now, int64_t *id);

struct comms_outbox_row {
	int64_t id, created_at;
	char *kind, *channel, *recipient, *subject, *body, *state; /* subject NULL for SMS */
};
/*
 * The newest `limit` messages (1..1000), newest first, into *rows (arena);
 * *n rows. For /dev/outbox only: the page must show it only when the
 * transport is `log`. Returns 0 or a negative store_err.
 */
int comms_outbox_list(struct store_conn *c, int limit, struct comms_outbox_row **rows, int *n,
                      struct arena *a);

/* Days a sent or dead message keeps its text when org_settings has no 'message_keep_days'. */
#define COMMS_KEEP_DAYS_DEFAULT 30
#define COMMS_KEEP_DAYS_MAX     3650

/*
 * Empties the text (body and subject) of every message that was sent, or died, more than its
 * organisation's 'message_keep_days' ago (default COMMS_KEEP_DAYS_DEFAULT; a malformed value
 * counts as missing), in batches, each in its own transaction. A message's text may hold a
 * live link, and a link is stored only as a hash everywhere else; the row itself (kind,
 * recipient, state, times, provider id) stays for the clinic's records. Idempotent.
 * *removed (may be NULL) gets the number of texts emptied. 0 or a negative store_err.
 */
struct store;
int comms_outbox_purge(struct store *st, int64_t now, int *removed);

#endif
