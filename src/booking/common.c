/*
 * booking/common: error texts, the actor's scope, enum tables and the
 * cancellation cut-off, shared by the other booking files.
 * It must never widen a scope: a malformed actor (neither staff nor patient,
 * or both) sees nothing.
 */
#include "booking/internal.h"

#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"

#include <stdarg.h>
#include <string.h>

static const char *const errors[] = {
    [0] = N_("Done."),
    [1] = N_("Something went wrong. Please try again."),
    [2] = N_("Not found."),
    [3] = N_("Sorry, this time has just been taken. Here are the next free times."),
    [4] = N_("Some details are not valid."),
    [5] = N_("It is too late to change this appointment online. Please call the clinic."),
    [6] = N_("This time has already passed."),
    [7] = N_("You can book only for yourself and the family members you manage."),
    [8] = N_("This appointment has already been cancelled or has taken place."),
    [9] = N_("The system is busy. Please try again in a moment."),
    [10] = N_("The clinic's time zone is not set up correctly."),
};

const char *booking_strerror(int err)
{
	if (err <= 0 && -err < (int)ARRAY_LEN(errors))
		return errors[-err];
	return errors[1];
}

const char *const bk_kind_text[2] = {"in_person", "video"};
const char *const bk_payment_text[3] = {"none", "optional", "mandatory"};
const char *const bk_via_text[3] = {"offline", "online", "import"};
const char *const bk_status_text[3] = {"booked", "cancelled", "done"};

int bk_enum(const char *const *table, int n, const char *text, int dflt)
{
	if (text == NULL)
		return dflt;
	for (int i = 0; i < n; i++)
		if (strcmp(table[i], text) == 0)
			return i;
	return dflt;
}

int bk_actor_kind(const struct booking_actor *who)
{
	if (who == NULL)
		return 0;
	if (who->staff_org > 0 && who->portal_id == 0)
		return BK_STAFF;
	if (who->portal_id > 0 && who->patient_id > 0 && who->staff_org == 0)
		return BK_PATIENT;
	return 0;
}

const char *bk_scope_sql(const struct booking_actor *who)
{
	switch (bk_actor_kind(who)) {
	case BK_STAFF:
		return "(o.id = ? OR o.parent_id = ?)";
	case BK_PATIENT:
		return "o.portal_id = ?";
	default:
		return "1 = 0";
	}
}

int bk_bind_scope(struct store_stmt *s, const struct booking_actor *who)
{
	switch (bk_actor_kind(who)) {
	case BK_STAFF:
		return store_bind(s, "ii", who->staff_org, who->staff_org);
	case BK_PATIENT:
		return store_bind(s, "i", who->portal_id);
	default:
		return 0;
	}
}

int bk_sql(char out[BK_SQL_MAX], ...)
{
	va_list ap;
	size_t len = 0;
	int rc = 0;
	out[0] = '\0';
	va_start(ap, out);
	for (const char *f = va_arg(ap, const char *); f != NULL; f = va_arg(ap, const char *)) {
		size_t n = strlen(f);
		if (len + n + 1 > BK_SQL_MAX) {
			rc = -1;
			break;
		}
		memcpy(out + len, f, n + 1);
		len += n;
	}
	va_end(ap);
	return rc;
}

int bk_err(int store_rc)
{
	switch (store_rc) {
	case STORE_OK:
		return BOOKING_OK;
	case STORE_NOTFOUND:
		return BOOKING_NOTFOUND;
	case STORE_BUSY:
		return BOOKING_BUSY;
	case STORE_INVALID:
		return BOOKING_INVALID;
	default:
		return BOOKING_ERR;
	}
}

int bk_org_visible(struct store_conn *c, const struct booking_actor *who, int64_t org_id)
{
	char sql[BK_SQL_MAX];
	struct store_stmt *s = NULL;
	int rc = BOOKING_NOTFOUND;
	if (bk_actor_kind(who) == 0 || org_id <= 0)
		return BOOKING_NOTFOUND;
	if (bk_sql(sql, "SELECT o.id FROM organisations o WHERE o.id = ? AND ", bk_scope_sql(who),
	           NULL) != 0)
		return BOOKING_ERR;
	if ((rc = store_prepare(c, &s, sql)) != 0)
		return bk_err(rc);
	if ((rc = store_bind(s, "i", org_id)) != 0 || (rc = bk_bind_scope(s, who)) != 0)
		goto out;
	rc = store_step(s);
	rc = rc == 1 ? 0 : rc == 0 ? STORE_NOTFOUND : rc;
out:
	store_done(s);
	return bk_err(rc);
}

void bk_appt_row(struct store_stmt *s, struct booking_appointment *out, struct arena *a)
{
	memset(out, 0, sizeof(*out));
	out->id = store_col_int(s, 0);
	out->patient_id = store_col_int(s, 1);
	out->org_id = store_col_int(s, 2);
	out->service_id = store_col_int(s, 3);
	out->slot_id = store_col_is_null(s, 4) ? 0 : store_col_int(s, 4);
	out->start_at = store_col_int(s, 5);
	out->end_at = store_col_int(s, 6);
	out->amount_cents = store_col_int(s, 7);
	out->paid_at = store_col_is_null(s, 8) ? 0 : store_col_int(s, 8);
	out->kind = bk_enum(bk_kind_text, 2, store_col_text(s, 9), BOOKING_IN_PERSON);
	out->via = bk_enum(bk_via_text, 3, store_col_text(s, 10), BOOKING_VIA_OFFLINE);
	out->payment = bk_enum(bk_payment_text, 3, store_col_text(s, 11), BOOKING_PAY_NONE);
	out->status = bk_enum(bk_status_text, 3, store_col_text(s, 12), BOOKING_BOOKED);
	out->created_by_staff = store_col_is_null(s, 13) ? 0 : store_col_int(s, 13);
	if (a != NULL) {
		out->service_name = store_col_dup(s, 14, a);
		out->org_name = store_col_dup(s, 15, a);
		const char *g = store_col_text(s, 16);
		const char *f = store_col_text(s, 17);
		out->patient_name = arena_printf(a, "%s %s", g ? g : "", f ? f : "");
	}
}

/* org_settings 'cancel_cutoff_hours' of one organisation: 0 and *hours, or STORE_NOTFOUND. */
static int cutoff_of(struct store_conn *c, int64_t org_id, int *hours)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT value FROM org_settings WHERE org_id = ? AND "
	                     "key = 'cancel_cutoff_hours'",
	                     "i", org_id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		int64_t v = 0;
		/* A malformed value is ignored (the default applies), not an error. */
		rc = parse_i64(store_col_text(s, 0), 0, 24 * 366, &v) == 0 ? 0 : STORE_NOTFOUND;
		*hours = (int)v;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	return rc;
}

int booking_cutoff_hours(struct store_conn *c, int64_t org_id, int *hours)
{
	*hours = BOOKING_CUTOFF_HOURS_DEFAULT;
	int rc = cutoff_of(c, org_id, hours);
	if (rc != STORE_NOTFOUND)
		return bk_err(rc);
	int64_t parent = 0;
	rc = store_scalar(c, &parent, "SELECT parent_id FROM organisations WHERE id = ?", "i",
	                  org_id);
	if (rc == STORE_NOTFOUND)
		return BOOKING_NOTFOUND;
	if (rc != 0)
		return bk_err(rc);
	if (parent > 0) {
		rc = cutoff_of(c, parent, hours);
		if (rc != STORE_NOTFOUND)
			return bk_err(rc);
	}
	*hours = BOOKING_CUTOFF_HOURS_DEFAULT;
	return 0;
}
