/*
 * staff/templates: the message templates page (issue 4 "Templates and
 * tags"): every kind x channel x language of the organisation, its own text
 * or the default; the edit form with each validation error next to its field
 * (naming the tag, line and column); reset to the default; the invitation
 * appendix and the kinds that carry it; a preview for a chosen patient, with
 * or without an account, and the SMS characters and segments.
 *
 * Reading and previewing: any staff user of the organisation. Saving,
 * resetting and the appendix: admins only (403 otherwise). Every read and
 * write is confined to req->session->org_id. The preview is a dry run of
 * comms_render(): it creates no invitation and no message.
 */
#include "comms/tags.h"
#include "comms/texts.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define PREVIEW_PATIENTS 100 /* patients offered in the preview's list */

static const struct {
	const char *value, *label;
} channels[] = {
    {"sms", N_("SMS")},
    {"email", N_("E-mail")},
};

static const struct {
	const char *value, *label;
} langs[] = {
    {"it", N_("Italian")},
    {"en", N_("English")},
};

/* How the preview treats the patient's account. */
static const struct {
	const char *value, *label;
	int assume;
} account_modes[] = {
    {"record", N_("As on record"), -1},
    {"without", N_("As if without an account"), 0},
    {"with", N_("As if with an account"), 1},
};

static const char *label_of(const char *lang, const char *value)
{
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		if (strcmp(channels[i].value, value) == 0)
			return i18n_tr(lang, channels[i].label);
	for (size_t i = 0; i < ARRAY_LEN(langs); i++)
		if (strcmp(langs[i].value, value) == 0)
			return i18n_tr(lang, langs[i].label);
	return value;
}

/* The template the path names: kind, channel and language, else 404 (0 when valid). */
struct which {
	int kind;
	const char *channel, *lang; /* static strings */
};

static int parse_path(struct http_req *req, struct which *w)
{
	w->kind = req->nparams >= 3 ? comms_kind_parse(req->params[0]) : -1;
	w->channel = w->lang = NULL;
	for (size_t i = 0; w->kind >= 0 && i < ARRAY_LEN(channels); i++)
		if (strcmp(channels[i].value, req->params[1]) == 0)
			w->channel = channels[i].value;
	for (size_t i = 0; w->kind >= 0 && i < ARRAY_LEN(langs); i++)
		if (strcmp(langs[i].value, req->params[2]) == 0)
			w->lang = langs[i].value;
	return w->kind >= 0 && w->channel != NULL && w->lang != NULL ? 0 : -1;
}

static const char *edit_href(const struct which *w, struct arena *a)
{
	return arena_printf(a, "/staff/templates/%s/%s/%s", comms_kind_name(w->kind), w->channel,
	                    w->lang);
}

/* Sets prefix_chars, _segments, _encoding and _many (more than one segment) for text. */
static void sms_count(struct view *v, const char *text)
{
	int chars = 0, segs = 0;
	enum comms_sms_encoding enc;
	comms_sms_segments(text, &chars, &segs, &enc);
	view_set_int(v, "chars", chars);
	view_set_int(v, "segments", segs);
	view_set(v, "encoding", comms_sms_encoding_name(enc));
	view_set_int(v, "per_segment",
	             enc == COMMS_SMS_GSM7 ? (segs > 1 ? 153 : 160) : (segs > 1 ? 67 : 70));
	view_set_bool(v, "many", segs > 1);
}

/* --- the list -------------------------------------------------------------- */

/* The appendix form's state (values as typed after a failed save). */
struct appendix_state {
	const char *text;
	unsigned kinds;
	const char *error; /* translated sentence or NULL */
};

static int render_list(struct http_req *req, struct http_resp *resp, int status,
                       const struct appendix_state *ap)
{
	struct arena *a = req->arena;
	struct comms_template *rows = NULL;
	int n = 0;
	if (comms_template_list(req->db, req->session->org_id, &rows, &n, a) != 0)
		return -1;
	struct view *v = view_new(a);
	view_set(v, "title", i18n_tr(req->lang, "Message templates"));
	view_set_bool(v, "admin", staff_is_admin(req));
	const char *saved = http_query(req, "saved");
	view_set_bool(v, "appendix_saved", saved != NULL && strcmp(saved, "appendix") == 0);
	for (size_t ch = 0; ch < ARRAY_LEN(channels); ch++)
		for (size_t l = 0; l < ARRAY_LEN(langs); l++) {
			struct view *h = view_append(v, "columns");
			view_setf(h, "label", "%s · %s", i18n_tr(req->lang, channels[ch].label),
			          i18n_tr(req->lang, langs[l].label));
		}
	for (int k = 0; k < COMMS_NKINDS; k++) {
		struct view *r = view_append(v, "kinds");
		view_set(r, "label", i18n_tr(req->lang, comms_kind_label(k)));
		view_set(r, "kind", comms_kind_name(k));
		for (int i = 0; i < 4; i++) {
			const struct comms_template *t = &rows[k * 4 + i];
			struct which w = {k, t->channel, t->lang};
			struct view *c = view_append(r, "cells");
			view_set(c, "href", edit_href(&w, a));
			view_set_bool(c, "custom", t->custom);
			view_setf(c, "what", "%s, %s, %s", i18n_tr(req->lang, comms_kind_label(k)),
			          label_of(req->lang, t->channel), label_of(req->lang, t->lang));
		}
	}
	struct view *apv = view_child(v, "appendix");
	view_set(apv, "text", ap->text != NULL ? ap->text : "");
	view_set(apv, "placeholder", comms_default_appendix(req->lang));
	view_set(apv, "error", ap->error != NULL ? ap->error : "");
	for (int k = 0; k < COMMS_NKINDS; k++) {
		if (!comms_kind_takes_appendix(k))
			continue;
		struct view *o = view_append(apv, "kinds");
		view_set(o, "value", comms_kind_name(k));
		view_set(o, "label", i18n_tr(req->lang, comms_kind_label(k)));
		view_set_bool(o, "checked", (ap->kinds & (1u << k)) != 0);
	}
	return http_render(req, resp, status, "staff/templates.html", v);
}

int staff_templates(struct http_req *req, struct http_resp *resp)
{
	struct comms_appendix app;
	if (comms_appendix_get(req->db, req->session->org_id, &app, req->arena) != 0)
		return -1;
	struct appendix_state st = {app.text, app.kinds, NULL};
	return render_list(req, resp, 200, &st);
}

int staff_templates_appendix(struct http_req *req, struct http_resp *resp)
{
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	struct appendix_state st = {http_form(req, "text"), 0, NULL};
	for (const struct http_kv *f = req->form; f != NULL; f = f->next)
		if (strcmp(f->name, "kinds") == 0) {
			int k = comms_kind_parse(f->value);
			if (k >= 0)
				st.kinds |= 1u << k;
		}
	struct comms_tpl_error e;
	int rc = comms_appendix_save(req->db, req->session->org_id, st.text, st.kinds,
	                             req->session->user_id, req->ip, now_utc(), &e);
	if (rc == COMMS_INVALID) {
		char msg[256];
		comms_tpl_error_text(&e, req->lang, msg, sizeof(msg));
		st.error = arena_strdup(req->arena, msg);
		return render_list(req, resp, 422, &st);
	}
	if (rc != 0)
		return -1;
	http_redirect(resp, "/staff/templates?saved=appendix");
	return 0;
}

/* --- the edit page ------------------------------------------------------------ */

struct edit_state {
	struct which w;
	const char *subject, *body;             /* as shown in the fields */
	const char *subject_error, *body_error; /* translated, or NULL */
	const char *notice;
	struct view *preview; /* filled by the preview, or NULL */
	int64_t patient_id;
	const char *account; /* account_modes value */
};

/* The tag error e as a sentence (arena), or NULL when there is none. */
static const char *error_text(struct http_req *req, const struct comms_tpl_error *e)
{
	if (e->code == 0)
		return NULL;
	char msg[256];
	comms_tpl_error_text(e, req->lang, msg, sizeof(msg));
	return arena_strdup(req->arena, msg);
}

/* The patients offered for the preview (first PREVIEW_PATIENTS of the organisation). */
static int patient_options(struct http_req *req, struct view *v, int64_t selected)
{
	struct store_patient_filter f = {
	    .q = NULL, .status = -1, .after_id = 0, .limit = PREVIEW_PATIENTS};
	struct store_patient *rows = NULL;
	int n = 0, more = 0;
	if (store_patient_list(req->db, req->session->org_id, &f, &rows, &n, &more, req->arena) !=
	    0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct view *o = view_append(v, "patients");
		view_set_int(o, "id", rows[i].id);
		view_setf(o, "label", "%s %s (%s)", rows[i].given_name, rows[i].family_name,
		          staff_status_label(req->lang, rows[i].status));
		view_set_bool(o, "selected", rows[i].id == selected);
	}
	return 0;
}

static int render_edit(struct http_req *req, struct http_resp *resp, int status,
                       const struct edit_state *st, const struct comms_template *t)
{
	struct arena *a = req->arena;
	const char *lang = req->lang;
	int email = strcmp(st->w.channel, "email") == 0;
	struct view *v = view_new(a);
	view_setf(v, "title", "%s · %s · %s", i18n_tr(lang, comms_kind_label(st->w.kind)),
	          label_of(lang, st->w.channel), label_of(lang, st->w.lang));
	view_set(v, "action", edit_href(&st->w, a));
	view_setf(v, "preview_action", "%s/preview", edit_href(&st->w, a));
	view_setf(v, "reset_action", "%s/reset", edit_href(&st->w, a));
	view_set_bool(v, "admin", staff_is_admin(req));
	view_set_bool(v, "email", email);
	view_set_bool(v, "sms", !email);
	view_set_bool(v, "custom", t->custom);
	if (t->custom) {
		staff_time(v, "updated", t->updated_at, a);
		view_set(v, "updated_by", t->updated_by != NULL ? t->updated_by : "");
	}
	view_set(v, "subject", st->subject != NULL ? st->subject : "");
	view_set(v, "body", st->body != NULL ? st->body : "");
	view_set(v, "subject_error", st->subject_error != NULL ? st->subject_error : "");
	view_set(v, "body_error", st->body_error != NULL ? st->body_error : "");
	view_set_bool(v, "has_errors", st->subject_error != NULL || st->body_error != NULL);
	view_set(v, "notice", st->notice != NULL ? st->notice : "");
	if (!email)
		sms_count(view_child(v, "count"), st->body != NULL ? st->body : "");
	int ntags = 0;
	const struct comms_tag_def *tags = comms_tag_table(&ntags);
	for (int i = 0; i < ntags; i++) {
		if (!(tags[i].kinds & (1u << st->w.kind)))
			continue;
		struct view *tv = view_append(v, "tags");
		view_setf(tv, "name", "{{%s}}", tags[i].name);
		view_set(tv, "help", i18n_tr(lang, tags[i].help));
		view_set_bool(tv, "link", tags[i].link);
	}
	if (patient_options(req, v, st->patient_id) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(account_modes); i++) {
		struct view *o = view_append(v, "accounts");
		view_set(o, "value", account_modes[i].value);
		view_set(o, "label", i18n_tr(lang, account_modes[i].label));
		view_set_bool(o, "selected",
		              st->account != NULL &&
		                  strcmp(st->account, account_modes[i].value) == 0);
	}
	if (st->preview != NULL)
		view_set_bool(v, "has_preview", 1);
	if (st->preview != NULL) {
		struct view *p = view_child(v, "preview");
		const char *keys[] = {"subject", "body", "note", "link_note"};
		for (size_t i = 0; i < ARRAY_LEN(keys); i++)
			view_set(p, keys[i], view_get(st->preview, keys[i]));
		view_set_bool(p, "email", email);
		if (!email)
			sms_count(view_child(p, "count"), view_get(st->preview, "body"));
	}
	return http_render(req, resp, status, "staff/templates_edit.html", v);
}

/* Loads the stored (or default) template of the path; 1 when resp holds the 404. */
static int load(struct http_req *req, struct http_resp *resp, struct edit_state *st,
                struct comms_template *t)
{
	memset(st, 0, sizeof(*st));
	if (parse_path(req, &st->w) != 0) {
		http_error(req, resp, 404);
		return 1;
	}
	if (comms_template_get(req->db, req->session->org_id, st->w.kind, st->w.channel, st->w.lang,
	                       t, req->arena) != 0)
		return -1;
	st->subject = t->subject;
	st->body = t->body;
	st->account = account_modes[0].value;
	return 0;
}

int staff_template_edit(struct http_req *req, struct http_resp *resp)
{
	struct edit_state st;
	struct comms_template t;
	int rc = load(req, resp, &st, &t);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	const char *q = http_query(req, "done");
	if (q != NULL && strcmp(q, "saved") == 0)
		st.notice = i18n_tr(req->lang, "Template saved.");
	else if (q != NULL && strcmp(q, "reset") == 0)
		st.notice = i18n_tr(req->lang, "Back to the default text.");
	return render_edit(req, resp, 200, &st, &t);
}

int staff_template_save(struct http_req *req, struct http_resp *resp)
{
	struct edit_state st;
	struct comms_template t;
	int rc = load(req, resp, &st, &t);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	st.subject = http_form(req, "subject");
	st.body = http_form(req, "body");
	struct comms_tpl_error se, be;
	rc = comms_template_save(req->db, req->session->org_id, st.w.kind, st.w.channel, st.w.lang,
	                         st.subject, st.body, req->session->user_id, req->ip, now_utc(),
	                         &se, &be);
	if (rc == COMMS_INVALID) {
		st.subject_error = error_text(req, &se);
		st.body_error = error_text(req, &be);
		return render_edit(req, resp, 422, &st, &t);
	}
	if (rc != 0)
		return -1;
	http_redirect(resp,
	              arena_printf(req->arena, "%s?done=saved", edit_href(&st.w, req->arena)));
	return 0;
}

int staff_template_reset(struct http_req *req, struct http_resp *resp)
{
	struct edit_state st;
	struct comms_template t;
	int rc = load(req, resp, &st, &t);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	if (comms_template_reset(req->db, req->session->org_id, st.w.kind, st.w.channel, st.w.lang,
	                         req->session->user_id, req->ip, now_utc()) != 0)
		return -1;
	http_redirect(resp,
	              arena_printf(req->arena, "%s?done=reset", edit_href(&st.w, req->arena)));
	return 0;
}

/* The newest appointment (payment request: the newest one to pay) or recall of the patient
 * that the kind talks about; 0 when there is none. */
static int64_t context_id(struct http_req *req, int kind, int64_t patient_id)
{
	int64_t id = 0;
	int rc = 0;
	if (kind == COMMS_RECALL)
		rc = store_scalar(req->db, &id,
		                  "SELECT id FROM recalls WHERE patient_id = ? AND org_id = ? "
		                  "ORDER BY id DESC LIMIT 1",
		                  "ii", patient_id, req->session->org_id);
	else if (kind == COMMS_PAYMENT_REQUEST)
		rc = store_scalar(req->db, &id,
		                  "SELECT id FROM appointments WHERE patient_id = ? AND "
		                  "payment <> 'none' ORDER BY start_at DESC, id DESC LIMIT 1",
		                  "i", patient_id);
	else if (kind == COMMS_REMINDER || kind == COMMS_CONFIRMATION)
		rc = store_scalar(req->db, &id,
		                  "SELECT id FROM appointments WHERE patient_id = ? "
		                  "ORDER BY start_at DESC, id DESC LIMIT 1",
		                  "i", patient_id);
	return rc == 0 ? id : 0;
}

int staff_template_preview(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	struct edit_state st;
	struct comms_template t;
	int rc = load(req, resp, &st, &t);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	st.subject = http_form(req, "subject");
	st.body = http_form(req, "body");
	st.account = http_form(req, "account");
	int assume = -1;
	for (size_t i = 0; st.account != NULL && i < ARRAY_LEN(account_modes); i++)
		if (strcmp(st.account, account_modes[i].value) == 0)
			assume = account_modes[i].assume;
	int email = strcmp(st.w.channel, "email") == 0;
	/* the draft must validate before it can be previewed */
	struct comms_tpl_error se, be;
	memset(&se, 0, sizeof(se));
	comms_tpl_check(st.body, st.w.kind, COMMS_PART_BODY, &be);
	if (email)
		comms_tpl_check(st.subject, st.w.kind, COMMS_PART_SUBJECT, &se);
	st.subject_error = error_text(req, &se);
	st.body_error = error_text(req, &be);
	if (st.subject_error != NULL || st.body_error != NULL)
		return render_edit(req, resp, 422, &st, &t);

	const char *pid = http_form(req, "patient");
	struct store_patient p;
	if (pid == NULL || parse_i64(pid, 1, INT64_MAX, &st.patient_id) != 0 ||
	    store_patient_get(req->db, req->session->org_id, st.patient_id, &p, a) != 0) {
		st.notice =
		    i18n_tr(req->lang, "Choose a patient of your organisation for the preview.");
		return render_edit(req, resp, 422, &st, &t);
	}
	struct comms_ctx x = {.kind = st.w.kind,
	                      .channel = st.w.channel,
	                      .lang = st.w.lang,
	                      .org_id = req->session->org_id,
	                      .patient_id = p.id,
	                      .expiry_days = 30,
	                      .dry_run = 1,
	                      .assume_account = assume,
	                      .draft_subject = email ? st.subject : NULL,
	                      .draft_body = st.body};
	int64_t ctx_id = context_id(req, st.w.kind, p.id);
	if (st.w.kind == COMMS_RECALL)
		x.recall_id = ctx_id;
	else
		x.appointment_id = ctx_id;
	/* the message's own link, made by the sender for invitations and resets */
	if (st.w.kind == COMMS_INVITATION || st.w.kind == COMMS_RESET) {
		struct store_org o;
		struct store_portal po;
		if (store_org_get(req->db, req->session->org_id, &o, a) != 0 ||
		    store_portal_get(req->db, o.portal_id, &po, a) != 0)
			return -1;
		x.link = arena_printf(
		    a, "%s%s%s", po.base_url,
		    po.base_url[0] != '\0' && po.base_url[strlen(po.base_url) - 1] == '/' ? ""
		                                                                          : "/",
		    st.w.kind == COMMS_INVITATION ? "i/PREVIEW-no-real-link00"
		                                  : "r/PREVIEW-no-real-link00");
		x.expiry_days = po.invite_ttl_days;
	}
	struct buf subject, body;
	struct comms_render_info info;
	buf_init(&subject, 64 * 1024);
	buf_init(&body, 64 * 1024);
	rc = comms_render(req->db, &x, now_utc(), email ? &subject : NULL, &body, &info);
	if (rc == 0) {
		st.preview = view_new(a);
		view_set(st.preview, "subject", email ? subject.data : "");
		view_set(st.preview, "body", body.data);
		int needs_ctx = st.w.kind == COMMS_RECALL || st.w.kind == COMMS_REMINDER ||
		                st.w.kind == COMMS_CONFIRMATION ||
		                st.w.kind == COMMS_PAYMENT_REQUEST;
		view_set(st.preview, "note",
		         needs_ctx && ctx_id == 0
		             ? i18n_tr(req->lang, st.w.kind == COMMS_RECALL
		                                      ? "This patient has no recall: sample values "
		                                        "are shown."
		                                      : "This patient has no appointment: sample "
		                                        "values are shown.")
		             : "");
		view_set(
		    st.preview, "link_note",
		    info.family ? i18n_tr(req->lang, "A family member: links go to the portal's "
		                                     "home page, never to an invitation.")
		    : info.has_account
		        ? i18n_tr(req->lang, "With an account: links open the portal page itself.")
		        : i18n_tr(req->lang, "Without an account: links are invitations (none "
		                             "was created by this preview)."));
	}
	buf_free(&subject);
	buf_free(&body);
	if (rc == COMMS_NOTFOUND) {
		st.notice =
		    i18n_tr(req->lang, "Choose a patient of your organisation for the preview.");
		return render_edit(req, resp, 422, &st, &t);
	}
	if (rc != 0)
		return -1;
	return render_edit(req, resp, 200, &st, &t);
}
