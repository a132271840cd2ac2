/*
 * comms/triggers: payment requests, payment reminders, appointment reminders
 * and recalls, queued by themselves (see triggers.h), the scheduler thread
 * that runs them in `invito serve`, and the recalls staff set up.
 *
 * Each job reads its candidates in batches (id order, keyset), then handles
 * each in a transaction of its own: it re-checks the row inside the
 * transaction (a payment that just arrived, a reschedule, a cancellation
 * stops the message), queues every message through comms_queue() with its
 * dedupe_key, records it (messages.appointment_id / recall_id, the row's
 * reminder_sent_at / sent_at) and commits; when every key was already taken
 * (another run, another node) it rolls back, so nothing is written twice,
 * not even the invitation a link tag would have made.
 *
 * A message goes by SMS when there is a mobile, else by e-mail; a family
 * member without contacts of their own is reached through the managing
 * patient's. A recall goes by the channel staff chose, falling back to the
 * other one when the patient has no such contact; a patient with no contact
 * at all is never handled, so the recall stays due where staff can see it.
 * It must never log a message body, a recipient or a link.
 */
#include "comms/triggers.h"

#include "booking/booking.h"
#include "booking/tz.h"
#include "comms/outbox.h"
#include "comms/tags.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	BATCH = 200,     /* candidates read at once */
	HOURS_CACHE = 32 /* organisations whose settings one run remembers */
};

static int from_store(int rc)
{
	return rc == 0                ? 0
	       : rc == STORE_BUSY     ? COMMS_BUSY
	       : rc == STORE_NOTFOUND ? COMMS_NOTFOUND
	                              : COMMS_ERR;
}

/* --- settings ------------------------------------------------------------------- */

static int hours_of(struct store_conn *c, int64_t org_id, const char *key, int *hours)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s, "SELECT value FROM org_settings WHERE org_id = ? AND key = ?",
	                     "it", org_id, key);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		int64_t v = 0;
		/* a malformed value is ignored (the default applies), never an error */
		rc = parse_i64(store_col_text(s, 0), 1, COMMS_TRIGGER_HOURS_MAX, &v) == 0
		         ? 0
		         : STORE_NOTFOUND;
		*hours = (int)v;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

int comms_setting_hours(struct store_conn *c, int64_t org_id, const char *key, int def, int *hours)
{
	*hours = def;
	int rc = hours_of(c, org_id, key, hours);
	if (rc != STORE_NOTFOUND)
		return rc;
	int64_t parent = 0;
	rc = store_scalar(c, &parent,
	                  "SELECT COALESCE(parent_id, 0) FROM organisations WHERE id = ?", "i",
	                  org_id);
	if (rc == 0 && parent > 0)
		rc = hours_of(c, parent, key, hours);
	if (rc == STORE_NOTFOUND) {
		*hours = def;
		rc = 0;
	}
	return rc;
}

/* The largest value any organisation set for key (at least def): the candidates' window. */
static int max_hours(struct store_conn *c, const char *key, int def, int *out)
{
	struct store_stmt *s = NULL;
	*out = def;
	int rc = store_query(c, &s, "SELECT value FROM org_settings WHERE key = ?", "t", key);
	if (rc != 0)
		return rc;
	while ((rc = store_step(s)) == 1) {
		int64_t v = 0;
		if (parse_i64(store_col_text(s, 0), 1, COMMS_TRIGGER_HOURS_MAX, &v) == 0 &&
		    v > *out)
			*out = (int)v;
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

/* Settings of the organisations one run has met. */
struct hours_cache {
	const char *key;
	int def, n;
	int64_t org[HOURS_CACHE];
	int hours[HOURS_CACHE];
};

static int cached_hours(struct store_conn *c, struct hours_cache *hc, int64_t org_id, int *hours)
{
	for (int i = 0; i < hc->n; i++) {
		if (hc->org[i] == org_id) {
			*hours = hc->hours[i];
			return 0;
		}
	}
	int rc = comms_setting_hours(c, org_id, hc->key, hc->def, hours);
	if (rc == 0 && hc->n < HOURS_CACHE) {
		hc->org[hc->n] = org_id;
		hc->hours[hc->n++] = *hours;
	}
	return rc;
}

/* --- recipients -------------------------------------------------------------------- */

/* A patient's organisation and contacts: its own, else its managing patient's. */
struct contact {
	int64_t org_id;
	char mobile[64], email[256];
};

static void copy_col(struct store_stmt *s, int col, char *out, size_t size)
{
	const char *v = store_col_text(s, col);
	snprintf(out, size, "%s", v != NULL ? v : "");
}

static int contact_of(struct store_conn *c, int64_t patient_id, struct contact *out)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc =
	    store_query(c, &s,
	                "SELECT p.org_id, p.mobile, p.email, m.mobile, m.email FROM patients p "
	                "LEFT JOIN patients m ON m.id = p.managed_by WHERE p.id = ?",
	                "i", patient_id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		out->org_id = store_col_int(s, 0);
		copy_col(s, 1, out->mobile, sizeof(out->mobile));
		if (out->mobile[0] == '\0')
			copy_col(s, 3, out->mobile, sizeof(out->mobile));
		copy_col(s, 2, out->email, sizeof(out->email));
		if (out->email[0] == '\0')
			copy_col(s, 4, out->email, sizeof(out->email));
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

/* --- queueing once ---------------------------------------------------------------------- */

/* One message of a set: its channel, recipient and dedupe key. */
struct outgoing {
	const char *channel, *recipient;
	char key[80];
};

/* What a set re-checks and records in its transaction. */
struct record {
	const char *guard; /* SQL: one row counted when the message is still wanted, or NULL */
	const char *guard_types;
	int64_t guard_a, guard_b;
	const char *mark; /* SQL with (now, id) recording it, or NULL */
	int64_t mark_id;
};

/*
 * Queues o[0..n) for x in one transaction with r's guard and mark; rolls back when the guard
 * fails or every key was already taken. *queued gets the messages written (0 or more).
 */
static int queue_set(struct store_conn *c, struct comms_ctx *x, struct outgoing *o, int n,
                     const struct record *r, int64_t now, int *queued)
{
	int rc, wrote = 0;
	*queued = 0;
	if ((rc = store_begin(c)) != 0)
		return from_store(rc);
	if (r->guard != NULL) {
		int64_t still = 0;
		rc =
		    r->guard_types[1] == '\0'
		        ? store_scalar(c, &still, r->guard, r->guard_types, r->guard_a)
		        : store_scalar(c, &still, r->guard, r->guard_types, r->guard_a, r->guard_b);
		if ((rc = from_store(rc)) != 0 || still == 0)
			goto out;
	}
	for (int i = 0; i < n; i++) {
		int64_t mid = 0;
		x->channel = o[i].channel;
		if ((rc = comms_queue(c, x, o[i].recipient, o[i].key, now, &mid)) != 0)
			goto out;
		if (mid == 0)
			continue;
		wrote++;
		rc = store_exec(
		    c, NULL, "UPDATE messages SET appointment_id = ?, recall_id = ? WHERE id = ?",
		    "IIi", x->appointment_id, x->recall_id, mid);
		if ((rc = from_store(rc)) != 0)
			goto out;
	}
	if (wrote == 0)
		goto out;
	if (r->mark != NULL &&
	    (rc = from_store(store_exec(c, NULL, r->mark, "ii", now, r->mark_id))) != 0)
		goto out;
	if ((rc = from_store(store_commit(c))) == 0)
		*queued = wrote;
out:
	if (*queued == 0)
		store_rollback(c);
	return rc;
}

/* Adds one outcome to stats: queued, skipped (nothing to write, or no such row) or failed. */
static void count(struct comms_trigger_stats *st, int rc, int queued, const char *what, int64_t id)
{
	if (rc == 0 && queued > 0)
		st->queued += queued;
	else if (rc == 0 || rc == COMMS_NOTFOUND)
		st->skipped++;
	else {
		st->failed++;
		log_warn("triggers: %s %" PRId64 " not queued (%d); tried again next run", what, id,
		         rc);
	}
}

/* Fills o with the SMS when there is a mobile, else the e-mail; 0 when neither. */
static int one_channel(const struct contact *ct, struct outgoing *o)
{
	if (ct->mobile[0] != '\0') {
		o->channel = "sms";
		o->recipient = ct->mobile;
		return 1;
	}
	if (ct->email[0] != '\0') {
		o->channel = "email";
		o->recipient = ct->email;
		return 1;
	}
	return 0;
}

/* --- payment requests ------------------------------------------------------------------ */

/* Still wanted: booked, unpaid, and (for reminders) at the same start. */
#define GUARD_UNPAID                                                                               \
	"SELECT COUNT(*) FROM appointments WHERE id = ? AND status = 'booked' AND paid_at IS "     \
	"NULL "                                                                                    \
	"AND kind = 'video' AND payment = 'mandatory' AND booked_via <> 'online'"

int comms_trigger_payment_request(struct store_conn *c, int64_t appointment_id, int64_t now,
                                  int *queued)
{
	struct store_stmt *s = NULL;
	struct booking_appointment ap;
	int64_t patient = 0;
	int wrote = 0;

	if (queued != NULL)
		*queued = 0;
	memset(&ap, 0, sizeof(ap));
	int rc = store_query(c, &s,
	                     "SELECT patient_id, kind, payment, booked_via, status, "
	                     "COALESCE(paid_at, 0), start_at FROM appointments WHERE id = ?",
	                     "i", appointment_id);
	if (rc != 0)
		return from_store(rc);
	rc = store_step(s);
	if (rc == 1) {
		const char *kind = store_col_text(s, 1), *pay = store_col_text(s, 2);
		const char *via = store_col_text(s, 3), *status = store_col_text(s, 4);
		patient = store_col_int(s, 0);
		ap.kind =
		    kind != NULL && strcmp(kind, "video") == 0 ? BOOKING_VIDEO : BOOKING_IN_PERSON;
		ap.payment = pay != NULL && strcmp(pay, "mandatory") == 0  ? BOOKING_PAY_MANDATORY
		             : pay != NULL && strcmp(pay, "optional") == 0 ? BOOKING_PAY_OPTIONAL
		                                                           : BOOKING_PAY_NONE;
		ap.via = via != NULL && strcmp(via, "online") == 0   ? BOOKING_VIA_ONLINE
		         : via != NULL && strcmp(via, "import") == 0 ? BOOKING_VIA_IMPORT
		                                                     : BOOKING_VIA_OFFLINE;
		ap.status = status != NULL && strcmp(status, "booked") == 0 ? BOOKING_BOOKED
		                                                            : BOOKING_CANCELLED;
		ap.paid_at = store_col_int(s, 5);
		ap.start_at = store_col_int(s, 6);
		rc = 0;
	} else {
		rc = rc == 0 ? COMMS_NOTFOUND : from_store(rc);
	}
	store_done(s);
	if (rc != 0 || !booking_needs_payment_request(&ap) || ap.start_at <= now)
		return rc;

	struct contact ct;
	struct outgoing o;
	if ((rc = from_store(contact_of(c, patient, &ct))) != 0)
		return rc;
	if (!one_channel(&ct, &o))
		return 0; /* no contact: staff see "not paid" on the day view */
	snprintf(o.key, sizeof(o.key), "payreq:%" PRId64, appointment_id);
	struct comms_ctx x = {.kind = COMMS_PAYMENT_REQUEST,
	                      .org_id = ct.org_id,
	                      .patient_id = patient,
	                      .appointment_id = appointment_id};
	struct record r = {.guard = GUARD_UNPAID, .guard_types = "i", .guard_a = appointment_id};
	rc = queue_set(c, &x, &o, 1, &r, now, &wrote);
	if (rc != 0 && rc != COMMS_NOTFOUND)
		log_warn("triggers: payment request for appointment %" PRId64 " not queued (%d)",
		         appointment_id, rc);
	if (rc == 0 && queued != NULL)
		*queued = wrote > 0;
	return rc;
}

/* Reads up to BATCH ids (first column) of the candidates query into ids; *n. */
static int read_ids(struct store_stmt *s, int64_t *ids, int64_t *extra, int nextra, int *n)
{
	int rc;
	*n = 0;
	while (*n < BATCH && (rc = store_step(s)) == 1) {
		ids[*n] = store_col_int(s, 0);
		for (int k = 0; k < nextra; k++)
			extra[*n * nextra + k] = store_col_int(s, 1 + k);
		(*n)++;
	}
	return *n == BATCH ? 0 : rc < 0 ? rc : 0;
}

/* The catch-up: offline or imported video consultations with mandatory payment, unpaid and
 * ahead, that have no payment request yet (imports, a crash right after a booking). */
static int due_payment_requests(struct store *st, int64_t now, struct comms_trigger_stats *out)
{
	struct store_conn *c = store_acquire(st);
	int64_t ids[BATCH], after = 0;
	int n = 0, rc = 0;
	do {
		struct store_stmt *s = NULL;
		rc = store_query(c, &s,
		                 "SELECT ap.id FROM appointments ap WHERE ap.kind = 'video' AND "
		                 "ap.payment = 'mandatory' AND ap.booked_via <> 'online' AND "
		                 "ap.status = 'booked' AND ap.paid_at IS NULL AND ap.start_at > ? "
		                 "AND ap.id > ? AND NOT EXISTS (SELECT 1 FROM messages m WHERE "
		                 "m.dedupe_key = 'payreq:' || CAST(ap.id AS TEXT)) "
		                 "ORDER BY ap.id LIMIT ?",
		                 "iii", now, after, (int64_t)BATCH);
		if (rc == 0)
			rc = read_ids(s, ids, NULL, 0, &n);
		store_done(s);
		if (rc != 0)
			break;
		for (int i = 0; i < n; i++) {
			int q = 0;
			int e = comms_trigger_payment_request(c, ids[i], now, &q);
			count(out, e, q, "payment request for appointment", ids[i]);
			after = ids[i];
		}
	} while (n == BATCH);
	store_release(c);
	return from_store(rc);
}

/* One more payment request 'payment_reminder_hours' before the start while still unpaid,
 * when the first went out before that window opened. */
static int due_payment_reminders(struct store *st, int64_t now, struct comms_trigger_stats *out)
{
	struct store_conn *c = store_acquire(st);
	struct hours_cache hc = {.key = "payment_reminder_hours",
	                         .def = COMMS_PAY_REMINDER_HOURS_DEFAULT};
	int64_t ids[BATCH], extra[BATCH * 4], after = 0;
	int n = 0, window = 0;
	int rc = max_hours(c, hc.key, hc.def, &window);
	if (rc != 0)
		goto out;
	do {
		struct store_stmt *s = NULL;
		rc = store_query(
		    c, &s,
		    "SELECT ap.id, ap.start_at, ap.org_id, ap.patient_id, m.created_at "
		    "FROM appointments ap JOIN messages m ON "
		    "m.dedupe_key = 'payreq:' || CAST(ap.id AS TEXT) "
		    "WHERE ap.kind = 'video' AND ap.payment = 'mandatory' AND "
		    "ap.booked_via <> 'online' AND ap.status = 'booked' AND ap.paid_at IS NULL "
		    "AND ap.start_at > ? AND ap.start_at <= ? AND ap.id > ? AND NOT EXISTS "
		    "(SELECT 1 FROM messages r WHERE r.dedupe_key = 'payrem:' || "
		    "CAST(ap.id AS TEXT) || ':' || CAST(ap.start_at AS TEXT)) "
		    "ORDER BY ap.id LIMIT ?",
		    "iiii", now, now + (int64_t)window * 3600, after, (int64_t)BATCH);
		if (rc == 0)
			rc = read_ids(s, ids, extra, 4, &n);
		store_done(s);
		if (rc != 0)
			break;
		for (int i = 0; i < n; i++) {
			int64_t start = extra[i * 4], org = extra[i * 4 + 1];
			int64_t patient = extra[i * 4 + 2], asked = extra[i * 4 + 3];
			int hours = 0, q = 0;
			after = ids[i];
			int e = from_store(cached_hours(c, &hc, org, &hours));
			int64_t opens = start - (int64_t)hours * 3600;
			if (e == 0 && (now < opens || asked >= opens))
				continue; /* not yet, or the request itself went out inside the
				             window */
			struct contact ct;
			struct outgoing o;
			if (e == 0)
				e = from_store(contact_of(c, patient, &ct));
			if (e == 0 && one_channel(&ct, &o)) {
				snprintf(o.key, sizeof(o.key), "payrem:%" PRId64 ":%" PRId64,
				         ids[i], start);
				struct comms_ctx x = {.kind = COMMS_PAYMENT_REQUEST,
				                      .org_id = ct.org_id,
				                      .patient_id = patient,
				                      .appointment_id = ids[i]};
				struct record r = {.guard = GUARD_UNPAID " AND start_at = ?",
				                   .guard_types = "ii",
				                   .guard_a = ids[i],
				                   .guard_b = start};
				e = queue_set(c, &x, &o, 1, &r, now, &q);
			}
			count(out, e, q, "payment reminder for appointment", ids[i]);
		}
	} while (n == BATCH);
out:
	store_release(c);
	return from_store(rc);
}

/* --- appointment reminders -------------------------------------------------------------- */

/* 'reminder_hours' before the start of every booked appointment, once per start: an
 * appointment booked inside that window gets none (the patient has just booked it). */
static int due_reminders(struct store *st, int64_t now, struct comms_trigger_stats *out)
{
	struct store_conn *c = store_acquire(st);
	struct hours_cache hc = {.key = "reminder_hours", .def = COMMS_REMINDER_HOURS_DEFAULT};
	int64_t ids[BATCH], extra[BATCH * 4], after = 0;
	int n = 0, window = 0;
	int rc = max_hours(c, hc.key, hc.def, &window);
	if (rc != 0)
		goto out;
	do {
		struct store_stmt *s = NULL;
		rc = store_query(
		    c, &s,
		    "SELECT ap.id, ap.start_at, ap.org_id, ap.patient_id, ap.created_at "
		    "FROM appointments ap WHERE ap.status = 'booked' AND "
		    "ap.start_at > ? AND ap.start_at <= ? AND ap.id > ? AND NOT EXISTS "
		    "(SELECT 1 FROM messages m WHERE m.dedupe_key = 'reminder:' || "
		    "CAST(ap.id AS TEXT) || ':' || CAST(ap.start_at AS TEXT)) "
		    "ORDER BY ap.id LIMIT ?",
		    "iiii", now, now + (int64_t)window * 3600, after, (int64_t)BATCH);
		if (rc == 0)
			rc = read_ids(s, ids, extra, 4, &n);
		store_done(s);
		if (rc != 0)
			break;
		for (int i = 0; i < n; i++) {
			int64_t start = extra[i * 4], org = extra[i * 4 + 1];
			int64_t patient = extra[i * 4 + 2], created = extra[i * 4 + 3];
			int hours = 0, q = 0;
			after = ids[i];
			int e = from_store(cached_hours(c, &hc, org, &hours));
			int64_t opens = start - (int64_t)hours * 3600;
			if (e == 0 && (now < opens || created > opens))
				continue;
			struct contact ct;
			struct outgoing o;
			if (e == 0)
				e = from_store(contact_of(c, patient, &ct));
			if (e == 0 && one_channel(&ct, &o)) {
				snprintf(o.key, sizeof(o.key), "reminder:%" PRId64 ":%" PRId64,
				         ids[i], start);
				struct comms_ctx x = {.kind = COMMS_REMINDER,
				                      .org_id = ct.org_id,
				                      .patient_id = patient,
				                      .appointment_id = ids[i]};
				struct record r = {
				    .guard = "SELECT COUNT(*) FROM appointments WHERE id = ? AND "
				             "status = 'booked' AND start_at = ?",
				    .guard_types = "ii",
				    .guard_a = ids[i],
				    .guard_b = start,
				    .mark =
				        "UPDATE appointments SET reminder_sent_at = ? WHERE id = ?",
				    .mark_id = ids[i]};
				e = queue_set(c, &x, &o, 1, &r, now, &q);
			}
			count(out, e, q, "reminder for appointment", ids[i]);
		}
	} while (n == BATCH);
out:
	store_release(c);
	return from_store(rc);
}

/* --- recalls ------------------------------------------------------------------------- */

static int local_today(const char *zone, int64_t now, char out[11])
{
	struct tz_local l;
	if (tz_utc_to_local(zone != NULL ? zone : "UTC", now, &l) != 0 &&
	    tz_utc_to_local("UTC", now, &l) != 0)
		return -1;
	char tmp[40];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", l.year, l.month, l.day);
	if (strlen(tmp) != 10)
		return -1;
	memcpy(out, tmp, 11);
	return 0;
}

/* The channels of a recall for ct: the one chosen, else the other; both when "both". */
static int recall_channels(const char *channel, const struct contact *ct, struct outgoing o[2])
{
	int n = 0, sms = ct->mobile[0] != '\0', email = ct->email[0] != '\0';
	int want_sms = strcmp(channel, "email") != 0, want_email = strcmp(channel, "sms") != 0;
	if (want_sms && !sms && !want_email)
		want_email = 1;
	if (want_email && !email && !want_sms)
		want_sms = 1;
	if (want_sms && sms) {
		o[n].channel = "sms";
		o[n++].recipient = ct->mobile;
	}
	if (want_email && email) {
		o[n].channel = "email";
		o[n++].recipient = ct->email;
	}
	return n;
}

/* Waiting recalls whose due date (the organisation's local day) has come. */
static int due_recalls(struct store *st, int64_t now, struct comms_trigger_stats *out)
{
	struct store_conn *c = store_acquire(st);
	struct arena *a = arena_create();
	int64_t after = 0;
	int n = 0, rc;
	char latest[11];
	/* no zone is more than 14 hours ahead of UTC: later dates cannot be due anywhere */
	local_today("UTC", now + 14 * 3600, latest);
	do {
		struct store_stmt *s = NULL;
		struct {
			int64_t id, patient;
			char *channel, *due, *zone;
		} row[BATCH];
		n = 0;
		rc = store_query(c, &s,
		                 "SELECT r.id, r.patient_id, r.channel, r.due_date, o.timezone "
		                 "FROM recalls r JOIN organisations o ON o.id = r.org_id "
		                 "WHERE r.sent_at IS NULL AND r.cancelled_at IS NULL AND "
		                 "r.due_date <= ? AND r.id > ? ORDER BY r.id LIMIT ?",
		                 "tii", latest, after, (int64_t)BATCH);
		while (rc == 0 && n < BATCH && (rc = store_step(s)) == 1) {
			row[n].id = store_col_int(s, 0);
			row[n].patient = store_col_int(s, 1);
			row[n].channel = store_col_dup(s, 2, a);
			row[n].due = store_col_dup(s, 3, a);
			row[n].zone = store_col_dup(s, 4, a);
			n++;
			rc = 0;
		}
		store_done(s);
		if (rc < 0)
			break;
		rc = 0;
		for (int i = 0; i < n; i++) {
			char today[11];
			struct contact ct;
			struct outgoing o[2];
			int q = 0, k = 0;
			after = row[i].id;
			if (local_today(row[i].zone, now, today) != 0 ||
			    strcmp(row[i].due, today) > 0)
				continue;
			int e = from_store(contact_of(c, row[i].patient, &ct));
			if (e == 0 && (k = recall_channels(row[i].channel, &ct, o)) > 0) {
				for (int j = 0; j < k; j++)
					snprintf(o[j].key, sizeof(o[j].key),
					         "recall:%" PRId64 ":%s", row[i].id, o[j].channel);
				struct comms_ctx x = {.kind = COMMS_RECALL,
				                      .org_id = ct.org_id,
				                      .patient_id = row[i].patient,
				                      .recall_id = row[i].id};
				struct record r = {.guard = "SELECT COUNT(*) FROM recalls WHERE id "
				                            "= ? AND sent_at IS NULL "
				                            "AND cancelled_at IS NULL",
				                   .guard_types = "i",
				                   .guard_a = row[i].id,
				                   .mark = "UPDATE recalls SET sent_at = ? WHERE "
				                           "id = ? AND sent_at IS NULL",
				                   .mark_id = row[i].id};
				e = queue_set(c, &x, o, k, &r, now, &q);
			}
			count(out, e, q, "recall", row[i].id);
		}
	} while (n == BATCH);
	arena_free(a);
	store_release(c);
	return from_store(rc);
}

/* --- the table --------------------------------------------------------------------- */

/* In the order they run: a payment request before the reminders that follow it. */
static const struct comms_trigger triggers[] = {
    {"payment requests", due_payment_requests},
    {"payment reminders", due_payment_reminders},
    {"appointment reminders", due_reminders},
    {"recalls", due_recalls},
};

const struct comms_trigger *comms_trigger_table(int *n)
{
	if (n != NULL)
		*n = (int)ARRAY_LEN(triggers);
	return triggers;
}

int comms_triggers_run(struct store *st, int64_t now, struct comms_trigger_stats *stats)
{
	int first = 0;
	for (size_t i = 0; i < ARRAY_LEN(triggers); i++) {
		struct comms_trigger_stats one = {0};
		int rc = triggers[i].run(st, now, &one);
		if (rc != 0) {
			log_warn("triggers: %s failed (%d)", triggers[i].name, rc);
			if (first == 0)
				first = rc;
		}
		if (stats != NULL)
			stats[i] = one;
	}
	return first;
}

/* --- the scheduler thread ---------------------------------------------------------------- */

/* Old message texts go at most this often: the pass reads every organisation's messages. */
#define PURGE_EVERY_S 3600

struct comms_scheduler {
	struct store *st;
	int64_t purged_at;
	int interval_s, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
};

static void *scheduler_run(void *arg)
{
	struct comms_scheduler *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		pthread_mutex_unlock(&s->lock);
		int64_t now = now_utc();
		comms_triggers_run(s->st, now, NULL);
		if (now - s->purged_at >= PURGE_EVERY_S) {
			int removed = 0;
			if (comms_outbox_purge(s->st, now, &removed) == 0)
				s->purged_at = now;
			if (removed > 0)
				log_info("outbox: %d old message texts removed", removed);
		}
		pthread_mutex_lock(&s->lock);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += s->interval_s;
		while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int comms_scheduler_start(struct comms_scheduler **out, struct store *st, int interval_s)
{
	*out = NULL;
	if (st == NULL || interval_s < 1 || interval_s > 86400)
		return -1;
	struct comms_scheduler *s = xcalloc(1, sizeof(*s));
	s->st = st;
	s->interval_s = interval_s;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->thread, NULL, scheduler_run, s) != 0) {
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void comms_scheduler_stop(struct comms_scheduler *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* --- recalls staff set up ------------------------------------------------------------------ */

static const char *const recall_channel_values[] = {"sms", "email", "both"};

static int recall_err(int rc)
{
	return rc == 0                ? COMMS_RECALL_OK
	       : rc == STORE_NOTFOUND ? COMMS_RECALL_NOTFOUND
	       : rc == STORE_INVALID  ? COMMS_RECALL_INVALID
	                              : COMMS_RECALL_ERR;
}

int comms_org_today(struct store_conn *c, int64_t org_id, int64_t now, char out[11])
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s, "SELECT timezone FROM organisations WHERE id = ?", "i", org_id);
	if (rc != 0)
		return recall_err(rc);
	rc = store_step(s);
	if (rc == 1)
		rc = local_today(store_col_text(s, 0), now, out) == 0 ? 0 : COMMS_RECALL_ERR;
	else
		rc = rc == 0 ? COMMS_RECALL_NOTFOUND : recall_err(rc);
	store_done(s);
	return rc;
}

int comms_recall_create(struct store_conn *c, int64_t org_id, int64_t patient_id,
                        int64_t service_id, const char *due_date, const char *channel,
                        int64_t staff_id, const char *ip, int64_t now, int64_t *id)
{
	int64_t days = 0, got = 0, rid = 0;
	int ok_channel = 0;
	for (size_t i = 0; channel != NULL && i < ARRAY_LEN(recall_channel_values); i++)
		ok_channel |= strcmp(channel, recall_channel_values[i]) == 0;
	if (!ok_channel || due_date == NULL || strlen(due_date) != 10 ||
	    tz_parse_date(due_date, &days) != 0)
		return COMMS_RECALL_INVALID;
	int rc = store_scalar(c, &got, "SELECT id FROM patients WHERE id = ? AND org_id = ?", "ii",
	                      patient_id, org_id);
	if (rc != 0)
		return recall_err(rc);
	/* the organisation's services, its members', or its customer's */
	rc = store_scalar(c, &got,
	                  "SELECT s.id FROM services s JOIN organisations so ON so.id = s.org_id "
	                  "WHERE s.id = ? AND (s.org_id = ? OR so.parent_id = ? OR s.org_id = "
	                  "(SELECT parent_id FROM organisations WHERE id = ?))",
	                  "iiii", service_id, org_id, org_id, org_id);
	if (rc != 0)
		return recall_err(rc);
	if ((rc = store_begin(c)) != 0)
		return recall_err(rc);
	rc = store_insert(c, &rid,
	                  "INSERT INTO recalls (org_id, patient_id, service_id, due_date, channel, "
	                  "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
	                  "iiittIi", org_id, patient_id, service_id, due_date, channel, staff_id,
	                  now);
	if (rc == 0) {
		char detail[64];
		snprintf(detail, sizeof(detail), "patient=%" PRId64 " service=%" PRId64, patient_id,
		         service_id);
		rc = store_audit(c, org_id, "staff", staff_id, "recall.create", "recall", rid, ip,
		                 detail);
	}
	if (rc == 0)
		rc = store_commit(c);
	if (rc != 0) {
		store_rollback(c);
		return recall_err(rc);
	}
	if (id != NULL)
		*id = rid;
	return 0;
}

int comms_recall_cancel(struct store_conn *c, int64_t org_id, int64_t id, int64_t staff_id,
                        const char *ip, int64_t now)
{
	int64_t changes = 0, exists = 0;
	int rc = store_scalar(c, &exists, "SELECT id FROM recalls WHERE id = ? AND org_id = ?",
	                      "ii", id, org_id);
	if (rc != 0)
		return recall_err(rc);
	if ((rc = store_begin(c)) != 0)
		return recall_err(rc);
	rc = store_exec(c, &changes,
	                "UPDATE recalls SET cancelled_at = ? WHERE id = ? AND org_id = ? AND "
	                "sent_at IS NULL AND cancelled_at IS NULL",
	                "iii", now, id, org_id);
	if (rc == 0 && changes == 0)
		rc = 1; /* sent or cancelled meanwhile */
	if (rc == 0)
		rc = store_audit(c, org_id, "staff", staff_id, "recall.cancel", "recall", id, ip,
		                 NULL);
	if (rc == 0)
		rc = store_commit(c);
	if (rc != 0) {
		store_rollback(c);
		return rc == 1 ? COMMS_RECALL_STATE : recall_err(rc);
	}
	return 0;
}

/* The filter's condition, and whether it binds today. */
static const struct {
	const char *sql;
	int today;
} recall_states[] = {
    [COMMS_RECALLS_ALL] = {"", 0},
    [COMMS_RECALLS_DUE] = {" AND r.sent_at IS NULL AND r.cancelled_at IS NULL AND "
                           "r.due_date <= ?",
                           1},
    [COMMS_RECALLS_UPCOMING] = {" AND r.sent_at IS NULL AND r.cancelled_at IS NULL AND "
                                "r.due_date > ?",
                                1},
    [COMMS_RECALLS_SENT] = {" AND r.sent_at IS NOT NULL", 0},
    [COMMS_RECALLS_CANCELLED] = {" AND r.cancelled_at IS NOT NULL", 0},
};

int comms_recall_list(struct store_conn *c, int64_t org_id, const struct comms_recall_filter *f,
                      int64_t now, struct comms_recall **rows, int *n, int *more, struct arena *a)
{
	struct store_stmt *s = NULL;
	char today[11];
	*rows = NULL;
	*n = 0;
	*more = 0;
	if ((unsigned)f->state >= ARRAY_LEN(recall_states) || f->limit < 1 || f->limit > 200)
		return COMMS_RECALL_INVALID;
	int rc = comms_org_today(c, org_id, now, today);
	if (rc != 0)
		return rc;
	int keyset = f->after_date != NULL && f->after_date[0] != '\0';
	/* constant fragments only: every value is bound */
	char *sql = arena_printf(
	    a,
	    "SELECT r.id, r.patient_id, r.service_id, r.due_date, r.channel, "
	    "COALESCE(r.sent_at, 0), COALESCE(r.cancelled_at, 0), r.created_at, s.name, "
	    "p.given_name, p.family_name FROM recalls r JOIN services s ON s.id = r.service_id "
	    "JOIN patients p ON p.id = r.patient_id WHERE r.org_id = ?%s%s%s "
	    "ORDER BY r.due_date, r.id LIMIT ?",
	    recall_states[f->state].sql, f->patient_id > 0 ? " AND r.patient_id = ?" : "",
	    keyset ? " AND (r.due_date > ? OR (r.due_date = ? AND r.id > ?))" : "");
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return recall_err(rc);
	rc = store_bind(s, "i", org_id);
	if (rc == 0 && recall_states[f->state].today)
		rc = store_bind(s, "t", today);
	if (rc == 0 && f->patient_id > 0)
		rc = store_bind(s, "i", f->patient_id);
	if (rc == 0 && keyset)
		rc = store_bind(s, "tti", f->after_date, f->after_date, f->after_id);
	if (rc == 0)
		rc = store_bind(s, "i", (int64_t)f->limit + 1);
	if (rc != 0)
		goto out;
	struct comms_recall *r = arena_alloc(a, (size_t)(f->limit + 1) * sizeof(*r));
	int k = 0;
	while ((rc = store_step(s)) == 1) {
		if (k == f->limit) {
			*more = 1;
			continue;
		}
		struct comms_recall *x = &r[k++];
		memset(x, 0, sizeof(*x));
		x->id = store_col_int(s, 0);
		x->patient_id = store_col_int(s, 1);
		x->service_id = store_col_int(s, 2);
		x->due_date = store_col_dup(s, 3, a);
		x->channel = store_col_dup(s, 4, a);
		x->sent_at = store_col_int(s, 5);
		x->cancelled_at = store_col_int(s, 6);
		x->created_at = store_col_int(s, 7);
		x->service = store_col_dup(s, 8, a);
		const char *g = store_col_text(s, 9), *fam = store_col_text(s, 10);
		x->patient_name = arena_printf(a, "%s %s", g ? g : "", fam ? fam : "");
		x->due = x->sent_at == 0 && x->cancelled_at == 0 && x->due_date != NULL &&
		         strcmp(x->due_date, today) <= 0;
	}
	if (rc < 0)
		goto out;
	*rows = r;
	*n = k;
	rc = 0;
out:
	store_done(s);
	return recall_err(rc);
}
