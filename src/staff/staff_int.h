/*
 * staff_int: helpers shared by the staff pages (patients.c, profile.c,
 * invite.c) and by nothing else. Not part of the staff module's public
 * interface.
 */
#ifndef INVITO_STAFF_INT_H
#define INVITO_STAFF_INT_H

#include "lib/money.h"
#include "store/store.h"

#include <stdint.h>

struct arena;
struct http_req;
struct http_resp;
struct view;

#define STAFF_MAX_SELECTED 10000 /* ids accepted in one bulk POST */

/* org_settings 'payment_flag_hours': the day view flags an unpaid mandatory payment from
 * this many hours before the start (schedule.c; set on the Settings page's times). */
#define STAFF_FLAG_HOURS_DEFAULT 24
#define STAFF_FLAG_HOURS_MAX     (24 * 366)

/* The manage-patients filter from a query or form (q, status). */
struct staff_filter {
	const char *q;      /* trimmed, at most 200 bytes, never NULL */
	const char *status; /* "", "none", "invited", "active" or "family"; never NULL */
	int status_code;    /* -1: any, else enum store_portal_status */
};

/* Fills f from the raw q and status values (either may be NULL); strings in the arena. */
void staff_filter_parse(struct staff_filter *f, const char *q, const char *status, struct arena *a);
/* "/staff/patients?q=..&status=..[&after=N]", every value URL-encoded (arena). */
char *staff_list_url(const struct staff_filter *f, int64_t after, struct arena *a);
/* The ids of every patient of the user's organisation that f matches, in id order, into
 * *ids (arena). 0, or a negative store_err (STORE_INVALID: a search that matches nobody). */
int staff_filter_ids(struct http_req *req, const struct staff_filter *f, int64_t **ids, size_t *n);
/* The posted "ids" fields as distinct positive ids in id order (arena). 0, or -1 when more
 * than max were posted. Ids of other organisations are kept: callers confine. */
int staff_form_ids(struct http_req *req, size_t max, int64_t **ids, size_t *n);

/* 1 when the signed-in staff user is an admin of the session's organisation (read now). */
int staff_is_admin(struct http_req *req);

/* The translated badge text and CSS class of a portal status. */
const char *staff_status_label(const char *lang, enum store_portal_status s);
const char *staff_status_class(enum store_portal_status s);
/* The translated label of a portal status filter value ("none", ...); "" for any. */
const char *staff_filter_label(const char *lang, const struct staff_filter *f);
/* "YYYY-MM-DD" as "DD/MM/YYYY" (in the arena); anything else unchanged. */
const char *staff_date(const char *iso, struct arena *a);
/* Sets key to t as "DD/MM/YYYY HH:MM" (UTC) and key_iso to the <time datetime> form;
 * t <= 0 sets both to "". */
void staff_time(struct view *v, const char *key, int64_t t, struct arena *a);
/* Sets the patient's fields in v (id, href, names, dates, contacts, status, manager). */
void staff_patient_view(struct http_req *req, struct view *v, const struct store_patient *p);

/* --- invitations (invite.c) --------------------------------------------- */

/* The profile's portal part under v's child "portal": the Invite / Reset password forms,
 * the confirmation or error of the last action (from the query), the invitation and reset
 * history. 0, or negative on a store failure. */
int staff_invite_profile(struct http_req *req, struct view *v, const struct store_patient *p);
/* The bulk action "Invite to patient portal": the confirmation page for the selected ids
 * (already distinct; NULL with scope "filter", then f says which). */
int staff_invite_confirm(struct http_req *req, struct http_resp *resp, const int64_t *ids, size_t n,
                         const struct staff_filter *f);

/* --- form helpers (money.c) -------------------------------------------------------------- */

/* One million euros: beyond that an amount is a typing error. */
#define STAFF_AMOUNT_MAX_CENTS MONEY_MAX_CENTS
/* s without leading and trailing spaces or tabs, in the arena ("" for NULL). */
const char *staff_trimmed(const char *s, struct arena *a);
/* An amount in euros ("35", "35,5", "35.50", "€ 35,00") as cents. 0, or -1 when not one. */
int staff_parse_money(const char *s, int64_t *cents);
/* cents as the language writes money: "35,00" (it) or "35.00" (en); in the arena. */
const char *staff_money_input(const char *lang, int64_t cents, struct arena *a);
/* cents for reading: "€ 35,00" / "€35.00". */
const char *staff_money_text(const char *lang, int64_t cents, struct arena *a);

#endif
