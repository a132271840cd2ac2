/*
 * booking: services, opening hours, slots and appointments — the booking
 * core the portal's search page and the staff "new appointment" form call.
 *
 * Who may touch what (every call takes a struct booking_actor):
 *  - staff of organisation S manage S and, when S is a customer, every member
 *    whose organisations.parent_id is S; a member's staff manage only their
 *    own member. Rows of any other organisation are BOOKING_NOTFOUND, never
 *    "forbidden", so ids of other clinics reveal nothing.
 *  - a patient signed in to portal P sees the organisations connected to P
 *    (organisations.portal_id = P: the customer that owns it and its members),
 *    only active services open to online booking, and acts for themselves or
 *    for a family member whose patients.managed_by is their own patient id.
 *
 * Times are int64 seconds UTC; opening hours are local wall times of the
 * organisation's zone (organisations.timezone), turned into UTC by booking/tz.h.
 * A slot's seat is taken with a conditional UPDATE (booked < capacity), so on
 * both SQLite and PostgreSQL (READ COMMITTED) a slot is never overbooked.
 * Nothing here sends a message: callers queue them from what these functions
 * return (see booking_needs_payment_request).
 */
#ifndef INVITO_BOOKING_H
#define INVITO_BOOKING_H

#include <stdint.h>

struct arena;
struct store_conn;

enum booking_err {
	BOOKING_OK = 0,
	BOOKING_ERR = -1,       /* store failure (logged by the store) */
	BOOKING_NOTFOUND = -2,  /* no such row, or not one this actor may see */
	BOOKING_TAKEN = -3,     /* the slot is full: someone else took the last seat */
	BOOKING_INVALID = -4,   /* a bad argument (named in the contract) */
	BOOKING_CUTOFF = -5,    /* too close to the start to cancel or reschedule */
	BOOKING_PAST = -6,      /* the slot or appointment has already started */
	BOOKING_FORBIDDEN = -7, /* a patient acting for someone they do not manage */
	BOOKING_STATE = -8,     /* the appointment is not booked (cancelled or done) */
	BOOKING_BUSY = -9,      /* the database stayed locked; try again */
	BOOKING_ZONE = -10,     /* the organisation's time zone is unknown */
};
/* English msgid for err, suitable for a page (translate with i18n_tr). */
const char *booking_strerror(int err);

enum booking_kind { BOOKING_IN_PERSON = 0, BOOKING_VIDEO = 1 };
enum booking_payment { BOOKING_PAY_NONE = 0, BOOKING_PAY_OPTIONAL = 1, BOOKING_PAY_MANDATORY = 2 };
enum booking_via { BOOKING_VIA_OFFLINE = 0, BOOKING_VIA_ONLINE = 1, BOOKING_VIA_IMPORT = 2 };
enum booking_status { BOOKING_BOOKED = 0, BOOKING_CANCELLED = 1, BOOKING_DONE = 2 };

/* Exactly one side is set: staff_org > 0 (staff) or portal_id > 0 (patient). */
struct booking_actor {
	int64_t staff_org;  /* staff: their organisation */
	int64_t staff_id;   /* staff: staff_users.id, recorded on offline bookings (0: none) */
	int64_t portal_id;  /* patient: the portal signed in to */
	int64_t patient_id; /* patient: the account's own patient id */
};

/* Default cancel/reschedule cut-off when org_settings has no 'cancel_cutoff_hours'. */
#define BOOKING_CUTOFF_HOURS_DEFAULT 24
/* Generation covers at most this many days per call. */
#define BOOKING_GENERATE_MAX_DAYS 400
/* At most this many opening-hours rows per (service, place). */
#define BOOKING_HOURS_MAX 64

/* --- services -------------------------------------------------------------- */

struct booking_service {
	int64_t id, org_id; /* org_id: the organisation that offers it */
	char *name;         /* const input on create/update; arena copy on reads */
	int duration_min;   /* > 0 */
	enum booking_kind kind;
	enum booking_payment payment;
	int64_t price_cents;        /* >= 0; mandatory payment needs > 0 */
	int online_booking, active; /* 0/1 */
	char *org_name;             /* filled by reads */
};

/*
 * Creates svc in svc->org_id, which the staff actor must manage; sets svc->id.
 * BOOKING_INVALID for an empty name, duration <= 0 or > 1440, a negative
 * price, or mandatory payment with price 0. BOOKING_NOTFOUND for an
 * organisation the actor does not manage (or a patient actor).
 */
int booking_service_create(struct store_conn *c, const struct booking_actor *who,
                           struct booking_service *svc);
/* Updates every field of svc (by svc->id; its organisation cannot change). Same checks. */
int booking_service_update(struct store_conn *c, const struct booking_actor *who,
                           const struct booking_service *svc);
/* One service the actor may see (a patient: active, online-bookable, on their portal). */
int booking_service_get(struct store_conn *c, const struct booking_actor *who, int64_t id,
                        struct booking_service *out, struct arena *a);
/*
 * Services the actor may see, by organisation then name; org_id > 0 narrows to
 * one organisation. *rows (arena), *n. Staff see inactive ones too.
 */
int booking_service_list(struct store_conn *c, const struct booking_actor *who, int64_t org_id,
                         struct booking_service **rows, int *n, struct arena *a);

/* --- opening hours ------------------------------------------------------------ */

struct booking_hours {
	int weekday;            /* 0 = Monday .. 6 = Sunday */
	int start_min, end_min; /* minutes from local midnight, 0 <= start < end <= 1440 */
	int slot_min;           /* slot length, > 0 and <= end - start */
	int capacity;           /* patients per slot, 1..1000 */
};

/*
 * Replaces the weekly pattern of service_id at place org_id (the service's own
 * organisation or a member of it) with hours[0..n) (n may be 0: closed). The
 * staff actor must manage org_id. Intervals of one weekday must not overlap
 * (BOOKING_INVALID). Existing slots are untouched until the next generation.
 */
int booking_hours_set(struct store_conn *c, const struct booking_actor *who, int64_t service_id,
                      int64_t org_id, const struct booking_hours *hours, int n);
/* The pattern, by weekday and start. */
int booking_hours_get(struct store_conn *c, const struct booking_actor *who, int64_t service_id,
                      int64_t org_id, struct booking_hours **rows, int *n, struct arena *a);

/* --- slots ------------------------------------------------------------------- */

struct booking_generate_result {
	int created; /* new slots */
	int updated; /* existing slots whose length or capacity changed */
	int removed; /* free, never-booked slots no longer in the pattern */
	int kept;    /* slots no longer in the pattern kept because they hold bookings */
};

/*
 * Generates the slots of (service_id, org_id) for the local days from_date to
 * to_date inclusive ("YYYY-MM-DD", at most BOOKING_GENERATE_MAX_DAYS) from its
 * opening hours, in the organisation's time zone: a wall time skipped by the
 * spring DST change gets no slot; the repeated autumn hour gets one slot, at
 * its first occurrence. Idempotent: unique (service, place, start) means a
 * rerun creates nothing twice; a changed capacity never drops below what is
 * booked; slots that left the pattern are removed only when nobody ever
 * booked them. One transaction. res may be NULL.
 */
int booking_slots_generate(struct store_conn *c, const struct booking_actor *who,
                           int64_t service_id, int64_t org_id, const char *from_date,
                           const char *to_date, struct booking_generate_result *res);

struct booking_slot {
	int64_t id, org_id, service_id, start_at, end_at;
	int capacity, booked;
	char *service_name, *org_name, *timezone;
	enum booking_kind kind;
	enum booking_payment payment;
	int64_t price_cents;
};

struct booking_search {
	int64_t service_id; /* 0: any */
	int64_t org_id;     /* place; 0: any the actor may see */
	int64_t from, to;   /* start_at in [from, to); from 0 = now, to 0 = no limit */
	int64_t now;        /* the clock; only slots starting after it are listed */
	/* Keyset pagination: rows after (after_start, after_id); both 0 from the start. */
	int64_t after_start, after_id;
	int limit; /* 1..200 */
};

/*
 * Free slots (booked < capacity, start > now) the actor may see, soonest first
 * (then by id). *rows (arena), *n, and *more set when another page follows: pass
 * the last row's start_at and id as after_start/after_id for it.
 */
int booking_slots_search(struct store_conn *c, const struct booking_actor *who,
                         const struct booking_search *q, struct booking_slot **rows, int *n,
                         int *more, struct arena *a);
/*
 * For "that slot was just taken: here are the next ones": up to limit free
 * slots of the same service at the same place as slot_id, starting at or
 * after it (or now, when later), soonest first; slot_id itself is left out.
 */
int booking_slots_next(struct store_conn *c, const struct booking_actor *who, int64_t slot_id,
                       int64_t now, int limit, struct booking_slot **rows, int *n, struct arena *a);

/* --- appointments ------------------------------------------------------------ */

struct booking_appointment {
	int64_t id, patient_id, org_id, service_id, slot_id; /* slot_id 0: none */
	int64_t start_at, end_at, amount_cents, paid_at;     /* paid_at 0: unpaid */
	enum booking_kind kind;
	enum booking_via via;
	enum booking_payment payment;
	enum booking_status status;
	int64_t created_by_staff;                     /* 0 when online */
	char *service_name, *org_name, *patient_name; /* filled by reads (arena) */
};

struct booking_request {
	int64_t patient_id; /* for whom (a patient actor: themselves or a family member) */
	int64_t slot_id;    /* the slot; 0 only for an offline booking at a free time */
	/* Offline (staff) only; ignored for patients, who get the service's terms. */
	int64_t service_id, org_id, start_at; /* with slot_id 0: what, where, when */
	int duration_min;                     /* with slot_id 0: 0 = the service's */
	int kind;                             /* enum booking_kind, or -1 for the service's */
	int payment;                          /* enum booking_payment, or -1 for the service's */
	int64_t amount_cents;                 /* -1 for the service's price */
	int import;                           /* staff: booked_via 'import' instead of 'offline' */
	int64_t now;
};

/*
 * Books r->patient_id in one transaction: takes a seat of r->slot_id with a
 * conditional UPDATE (only one of many racers gets the last seat) and writes
 * the appointment. A patient actor books online, only a future slot of an
 * active online-bookable service on their portal, for themselves or a family
 * member they manage (else BOOKING_FORBIDDEN); kind, payment and amount come
 * from the service. A staff actor books offline, for a patient of an
 * organisation it manages, with or without a slot (slot_id 0: r->service_id,
 * r->org_id, r->start_at, taking no seat), choosing kind, payment and amount.
 * BOOKING_TAKEN when the slot is full (call booking_slots_next), BOOKING_PAST
 * when it has started. On success fills *out (strings NULL) and returns 0.
 */
int booking_take_slot(struct store_conn *c, const struct booking_actor *who,
                      const struct booking_request *r, struct booking_appointment *out);

/* One appointment the actor may see (a patient: their own and their family's). */
int booking_appointment_get(struct store_conn *c, const struct booking_actor *who, int64_t id,
                            struct booking_appointment *out, struct arena *a);

/*
 * The cut-off in hours for organisation org_id: its org_settings
 * 'cancel_cutoff_hours', else its customer's, else BOOKING_CUTOFF_HOURS_DEFAULT.
 */
int booking_cutoff_hours(struct store_conn *c, int64_t org_id, int *hours);

/*
 * Cancels an appointment and gives its seat back (booked - 1), in one
 * transaction. A patient may cancel only until start - cut-off (BOOKING_CUTOFF
 * after that); staff may cancel any booked appointment that has not started.
 * BOOKING_STATE when it is already cancelled or done.
 */
int booking_cancel(struct store_conn *c, const struct booking_actor *who, int64_t appointment_id,
                   int64_t now);
/*
 * Moves an appointment to new_slot_id (same service, a place the actor may
 * see) in one transaction: takes the new seat (BOOKING_TAKEN when full), frees
 * the old one. Same cut-off rule as booking_cancel, checked on the current
 * start. On success *out (may be NULL) gets the moved appointment.
 */
int booking_reschedule(struct store_conn *c, const struct booking_actor *who,
                       int64_t appointment_id, int64_t new_slot_id, int64_t now,
                       struct booking_appointment *out);

/* --- payment hooks --------------------------------------------------------------- */

/*
 * 1 when the communications module should queue "request payment in advance"
 * for a: a booked video consultation with mandatory payment, booked offline or
 * imported, not paid yet. 0 otherwise. Pure: reads only *a.
 */
int booking_needs_payment_request(const struct booking_appointment *a);

/*
 * Records that appointment_id was paid through provider (e.g. "stripe") with
 * the provider's reference provider_ref (unique per payment). Idempotent: a
 * replayed webhook changes nothing. In one transaction it upserts the
 * payments row (state 'succeeded') and sets appointments.paid_at once.
 * *changed (may be NULL) gets 1 when this call marked it paid, 0 when it
 * already was. BOOKING_NOTFOUND for no such appointment; BOOKING_INVALID when
 * provider_ref already belongs to another appointment. Not confined to an
 * actor: callers are the verified payment callbacks.
 */
int booking_mark_paid(struct store_conn *c, int64_t appointment_id, const char *provider,
                      const char *provider_ref, int64_t now, int *changed);

/*
 * For staff: booked video consultations with mandatory payment still unpaid
 * that start within the next `hours` hours (now < start <= now + hours h), in
 * the organisations the staff actor manages, soonest first (at most 500).
 */
int booking_unpaid_video(struct store_conn *c, const struct booking_actor *who, int hours,
                         int64_t now, struct booking_appointment **rows, int *n, struct arena *a);

/* --- imports from the clinic's own system (import.c) ------------------------------- */

/* One appointment as text, from a CSV row or a JSON body; NULL or "" means not given. */
struct booking_import_row {
	const char *external_ref; /* required: its id in the clinic's system (1..100 bytes) */
	const char *patient;      /* required: the patient's external_ref */
	const char *service;      /* required: the service's id or its exact name */
	const char *start;        /* required: "YYYY-MM-DDTHH:MM[:SS]", the place's local time */
	const char *duration_min; /* 1..1440, or: */
	const char *end;          /* like start, after it; neither: the service's duration */
	const char *kind;         /* "in_person" | "video"; default the service's */
	const char *payment;      /* "none" | "optional" | "mandatory"; default the service's */
	const char *amount;       /* euros ("45.00", lib/money.h); default the service's price */
	const char *member;       /* the member practice (id or exact name); default org itself */
	const char *status;       /* "booked" (default) | "cancelled" */
};

enum booking_import_outcome {
	BOOKING_IMPORT_CREATED = 1,   /* a new appointment */
	BOOKING_IMPORT_PRESENT = 2,   /* external_ref already imported: left as it is */
	BOOKING_IMPORT_CANCELLED = 3, /* already imported and booked: the row cancelled it */
};

struct booking_import_result {
	enum booking_import_outcome outcome;
	struct booking_appointment appt; /* id always; every field when created (strings NULL) */
	const char *field;               /* BOOKING_INVALID: the field at fault, e.g. "start" */
	const char *reason;              /* BOOKING_INVALID: why, in English, for logs and APIs */
};

/* Who imports, for the audit trail: "csv" (invito import) or "api" (with the key's id). */
struct booking_import_source {
	const char *via;
	int64_t api_key_id;
	const char *ip; /* may be NULL */
};

/*
 * Imports row into organisation org_id (booked_via 'import'): the patient,
 * service and member must be org_id's or, for a customer, its members';
 * anything of another organisation is "unknown", exactly like a missing one.
 * An external_ref already imported anywhere in that scope is never imported
 * twice: the row is BOOKING_IMPORT_PRESENT and changes nothing, except that a
 * row with status "cancelled" cancels a booked one (BOOKING_IMPORT_CANCELLED,
 * its seat given back). A booked row takes a seat of the service's slot at
 * that time when one is free, else none: the clinic's system has booked it.
 * One transaction with the audit event "appointment.import" (or
 * "appointment.cancel"). BOOKING_INVALID with res->field and res->reason for
 * a bad or unknown value; BOOKING_ERR / BOOKING_BUSY for the store. Sends
 * nothing: the caller queues the payment request
 * (booking_needs_payment_request on res->appt) after it returns.
 */
int booking_import(struct store_conn *c, int64_t org_id, const struct booking_import_row *row,
                   const struct booking_import_source *src, int64_t now,
                   struct booking_import_result *res, struct arena *a);

#endif
