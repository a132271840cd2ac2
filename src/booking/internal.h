/*
 * booking/internal: what the booking files share and nobody else may use:
 * the actor's scope as SQL, enum <-> text tables, and store error mapping.
 * Scope fragments are constant strings: SQL is assembled from constants only
 * and every value is bound (store_prepare + store_bind).
 */
#ifndef INVITO_BOOKING_INTERNAL_H
#define INVITO_BOOKING_INTERNAL_H

#include "booking/booking.h"
#include "store/store.h"

#include <stddef.h>

/* Largest SQL text assembled from fragments. */
#define BK_SQL_MAX 2048

/* 1 for a well-formed staff actor, 2 for a patient actor, 0 otherwise. */
int bk_actor_kind(const struct booking_actor *who);
#define BK_STAFF   1
#define BK_PATIENT 2

/*
 * The actor's scope over an organisations row aliased `o`, as a condition:
 * staff "(o.id = ? OR o.parent_id = ?)", patient "o.portal_id = ?".
 * bk_bind_scope() binds its parameters on s, in that order.
 */
const char *bk_scope_sql(const struct booking_actor *who);
int bk_bind_scope(struct store_stmt *s, const struct booking_actor *who);

/* Concatenates the NULL-terminated constant fragments into out (BK_SQL_MAX). -1 if too long. */
int bk_sql(char out[BK_SQL_MAX], ...) __attribute__((sentinel));

/* 0 when the actor may see organisation org_id, BOOKING_NOTFOUND otherwise. */
int bk_org_visible(struct store_conn *c, const struct booking_actor *who, int64_t org_id);

/* A store_err as a booking_err. */
int bk_err(int store_rc);

extern const char *const bk_kind_text[2];    /* enum booking_kind */
extern const char *const bk_payment_text[3]; /* enum booking_payment */
extern const char *const bk_via_text[3];     /* enum booking_via */
extern const char *const bk_status_text[3];  /* enum booking_status */
/* Index of text in table[0..n), or dflt when absent or unknown. */
int bk_enum(const char *const *table, int n, const char *text, int dflt);

/* The appointment columns read by bk_appt_row(), prefix a = appointments,
 * v = services, o = organisations, p = patients. */
#define BK_APPT_COLS                                                                               \
	"a.id, a.patient_id, a.org_id, a.service_id, a.slot_id, a.start_at, a.end_at, "            \
	"a.amount_cents, a.paid_at, a.kind, a.booked_via, a.payment, a.status, "                   \
	"a.created_by_staff, v.name, o.name, p.given_name, p.family_name "
#define BK_APPT_FROM                                                                               \
	"FROM appointments a JOIN services v ON v.id = a.service_id "                              \
	"JOIN organisations o ON o.id = a.org_id JOIN patients p ON p.id = a.patient_id "
/* Reads one row of BK_APPT_COLS; strings into a (NULL a: strings left NULL). */
void bk_appt_row(struct store_stmt *s, struct booking_appointment *out, struct arena *a);

#endif
