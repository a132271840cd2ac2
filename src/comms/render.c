/*
 * comms/render: one message for one recipient (tags.h, comms_render and
 * comms_queue): reads the patient, the organisation, the appointment or the
 * recall, formats the data tags in the patient's language and the place's
 * time zone, resolves the link tags (TRD92, TRD104, TRD89) by who the
 * recipient is, attaches the invitation appendix where it belongs, and
 * renders the parsed template.
 *
 * Links are built from portals.base_url only. An invitation a link needs is
 * written here, in the caller's transaction, like invite/'s own (a 128-bit
 * token whose hash only is stored, the portal's validity): invite_create()
 * would queue a message of its own and keeps its link to itself, and it binds
 * the portal to the patient's organisation, while a member's appointment
 * needs the portal the member is connected to. A dry run (the staff preview)
 * writes nothing at all.
 * It must never log a rendered text, a link or a token.
 */
#include "comms/tags.h"

#include "booking/tz.h"
#include "comms/outbox.h"
#include "comms/texts.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "store/store.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the preview shows where a real message would carry a fresh token. */
#define PREVIEW_TOKEN "PREVIEW-no-real-link00"
_Static_assert(sizeof(PREVIEW_TOKEN) - 1 == INVITE_TOKEN_CHARS, "a token's length");

/* --- dates, times and amounts in the patient's language ---------------------------- */

static const struct {
	const char *lang;
	const char *weekday[7]; /* Monday first, as tz_local.weekday */
	const char *month[12];
} calendar[] = {
    {"it",
     {"lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"},
     {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
      "ottobre", "novembre", "dicembre"}},
    {"en",
     {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
     {"January", "February", "March", "April", "May", "June", "July", "August", "September",
      "October", "November", "December"}},
};

static int cal_index(const char *lang)
{
	return strcmp(comms_lang(lang), "en") == 0 ? 1 : 0;
}

/* "martedì 14 ottobre 2025" / "Tuesday 14 October 2025" (arena). */
static char *long_date(const char *lang, const struct tz_local *l, int weekday, struct arena *a)
{
	int i = cal_index(lang);
	if (weekday)
		return arena_printf(a, "%s %d %s %d", calendar[i].weekday[l->weekday % 7], l->day,
		                    calendar[i].month[(l->month - 1) % 12], l->year);
	return arena_printf(a, "%d %s %d", l->day, calendar[i].month[(l->month - 1) % 12], l->year);
}

/* "80,00 €" / "€80.00" (arena). */
static char *amount(const char *lang, int64_t cents, struct arena *a)
{
	int64_t u = cents / 100, c = cents % 100;
	if (c < 0)
		c = -c;
	if (cal_index(lang) == 1)
		return arena_printf(a, "€%" PRId64 ".%02" PRId64, u, c);
	return arena_printf(a, "%" PRId64 ",%02" PRId64 " €", u, c);
}

/* --- what a message is about --------------------------------------------------------- */

struct facts {
	/* the patient and their organisation */
	char *given, *family, *lang, *mobile, *email, *org_name, *org_phone;
	int64_t managed_by, org_portal;
	int has_account;
	/* the portal links go to (the appointment place's, else the patient's org's) */
	int64_t portal_id, ttl_days;
	char *base_url;
	/* appointment */
	int64_t appt_id, appt_start, appt_amount;
	char *appt_place, *appt_tz, *service;
	int member;
	/* recall */
	int64_t recall_service;
	char *recall_due, *recall_service_name;
};

static int store_to_comms(int rc)
{
	return rc == STORE_BUSY ? COMMS_BUSY : rc == STORE_NOTFOUND ? COMMS_NOTFOUND : COMMS_ERR;
}

/* Steps the one-row query store_query() (rc) prepared in *s: 0 (row ready), COMMS_NOTFOUND or
 * an error. Takes s by address: it is read only after the query ran. */
static int one_row(int rc, struct store_stmt **s)
{
	if (rc != 0)
		return store_to_comms(rc);
	rc = store_step(*s);
	return rc == 1 ? 0 : rc == 0 ? COMMS_NOTFOUND : store_to_comms(rc);
}

static int load_patient(struct store_conn *c, const struct comms_ctx *x, struct facts *f,
                        struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc = one_row(
	    store_query(c, &s,
	                "SELECT p.given_name, p.family_name, p.lang, p.mobile, p.email, "
	                "COALESCE(p.managed_by, 0), o.name, o.phone, o.portal_id, po.base_url, "
	                "po.invite_ttl_days, (SELECT COUNT(*) FROM accounts ac WHERE "
	                "ac.patient_id = p.id AND ac.pw_hash IS NOT NULL) "
	                "FROM patients p JOIN organisations o ON o.id = p.org_id "
	                "JOIN portals po ON po.id = o.portal_id WHERE p.id = ? AND p.org_id = ?",
	                "ii", x->patient_id, x->org_id),
	    &s);
	if (rc == 0) {
		f->given = store_col_dup(s, 0, a);
		f->family = store_col_dup(s, 1, a);
		f->lang = store_col_dup(s, 2, a);
		f->mobile = store_col_dup(s, 3, a);
		f->email = store_col_dup(s, 4, a);
		f->managed_by = store_col_int(s, 5);
		f->org_name = store_col_dup(s, 6, a);
		f->org_phone = store_col_dup(s, 7, a);
		f->org_portal = f->portal_id = store_col_int(s, 8);
		f->base_url = store_col_dup(s, 9, a);
		f->ttl_days = store_col_int(s, 10);
		f->has_account = store_col_int(s, 11) > 0;
	}
	store_done(s);
	return rc;
}

/* The appointment must be the patient's; its place decides the portal and the time zone. */
static int load_appointment(struct store_conn *c, const struct comms_ctx *x, struct facts *f,
                            struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc = one_row(
	    store_query(c, &s,
	                "SELECT ap.id, ap.start_at, ap.amount_cents, sv.name, o.name, o.timezone, "
	                "o.kind, o.portal_id, po.base_url, po.invite_ttl_days "
	                "FROM appointments ap JOIN services sv ON sv.id = ap.service_id "
	                "JOIN organisations o ON o.id = ap.org_id "
	                "JOIN portals po ON po.id = o.portal_id "
	                "WHERE ap.id = ? AND ap.patient_id = ?",
	                "ii", x->appointment_id, x->patient_id),
	    &s);
	if (rc == 0) {
		f->appt_id = store_col_int(s, 0);
		f->appt_start = store_col_int(s, 1);
		f->appt_amount = store_col_int(s, 2);
		f->service = store_col_dup(s, 3, a);
		f->appt_place = store_col_dup(s, 4, a);
		f->appt_tz = store_col_dup(s, 5, a);
		const char *kind = store_col_text(s, 6);
		f->member = kind != NULL && strcmp(kind, "member") == 0;
		f->portal_id = store_col_int(s, 7);
		f->base_url = store_col_dup(s, 8, a);
		f->ttl_days = store_col_int(s, 9);
	}
	store_done(s);
	return rc;
}

static int load_recall(struct store_conn *c, const struct comms_ctx *x, struct facts *f,
                       struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc = one_row(store_query(c, &s,
	                             "SELECT r.due_date, r.service_id, sv.name FROM recalls r "
	                             "JOIN services sv ON sv.id = r.service_id "
	                             "WHERE r.id = ? AND r.patient_id = ? AND r.org_id = ?",
	                             "iii", x->recall_id, x->patient_id, x->org_id),
	                 &s);
	if (rc == 0) {
		f->recall_due = store_col_dup(s, 0, a);
		f->recall_service = store_col_int(s, 1);
		f->recall_service_name = store_col_dup(s, 2, a);
	}
	store_done(s);
	return rc;
}

/* --- links ------------------------------------------------------------------------------ */

/* base_url without its trailing '/' + path (arena). */
static char *portal_url(const char *base, const char *path, struct arena *a)
{
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	return arena_printf(a, "%.*s%s", (int)n, base, path);
}

struct linker {
	struct store_conn *c;
	const struct comms_ctx *x;
	const struct facts *f;
	int64_t now;
	int has_account;   /* after the dry run's assumption */
	char *invite_link; /* the message's one invitation, once made */
	int64_t invitation_id;
	struct arena *a;
};

/* An invitation landing on target (NULL: home), made once per message and shared. */
static int invitation(struct linker *k, const char *target, const char **out)
{
	if (k->invite_link != NULL) {
		*out = k->invite_link;
		return 0;
	}
	int rc = 0;
	if (k->x->dry_run) {
		k->invite_link = portal_url(k->f->base_url, "/i/" PREVIEW_TOKEN, k->a);
		*out = k->invite_link;
		return 0;
	}
	struct invite_embed_req req = {
	    k->x->org_id,   k->x->patient_id, k->f->portal_id, k->f->ttl_days,
	    k->f->base_url, k->x->channel,    target,          comms_kind_name(k->x->kind)};
	struct buf link;
	buf_init(&link, 4096);
	rc = invite_embed(k->c, &req, k->now, &link, &k->invitation_id);
	if (rc == 0) {
		k->invite_link = arena_strndup(k->a, link.data, link.len);
		*out = k->invite_link;
	}
	buf_free(&link);
	return rc == 0             ? 0
	       : rc == INVITE_BUSY ? store_to_comms(STORE_BUSY)
	                           : store_to_comms(STORE_ERR);
}

/* The link for a page of the portal: the page itself for an account holder, the portal's home
 * for a family member, else an invitation landing there. */
static int page_link(struct linker *k, const char *path, const char **out)
{
	if (k->f->managed_by != 0) {
		*out = portal_url(k->f->base_url, "/", k->a);
		return 0;
	}
	if (k->has_account) {
		*out = portal_url(k->f->base_url, path, k->a);
		return 0;
	}
	return invitation(k, path, out);
}

/* --- values --------------------------------------------------------------------------- */

static void put(struct comms_value *v, int tag, const char *s)
{
	v[tag].s = s;
	v[tag].n = s != NULL ? strlen(s) : 0;
}

/* Fills the data tags from f; the sample of any tag without a context in a dry run. */
static void data_values(const struct comms_ctx *x, const struct facts *f, const char *lang,
                        struct comms_value *v, struct arena *a)
{
	const struct comms_tag_def *t = comms_tag_table(NULL);
	put(v, COMMS_TAG_PATIENT_GIVEN_NAME, f->given);
	put(v, COMMS_TAG_PATIENT_FAMILY_NAME, f->family);
	put(v, COMMS_TAG_ORG_NAME, f->org_name);
	put(v, COMMS_TAG_ORG_PHONE, f->org_phone);
	put(v, COMMS_TAG_EXPIRY_DAYS, arena_printf(a, "%" PRId64, x->expiry_days));
	if (f->appt_id > 0) {
		struct tz_local l;
		const char *zone = f->appt_tz != NULL ? f->appt_tz : "UTC";
		if (tz_utc_to_local(zone, f->appt_start, &l) != 0) {
			log_warn("comms: unknown time zone of appointment %" PRId64 "; using UTC",
			         f->appt_id);
			tz_utc_to_local("UTC", f->appt_start, &l);
		}
		put(v, COMMS_TAG_APPOINTMENT_DATE, long_date(lang, &l, 1, a));
		put(v, COMMS_TAG_APPOINTMENT_TIME, arena_printf(a, "%02d:%02d", l.hour, l.minute));
		put(v, COMMS_TAG_APPOINTMENT_PLACE, f->appt_place);
		put(v, COMMS_TAG_SERVICE_NAME, f->service);
		put(v, COMMS_TAG_AMOUNT, amount(lang, f->appt_amount, a));
	} else if (x->dry_run) {
		int tags[] = {COMMS_TAG_APPOINTMENT_DATE, COMMS_TAG_APPOINTMENT_TIME,
		              COMMS_TAG_APPOINTMENT_PLACE, COMMS_TAG_SERVICE_NAME,
		              COMMS_TAG_AMOUNT};
		for (size_t i = 0; i < ARRAY_LEN(tags); i++)
			put(v, tags[i], t[tags[i]].sample);
	}
	if (f->recall_due != NULL) {
		int64_t days = 0;
		struct tz_local l;
		memset(&l, 0, sizeof(l));
		if (tz_parse_date(f->recall_due, &days) == 0) {
			tz_civil_from_days(days, &l.year, &l.month, &l.day);
			put(v, COMMS_TAG_RECALL_DUE_DATE, long_date(lang, &l, 0, a));
		} else {
			put(v, COMMS_TAG_RECALL_DUE_DATE, f->recall_due);
		}
		put(v, COMMS_TAG_SERVICE_NAME, f->recall_service_name);
	} else if (x->dry_run && x->kind == COMMS_RECALL) {
		put(v, COMMS_TAG_RECALL_DUE_DATE, t[COMMS_TAG_RECALL_DUE_DATE].sample);
		put(v, COMMS_TAG_SERVICE_NAME, t[COMMS_TAG_SERVICE_NAME].sample);
	}
}

/* The page a message of this kind leads to (the payment page, the pre-filtered search), or
 * NULL for the portal's home. */
static const char *context_path(struct linker *k)
{
	if (k->x->kind == COMMS_PAYMENT_REQUEST && k->f->appt_id != 0)
		return arena_printf(k->a, "/appointments/%" PRId64 "/pay", k->f->appt_id);
	if (k->x->kind == COMMS_RECALL && k->f->recall_service != 0)
		return arena_printf(k->a, "/search?service=%" PRId64, k->f->recall_service);
	return NULL;
}

/*
 * Resolves the link tags used in used (bits) into v. A message makes at most one invitation,
 * shared by its link tags and the appendix; it lands on the message's own page, so an
 * appendix (TRD92) in a recall or a payment request never sends the patient to the home.
 */
static int link_values(struct linker *k, unsigned used, struct comms_value *v)
{
	const struct comms_ctx *x = k->x;
	const char *s = NULL;
	int rc = 0;
	put(v, COMMS_TAG_RESET_LINK, x->kind == COMMS_RESET ? x->link : NULL);
	if (used & (1u << COMMS_TAG_TRD104)) {
		if (k->f->appt_id == 0 && !x->dry_run)
			return COMMS_INVALID;
		const char *path =
		    arena_printf(k->a, "/appointments/%" PRId64 "/pay", k->f->appt_id);
		if ((rc = page_link(k, path, &s)) == 0)
			put(v, COMMS_TAG_TRD104, s);
	}
	if (rc == 0 && (used & (1u << COMMS_TAG_TRD89))) {
		if (k->f->recall_service == 0 && !x->dry_run)
			return COMMS_INVALID;
		const char *path =
		    arena_printf(k->a, "/search?service=%" PRId64, k->f->recall_service);
		if ((rc = page_link(k, path, &s)) == 0)
			put(v, COMMS_TAG_TRD89, s);
	}
	if (rc == 0 && (used & (1u << COMMS_TAG_TRD92))) {
		if (x->kind == COMMS_INVITATION)
			s = x->link; /* the invitation's own link, made by invite/ */
		else if (k->f->managed_by != 0 || k->has_account)
			s = portal_url(k->f->base_url, "/", k->a);
		else
			rc = invitation(k, context_path(k), &s);
		put(v, COMMS_TAG_TRD92, s);
	}
	return rc;
}

/* --- rendering -------------------------------------------------------------------------- */

static int render(struct store_conn *c, const struct comms_ctx *x, int64_t now, struct buf *subject,
                  struct buf *body, struct comms_render_info *info, struct facts *f,
                  struct arena *a)
{
	struct comms_tpl ts, tb, tapp;
	struct comms_value v[COMMS_NTAGS];
	struct comms_appendix app;
	int rc, email, with_appendix = 0;

	memset(&ts, 0, sizeof(ts));
	memset(&tb, 0, sizeof(tb));
	memset(&tapp, 0, sizeof(tapp));
	memset(v, 0, sizeof(v));
	memset(f, 0, sizeof(*f));
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (comms_kind_name(x->kind) == NULL || x->channel == NULL ||
	    (strcmp(x->channel, "sms") != 0 && strcmp(x->channel, "email") != 0))
		return COMMS_INVALID;
	email = strcmp(x->channel, "email") == 0;
	if ((rc = load_patient(c, x, f, a)) != 0)
		return rc;
	if (x->appointment_id > 0 && (rc = load_appointment(c, x, f, a)) != 0)
		return rc;
	if (x->recall_id > 0 && (rc = load_recall(c, x, f, a)) != 0)
		return rc;
	const char *lang = comms_lang(x->lang != NULL ? x->lang : f->lang);

	struct linker k = {c, x, f, now, f->has_account, NULL, 0, a};
	if (x->dry_run && x->assume_account >= 0)
		k.has_account = x->assume_account;

	if ((rc = comms_template_parsed(c, x->org_id, x->kind, x->channel, lang,
	                                x->dry_run ? x->draft_subject : NULL,
	                                x->dry_run ? x->draft_body : NULL, &ts, &tb)) != 0)
		goto out;
	/* The appendix: only for a patient without an account who is not a family member. */
	if (comms_kind_takes_appendix(x->kind) && f->managed_by == 0 && !k.has_account) {
		if ((rc = comms_appendix_get(c, x->org_id, &app, a)) != 0)
			goto out;
		if (app.kinds & (1u << x->kind)) {
			const char *text = app.text != NULL && app.text[0] != '\0'
			                       ? app.text
			                       : comms_default_appendix(lang);
			with_appendix =
			    comms_tpl_parse(text, x->kind, COMMS_PART_APPENDIX, &tapp, NULL) == 0;
			if (!with_appendix)
				log_warn("comms: organisation %" PRId64
				         "'s appendix does not validate",
				         x->org_id);
		}
	}
	data_values(x, f, lang, v, a);
	if ((rc = link_values(&k, tb.tags | ts.tags | tapp.tags, v)) != 0)
		goto out;

	buf_reset(body);
	if (subject != NULL)
		buf_reset(subject);
	if (email && subject != NULL && comms_tpl_render(&ts, v, subject) != 0)
		rc = COMMS_INVALID;
	if (rc == 0 && comms_tpl_render(&tb, v, body) != 0)
		rc = COMMS_INVALID;
	if (rc == 0 && with_appendix) {
		/* one space after an SMS, a paragraph after an e-mail */
		while (body->len > 0 &&
		       (body->data[body->len - 1] == '\n' || body->data[body->len - 1] == ' '))
			body->data[--body->len] = '\0';
		if (buf_puts(body, email ? "\n\n" : " ") != 0 ||
		    comms_tpl_render(&tapp, v, body) != 0 || (email && buf_putc(body, '\n') != 0))
			rc = COMMS_INVALID;
	}
	if (rc == 0 && info != NULL) {
		info->invitation_id = k.invitation_id;
		info->appendix = with_appendix;
		info->has_account = k.has_account;
		info->family = f->managed_by != 0;
		info->member_portal = f->member;
	}
out:
	comms_tpl_free(&ts);
	comms_tpl_free(&tb);
	comms_tpl_free(&tapp);
	return rc;
}

int comms_render(struct store_conn *c, const struct comms_ctx *ctx, int64_t now,
                 struct buf *subject, struct buf *body, struct comms_render_info *info)
{
	struct arena *a = arena_create();
	struct facts f;
	int rc = render(c, ctx, now, subject, body, info, &f, a);
	arena_free(a);
	return rc;
}

int comms_queue(struct store_conn *c, const struct comms_ctx *ctx, const char *recipient,
                const char *dedupe_key, int64_t now, int64_t *id)
{
	struct arena *a = arena_create();
	struct comms_render_info info;
	struct buf subject, body;
	struct facts f;
	int64_t mid = 0;
	buf_init(&subject, 64 * 1024);
	buf_init(&body, 64 * 1024);
	int rc = ctx->dry_run ? COMMS_INVALID : 0;
	if (rc == 0 && dedupe_key != NULL) {
		/* a message already queued under this key: make no invitation for nothing */
		int64_t seen = 0;
		rc = store_scalar(c, &seen, "SELECT COUNT(*) FROM messages WHERE dedupe_key = ?",
		                  "t", dedupe_key);
		if (rc != 0 || seen > 0) {
			rc = rc != 0 ? store_to_comms(rc) : 0;
			if (rc == 0 && id != NULL)
				*id = 0;
			goto out;
		}
	}
	if (rc == 0)
		rc = render(c, ctx, now, &subject, &body, &info, &f, a);
	if (rc != 0)
		goto out;
	int email = strcmp(ctx->channel, "email") == 0;
	if (recipient == NULL)
		recipient = email ? f.email : f.mobile;
	if (recipient == NULL || recipient[0] == '\0') {
		rc = COMMS_NOTFOUND;
		goto out;
	}
	rc = comms_outbox_add(c, ctx->org_id, ctx->patient_id, comms_kind_name(ctx->kind),
	                      ctx->channel, recipient, email ? subject.data : NULL, body.data,
	                      dedupe_key, now, &mid);
	if (rc == 0 && mid > 0 && info.invitation_id > 0)
		rc = store_exec(c, NULL,
		                "UPDATE invitations SET created_by_message = ? WHERE id = ?", "ii",
		                mid, info.invitation_id);
	if (rc != 0) {
		rc = store_to_comms(rc);
		goto out;
	}
	if (id != NULL)
		*id = mid;
out:
	if (body.data != NULL)
		sodium_memzero(body.data, body.cap);
	buf_free(&subject);
	buf_free(&body);
	arena_free(a);
	return rc;
}
