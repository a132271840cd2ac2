/*
 * comms/triggers: the messages a clinic sends by itself (issue 4 "Triggers",
 * DESIGN.md §2 "Message tags"), and the recalls staff set up.
 *
 *  - payment request: a video consultation with mandatory payment booked
 *    offline (staff page, import) gets "request payment in advance" (TRD104)
 *    once; a payment reminder goes out once more before the start while it is
 *    still unpaid, never after it was paid;
 *  - appointment reminder: org_settings 'reminder_hours' (default 24) before
 *    the start, with the invitation appendix where the organisation enabled it
 *    (comms_render decides);
 *  - recall: on its due date (the organisation's local day), by SMS, e-mail or
 *    both, with TRD89.
 *
 * Every message carries a dedupe_key (messages.dedupe_key is UNIQUE; the
 * insert is ON CONFLICT DO NOTHING) and is queued in a transaction of its own
 * with the row change that records it, which is rolled back when the key was
 * already taken: a job run twice, or by two nodes at once on PostgreSQL, sends
 * nothing twice and leaves no stray invitation. Keys:
 *   payreq:APPT            the payment request (one per appointment, ever)
 *   payrem:APPT:START      the payment reminder (again after a reschedule)
 *   reminder:APPT:START    the appointment reminder (again after a reschedule)
 *   recall:RECALL:CHANNEL  the recall, per channel
 * It must never log a message body, a recipient or a link.
 */
#ifndef INVITO_COMMS_TRIGGERS_H
#define INVITO_COMMS_TRIGGERS_H

#include <stdint.h>

struct arena;
struct store;
struct store_conn;

/* Defaults when org_settings has no value (for the appointment's place, then its customer). */
#define COMMS_REMINDER_HOURS_DEFAULT     24 /* 'reminder_hours' */
#define COMMS_PAY_REMINDER_HOURS_DEFAULT 48 /* 'payment_reminder_hours' */
#define COMMS_TRIGGER_HOURS_MAX          (24 * 14)

/* What one trigger did in one run. */
struct comms_trigger_stats {
	int queued;  /* messages written */
	int skipped; /* due but nothing to send (already sent by another run, no contact) */
	int failed;  /* store errors (logged); tried again next run */
};

/*
 * The payment request for appointment_id when it needs one
 * (booking_needs_payment_request: a booked, unpaid video consultation with
 * mandatory payment, booked offline or imported) and still starts after now.
 * Opens its own transaction: call it right after the booking committed. Safe
 * to call any number of times: *queued (may be NULL) is 1 only for the call
 * that wrote the message. Returns 0 (also when none is needed), or a negative
 * comms_render_err.
 */
int comms_trigger_payment_request(struct store_conn *c, int64_t appointment_id, int64_t now,
                                  int *queued);

/* One due job: runs its work at clock now on st, adding to *stats. 0 or a negative error. */
struct comms_trigger {
	const char *name; /* "payment requests", ... */
	int (*run)(struct store *st, int64_t now, struct comms_trigger_stats *stats);
};
/* The trigger table (one static const array); *n gets its length. */
const struct comms_trigger *comms_trigger_table(int *n);
/*
 * Runs every trigger once at clock now; stats (may be NULL) gets one entry per table row.
 * Returns 0, or the first negative error (the other triggers still ran).
 */
int comms_triggers_run(struct store *st, int64_t now, struct comms_trigger_stats *stats);

/*
 * The hours before an appointment at org_id its reminder leaves: org_settings key
 * ('reminder_hours' or 'payment_reminder_hours') of org_id, else of its customer, else
 * def. A malformed value counts as missing. 0 or a negative store_err.
 */
int comms_setting_hours(struct store_conn *c, int64_t org_id, const char *key, int def, int *hours);

/* --- scheduler (invito serve) -------------------------------------------------- */

struct comms_scheduler;
/*
 * Runs comms_triggers_run on a thread of its own every interval_s seconds (1..86400),
 * starting at once. st outlives it. 0 and *out, or -1.
 */
int comms_scheduler_start(struct comms_scheduler **out, struct store *st, int interval_s);
/* Stops the thread after the run in hand and frees; accepts NULL. */
void comms_scheduler_stop(struct comms_scheduler *s);

/* --- recalls ----------------------------------------------------------------- */

enum comms_recall_err {
	COMMS_RECALL_OK = 0,
	COMMS_RECALL_ERR = -1,      /* store failure */
	COMMS_RECALL_NOTFOUND = -2, /* patient, service or recall not of this organisation */
	COMMS_RECALL_INVALID = -3,  /* bad date or channel */
	COMMS_RECALL_STATE = -4,    /* already sent or cancelled */
};

struct comms_recall {
	int64_t id, patient_id, service_id, sent_at, cancelled_at, created_at;
	char *due_date; /* YYYY-MM-DD */
	char *channel;  /* sms, email, both */
	char *service, *patient_name;
	int due; /* not sent, not cancelled, due today or before (the organisation's day) */
};

/* Which recalls a list shows. */
enum comms_recall_state {
	COMMS_RECALLS_ALL = 0,
	COMMS_RECALLS_DUE,      /* waiting, due date reached */
	COMMS_RECALLS_UPCOMING, /* waiting, due date ahead */
	COMMS_RECALLS_SENT,
	COMMS_RECALLS_CANCELLED,
};

struct comms_recall_filter {
	enum comms_recall_state state;
	int64_t patient_id; /* 0: every patient */
	/* keyset: rows after (after_date, after_id) in (due_date, id) order; "" and 0 first */
	const char *after_date;
	int64_t after_id;
	int limit; /* 1..200 */
};

/*
 * A recall of patient_id (a patient of org_id) for service_id (the
 * organisation's, or its customer's when org_id is a member) due on due_date
 * (YYYY-MM-DD) by channel ("sms", "email", "both"), with the audit event
 * "recall.create". Returns 0 and *id (may be NULL), or an enum comms_recall_err.
 */
int comms_recall_create(struct store_conn *c, int64_t org_id, int64_t patient_id,
                        int64_t service_id, const char *due_date, const char *channel,
                        int64_t staff_id, const char *ip, int64_t now, int64_t *id);
/* Cancels a waiting recall of org_id (audit "recall.cancel"). 0 or an enum comms_recall_err. */
int comms_recall_cancel(struct store_conn *c, int64_t org_id, int64_t id, int64_t staff_id,
                        const char *ip, int64_t now);
/*
 * The recalls of org_id that f selects, in (due_date, id) order, into *rows (arena); *n
 * rows; *more set when another page follows. "Today" is now in the organisation's time
 * zone. 0 or an enum comms_recall_err.
 */
int comms_recall_list(struct store_conn *c, int64_t org_id, const struct comms_recall_filter *f,
                      int64_t now, struct comms_recall **rows, int *n, int *more, struct arena *a);
/* The organisation's local date at now as "YYYY-MM-DD" into out[11]. 0 or negative. */
int comms_org_today(struct store_conn *c, int64_t org_id, int64_t now, char out[11]);

#endif
