/*
 * import_appointments: `invito import appointments FILE.csv [--org ID]`.
 *
 * The shared CSV reader (import_csv.c) gives each row by column; each row is
 * imported in a transaction of its own by booking_import(), which checks
 * every value and refuses a bad one with its field and reason, reported here
 * with the row's physical line. Right after a new video consultation with
 * mandatory payment committed, its "request payment in advance" is queued
 * (comms_trigger_payment_request, dedupe key payreq:ID): the same key the
 * run-due catch-up uses, so it is queued once whichever runs first.
 * It must never stop at a bad row, nor write a row half.
 */
#include "cli/import.h"

#include "booking/booking.h"
#include "cli/import_csv.h"
#include "comms/triggers.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <string.h>

enum col {
	COL_REF,
	COL_PATIENT,
	COL_SERVICE,
	COL_START,
	COL_DURATION,
	COL_END,
	COL_KIND,
	COL_PAYMENT,
	COL_AMOUNT,
	COL_MEMBER,
	COL_STATUS,
	COL_N
};

static const char *const col_names[COL_N] = {
    "external_ref", "patient", "service", "start",  "duration_min", "end",
    "kind",         "payment", "amount",  "member", "status",
};

struct ctx {
	struct store_conn *c;
	int64_t org_id;
	struct import_report *rep;
	struct arena *a; /* per row */
};

static int do_row(void *ud, struct import_csv *r, const char *const *v)
{
	struct ctx *x = ud;
	struct booking_import_row row = {
	    .external_ref = v[COL_REF],
	    .patient = v[COL_PATIENT],
	    .service = v[COL_SERVICE],
	    .start = v[COL_START],
	    .duration_min = v[COL_DURATION],
	    .end = v[COL_END],
	    .kind = v[COL_KIND],
	    .payment = v[COL_PAYMENT],
	    .amount = v[COL_AMOUNT],
	    .member = v[COL_MEMBER],
	    .status = v[COL_STATUS],
	};
	struct booking_import_source src = {.via = "csv"};
	struct booking_import_result res;
	int64_t now = now_utc();
	arena_free(x->a);
	x->a = arena_create();
	int rc = booking_import(x->c, x->org_id, &row, &src, now, &res, x->a);
	if (rc == BOOKING_INVALID) {
		import_csv_reject(r, "%s: %s", res.field, res.reason);
		return 0;
	}
	if (rc != 0) {
		import_csv_report(r,
		                  "database error: %s; stopped, rows from this line on not "
		                  "imported",
		                  booking_strerror(rc));
		return IMPORT_ERR_STORE;
	}
	if (res.outcome == BOOKING_IMPORT_PRESENT) {
		x->rep->present++;
	} else if (res.outcome == BOOKING_IMPORT_CANCELLED) {
		x->rep->cancelled++;
	} else {
		x->rep->imported++;
		if (booking_needs_payment_request(&res.appt)) {
			/* a failure here is caught up by run-due; the appointment stays */
			int queued = 0;
			if (comms_trigger_payment_request(x->c, res.appt.id, now, &queued) == 0 &&
			    queued)
				x->rep->queued++;
		}
	}
	if ((x->rep->imported + x->rep->present) % 1000 == 0)
		import_csv_progress(r, x->rep->imported, x->rep->present);
	return 0;
}

int import_appointments_csv(struct store *st, int64_t org_id, const char *path,
                            struct import_report *rep, FILE *errs)
{
	struct ctx x = {0};
	memset(rep, 0, sizeof(*rep));
	x.org_id = org_id;
	x.rep = rep;
	x.a = arena_create();
	x.c = store_acquire(st);
	struct import_csv_spec spec = {
	    .cols = col_names,
	    .ncols = COL_N,
	    .required = 1u << COL_REF | 1u << COL_PATIENT | 1u << COL_SERVICE | 1u << COL_START,
	    .row = do_row,
	    .ud = &x,
	};
	int rc = import_csv_run(path, &spec, rep, errs);
	store_release(x.c);
	arena_free(x.a);
	return rc;
}
