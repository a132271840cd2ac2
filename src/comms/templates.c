/*
 * comms/templates: each organisation's own message texts (table templates)
 * and its invitation appendix (organisations.appendix_text/appendix_kinds),
 * read, validated, saved and reset; and the sending of the messages whose
 * link invite/ made (invitations, resets, password changed).
 *
 * Only texts that validate for their kind are ever written, so the sender
 * never meets a broken one; a stored text that stops validating (the tag
 * rules changed) is replaced by the default at send time with a warning
 * that names the organisation and kind, never the text.
 * Every query is confined to the organisation given; values are bound.
 */
#include "comms/texts.h"

#include "comms/outbox.h"
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

static int is_lang(const char *s)
{
	return s != NULL && (strcmp(s, comms_langs[0]) == 0 || strcmp(s, comms_langs[1]) == 0);
}

/* The static name of channel s, or NULL when it is not one. */
static const char *channel_name(const char *s)
{
	for (int i = 0; s != NULL && i < 2; i++)
		if (strcmp(s, comms_channels[i]) == 0)
			return comms_channels[i];
	return NULL;
}

static int store_to_comms(int rc)
{
	return rc == STORE_BUSY ? COMMS_BUSY : rc == STORE_NOTFOUND ? COMMS_NOTFOUND : COMMS_ERR;
}

/* --- reading ----------------------------------------------------------------- */

static void set_default(struct comms_template *t, int kind, const char *channel, const char *lang)
{
	const struct comms_text *d = comms_default_text(comms_kind_name(kind), channel, lang);
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->channel = channel_name(channel);
	t->lang = comms_lang(lang);
	t->subject = (char *)(d != NULL ? d->subject : NULL);
	t->body = (char *)(d != NULL ? d->body : "");
}

int comms_template_get(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                       const char *lang, struct comms_template *out, struct arena *a)
{
	if (comms_kind_name(kind) == NULL || channel_name(channel) == NULL || !is_lang(lang))
		return COMMS_INVALID;
	set_default(out, kind, channel, lang);
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT t.subject, t.body, t.updated_at, u.name FROM templates t "
	                     "LEFT JOIN staff_users u ON u.id = t.updated_by "
	                     "WHERE t.org_id = ? AND t.kind = ? AND t.channel = ? AND t.lang = ?",
	                     "ittt", org_id, comms_kind_name(kind), channel, lang);
	if (rc != 0)
		return store_to_comms(rc);
	rc = store_step(s);
	if (rc == 1) {
		out->custom = 1;
		out->subject = strcmp(channel, "email") == 0 ? store_col_dup(s, 0, a) : NULL;
		if (out->subject == NULL && strcmp(channel, "email") == 0)
			out->subject = arena_strdup(a, "");
		out->body = store_col_dup(s, 1, a);
		out->updated_at = store_col_int(s, 2);
		out->updated_by = store_col_dup(s, 3, a);
		rc = 0;
	} else if (rc == 0) {
		rc = 0;
	} else {
		rc = store_to_comms(rc);
	}
	store_done(s);
	return rc;
}

int comms_template_list(struct store_conn *c, int64_t org_id, struct comms_template **rows, int *n,
                        struct arena *a)
{
	int total = COMMS_NKINDS * 4;
	struct comms_template *r = arena_alloc(a, (size_t)total * sizeof(*r));
	for (int k = 0; k < COMMS_NKINDS; k++)
		for (int ch = 0; ch < 2; ch++)
			for (int l = 0; l < 2; l++)
				set_default(&r[k * 4 + ch * 2 + l], k, comms_channels[ch],
				            comms_langs[l]);
	struct store_stmt *s = NULL;
	int rc =
	    store_query(c, &s,
	                "SELECT t.kind, t.channel, t.lang, t.subject, t.body, t.updated_at, "
	                "u.name FROM templates t LEFT JOIN staff_users u ON u.id = t.updated_by "
	                "WHERE t.org_id = ?",
	                "i", org_id);
	if (rc != 0)
		return store_to_comms(rc);
	while ((rc = store_step(s)) == 1) {
		int k = comms_kind_parse(store_col_text(s, 0));
		const char *ch = channel_name(store_col_text(s, 1));
		const char *l = store_col_text(s, 2);
		if (k < 0 || ch == NULL || !is_lang(l))
			continue; /* a kind this version does not know: not listed */
		struct comms_template *t =
		    &r[k * 4 + (strcmp(ch, "email") == 0) * 2 + (strcmp(l, "en") == 0)];
		t->custom = 1;
		t->subject = strcmp(ch, "email") == 0 ? store_col_dup(s, 3, a) : NULL;
		t->body = store_col_dup(s, 4, a);
		t->updated_at = store_col_int(s, 5);
		t->updated_by = store_col_dup(s, 6, a);
	}
	store_done(s);
	if (rc < 0)
		return store_to_comms(rc);
	*rows = r;
	*n = total;
	return 0;
}

/* --- writing ----------------------------------------------------------------- */

int comms_template_save(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                        const char *lang, const char *subject, const char *body, int64_t staff_id,
                        const char *ip, int64_t now, struct comms_tpl_error *subject_err,
                        struct comms_tpl_error *body_err)
{
	struct comms_tpl_error se, be;
	memset(&se, 0, sizeof(se));
	memset(&be, 0, sizeof(be));
	if (comms_kind_name(kind) == NULL || channel_name(channel) == NULL || !is_lang(lang))
		return COMMS_INVALID;
	int email = strcmp(channel, "email") == 0;
	int bad = comms_tpl_check(body, kind, COMMS_PART_BODY, &be) != 0;
	if (email)
		bad |= comms_tpl_check(subject, kind, COMMS_PART_SUBJECT, &se) != 0;
	if (subject_err != NULL)
		*subject_err = se;
	if (body_err != NULL)
		*body_err = be;
	if (bad)
		return COMMS_INVALID;
	int rc = store_exec(c, NULL,
	                    "INSERT INTO templates (org_id, kind, channel, lang, subject, body, "
	                    "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
	                    "ON CONFLICT (org_id, kind, channel, lang) DO UPDATE SET "
	                    "subject = excluded.subject, body = excluded.body, "
	                    "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
	                    "itttttiI", org_id, comms_kind_name(kind), channel, lang,
	                    email ? subject : NULL, body, now, staff_id);
	if (rc != 0)
		return store_to_comms(rc);
	char detail[64];
	snprintf(detail, sizeof(detail), "%s/%s/%s", comms_kind_name(kind), channel, lang);
	if (store_audit(c, org_id, staff_id ? "staff" : "system", staff_id, "template.updated",
	                NULL, 0, ip, detail) != 0)
		return COMMS_ERR;
	return 0;
}

int comms_template_reset(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                         const char *lang, int64_t staff_id, const char *ip, int64_t now)
{
	(void)now; /* audit rows take their own clock */
	if (comms_kind_name(kind) == NULL || channel_name(channel) == NULL || !is_lang(lang))
		return COMMS_INVALID;
	int64_t changed = 0;
	int rc = store_exec(c, &changed,
	                    "DELETE FROM templates WHERE org_id = ? AND kind = ? AND channel = ? "
	                    "AND lang = ?",
	                    "ittt", org_id, comms_kind_name(kind), channel, lang);
	if (rc != 0)
		return store_to_comms(rc);
	if (changed == 0)
		return 0;
	char detail[64];
	snprintf(detail, sizeof(detail), "%s/%s/%s", comms_kind_name(kind), channel, lang);
	if (store_audit(c, org_id, staff_id ? "staff" : "system", staff_id, "template.reset", NULL,
	                0, ip, detail) != 0)
		return COMMS_ERR;
	return 0;
}

/* --- parsed, for sending --------------------------------------------------------- */

/* Parses the default of kind/channel/lang into subject and body (never fails: tested). */
static int parse_default(int kind, const char *channel, const char *lang, struct comms_tpl *subject,
                         struct comms_tpl *body)
{
	const struct comms_text *d = comms_default_text(comms_kind_name(kind), channel, lang);
	if (d == NULL || comms_tpl_parse(d->body, kind, COMMS_PART_BODY, body, NULL) != 0)
		return COMMS_INVALID;
	if (d->subject != NULL &&
	    comms_tpl_parse(d->subject, kind, COMMS_PART_SUBJECT, subject, NULL) != 0) {
		comms_tpl_free(body);
		return COMMS_INVALID;
	}
	return 0;
}

int comms_template_parsed(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                          const char *lang, const char *draft_subject, const char *draft_body,
                          struct comms_tpl *subject, struct comms_tpl *body)
{
	struct arena *a = arena_create();
	struct comms_template t;
	int email = channel != NULL && strcmp(channel, "email") == 0, rc;
	memset(subject, 0, sizeof(*subject));
	memset(body, 0, sizeof(*body));
	lang = comms_lang(lang);
	if ((rc = comms_template_get(c, org_id, kind, channel, lang, &t, a)) != 0)
		goto out;
	int draft = draft_subject != NULL || draft_body != NULL;
	const char *sub = draft_subject != NULL ? draft_subject : t.subject;
	const char *bod = draft_body != NULL ? draft_body : t.body;
	rc = comms_tpl_parse(bod, kind, COMMS_PART_BODY, body, NULL);
	if (rc == 0 && email)
		rc = comms_tpl_parse(sub, kind, COMMS_PART_SUBJECT, subject, NULL);
	if (rc == 0)
		goto out;
	comms_tpl_free(body);
	comms_tpl_free(subject);
	if (draft) {
		rc = COMMS_INVALID;
		goto out;
	}
	log_warn("comms: organisation %" PRId64 "'s %s/%s/%s template does not validate; "
	         "sending the default",
	         org_id, comms_kind_name(kind), channel, lang);
	rc = parse_default(kind, channel, lang, subject, body);
out:
	arena_free(a);
	return rc;
}

/* --- the appendix ----------------------------------------------------------------- */

int comms_appendix_get(struct store_conn *c, int64_t org_id, struct comms_appendix *out,
                       struct arena *a)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(c, &s,
	                     "SELECT appendix_text, appendix_kinds FROM organisations WHERE id = ?",
	                     "i", org_id);
	if (rc != 0)
		return store_to_comms(rc);
	rc = store_step(s);
	if (rc == 1) {
		out->text = store_col_dup(s, 0, a);
		const char *k = store_col_text(s, 1);
		while (k != NULL && *k != '\0') {
			size_t n = strcspn(k, ",");
			for (int i = 0; i < COMMS_NKINDS; i++)
				if (strlen(comms_kind_name(i)) == n &&
				    memcmp(comms_kind_name(i), k, n) == 0 &&
				    comms_kind_takes_appendix(i))
					out->kinds |= 1u << i;
			k += n;
			if (*k == ',')
				k++;
		}
		rc = 0;
	} else {
		rc = rc == 0 ? COMMS_NOTFOUND : store_to_comms(rc);
	}
	store_done(s);
	return rc;
}

int comms_appendix_save(struct store_conn *c, int64_t org_id, const char *text, unsigned kinds,
                        int64_t staff_id, const char *ip, int64_t now, struct comms_tpl_error *err)
{
	(void)now;
	struct comms_tpl_error e;
	memset(&e, 0, sizeof(e));
	int has_text = text != NULL && strspn(text, " \t\r\n") < strlen(text);
	if (has_text && comms_tpl_check(text, COMMS_REMINDER, COMMS_PART_APPENDIX, &e) != 0) {
		if (err != NULL)
			*err = e;
		return COMMS_INVALID;
	}
	if (err != NULL)
		*err = e;
	char list[160];
	size_t len = 0;
	list[0] = '\0';
	for (int i = 0; i < COMMS_NKINDS; i++)
		if ((kinds & (1u << i)) && comms_kind_takes_appendix(i))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
			                        len ? "," : "", comms_kind_name(i));
	int64_t changed = 0;
	int rc = store_exec(c, &changed,
	                    "UPDATE organisations SET appendix_text = ?, appendix_kinds = ? "
	                    "WHERE id = ?",
	                    "tti", has_text ? text : NULL, list, org_id);
	if (rc != 0)
		return store_to_comms(rc);
	if (changed == 0)
		return COMMS_NOTFOUND;
	if (store_audit(c, org_id, staff_id ? "staff" : "system", staff_id, "appendix.updated",
	                NULL, 0, ip, list) != 0)
		return COMMS_ERR;
	return 0;
}

/* --- messages with the caller's own link --------------------------------------------- */

struct comms_texts {
	int kind;
	struct comms_tpl subject[2][2], body[2][2]; /* [channel][lang] */
	char *org_name, *org_phone;
};

void comms_texts_free(struct comms_texts *t)
{
	if (t == NULL)
		return;
	for (int ch = 0; ch < 2; ch++)
		for (int l = 0; l < 2; l++) {
			comms_tpl_free(&t->subject[ch][l]);
			comms_tpl_free(&t->body[ch][l]);
		}
	free(t->org_name);
	free(t->org_phone);
	free(t);
}

int comms_texts_load(struct store_conn *c, int64_t org_id, int kind, struct comms_texts **out)
{
	if (comms_kind_name(kind) == NULL)
		return COMMS_INVALID;
	struct comms_texts *t = xcalloc(1, sizeof(*t));
	struct store_stmt *s = NULL;
	t->kind = kind;
	int rc =
	    store_query(c, &s, "SELECT name, phone FROM organisations WHERE id = ?", "i", org_id);
	if (rc != 0) {
		rc = store_to_comms(rc);
		goto out;
	}
	rc = store_step(s);
	if (rc == 1) {
		t->org_name = xstrdup(store_col_text(s, 0) ? store_col_text(s, 0) : "");
		t->org_phone = xstrdup(store_col_text(s, 1) ? store_col_text(s, 1) : "");
		rc = 0;
	} else {
		rc = rc == 0 ? COMMS_NOTFOUND : store_to_comms(rc);
	}
	store_done(s);
	for (int ch = 0; rc == 0 && ch < 2; ch++)
		for (int l = 0; rc == 0 && l < 2; l++)
			rc = comms_template_parsed(c, org_id, kind, comms_channels[ch],
			                           comms_langs[l], NULL, NULL, &t->subject[ch][l],
			                           &t->body[ch][l]);
out:
	if (rc != 0) {
		comms_texts_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static void set(struct comms_value *v, int tag, const char *s)
{
	v[tag].s = s;
	v[tag].n = s != NULL ? strlen(s) : 0;
}

int comms_texts_render(const struct comms_texts *t, const char *channel, const char *lang,
                       const struct comms_link_vars *vars, struct buf *subject, struct buf *body)
{
	const char *ch = channel_name(channel);
	if (ch == NULL)
		return -1;
	int ci = strcmp(ch, "email") == 0, li = strcmp(comms_lang(lang), "en") == 0;
	struct comms_value v[COMMS_NTAGS];
	char days[24];
	memset(v, 0, sizeof(v));
	snprintf(days, sizeof(days), "%" PRId64, vars->expiry_days);
	set(v, COMMS_TAG_PATIENT_GIVEN_NAME, vars->given_name);
	set(v, COMMS_TAG_PATIENT_FAMILY_NAME, vars->family_name);
	set(v, COMMS_TAG_ORG_NAME, t->org_name);
	set(v, COMMS_TAG_ORG_PHONE, t->org_phone);
	set(v, COMMS_TAG_EXPIRY_DAYS, days);
	set(v, t->kind == COMMS_RESET ? COMMS_TAG_RESET_LINK : COMMS_TAG_TRD92, vars->link);
	buf_reset(body);
	if (subject != NULL) {
		buf_reset(subject);
		if (ci && comms_tpl_render(&t->subject[ci][li], v, subject) != 0)
			return -1;
	}
	return comms_tpl_render(&t->body[ci][li], v, body);
}

int comms_queue_text(struct store_conn *c, int64_t org_id, int64_t patient_id, const char *kind,
                     const char *channel, const char *lang, const char *recipient, const char *link,
                     int64_t expiry_days, const char *dedupe_key, int64_t now, int64_t *id)
{
	struct comms_texts *t = NULL;
	struct arena *a = arena_create();
	struct buf subject, body;
	struct comms_link_vars v = {NULL, NULL, link, expiry_days};
	int rc;
	buf_init(&subject, 64 * 1024);
	buf_init(&body, 64 * 1024);
	if ((rc = comms_texts_load(c, org_id, comms_kind_parse(kind), &t)) != 0) {
		rc = rc == COMMS_BUSY       ? STORE_BUSY
		     : rc == COMMS_NOTFOUND ? STORE_NOTFOUND
		                            : STORE_ERR;
		goto out;
	}
	if (patient_id > 0) {
		struct store_stmt *s = NULL;
		rc = store_query(c, &s,
		                 "SELECT given_name, family_name FROM patients WHERE id = ? AND "
		                 "org_id = ?",
		                 "ii", patient_id, org_id);
		if (rc != 0)
			goto out;
		if ((rc = store_step(s)) == 1) {
			v.given_name = store_col_dup(s, 0, a);
			v.family_name = store_col_dup(s, 1, a);
		}
		store_done(s);
		if (rc < 0)
			goto out;
	}
	int email = strcmp(channel, "email") == 0;
	if (comms_texts_render(t, channel, lang, &v, email ? &subject : NULL, &body) != 0) {
		rc = STORE_INVALID;
		goto out;
	}
	rc = comms_outbox_add(c, org_id, patient_id, kind, channel, recipient,
	                      email ? subject.data : NULL, body.data, dedupe_key, now, id);
out:
	/* the body holds a secret link: wipe it before the memory is reused */
	if (body.data != NULL)
		sodium_memzero(body.data, body.cap);
	buf_free(&subject);
	buf_free(&body);
	comms_texts_free(t);
	arena_free(a);
	return rc;
}
