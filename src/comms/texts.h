/*
 * comms/texts: message texts: the defaults that ship with invito (defaults.c,
 * Italian and English, SMS and e-mail, every kind), each organisation's own
 * templates and invitation appendix in the store (templates.c), and the
 * sending of messages whose link the caller made itself (invitations and
 * resets from invite/). The tag engine and comms_render() are in tags.h.
 *
 * Every text is validated (tags.h) before it is stored; defaults are
 * validated by a unit test. Links come from portals.base_url only, never from
 * a request's Host header. Nothing here logs a rendered text or a link.
 */
#ifndef INVITO_COMMS_TEXTS_H
#define INVITO_COMMS_TEXTS_H

#include "comms/tags.h"

#include <stdint.h>

struct arena;
struct buf;
struct store_conn;

/* --- defaults (defaults.c) ---------------------------------------------------- */

struct comms_text {
	const char *subject; /* e-mail only; NULL for SMS */
	const char *body;
};

/*
 * The default text for kind ("invitation", "reset", "password_changed",
 * "reminder", "confirmation", "recall", "payment_request"), channel ("sms",
 * "email") and lang ("it", "en"; anything else gives "it"). NULL for an
 * unknown kind or channel. Static storage: never freed.
 */
const struct comms_text *comms_default_text(const char *kind, const char *channel,
                                            const char *lang);
/* The appendix used when the organisation switched it on without a text of its own. */
const char *comms_default_appendix(const char *lang);

/* The languages and channels templates exist in ("it", "en"; "sms", "email"). */
extern const char *const comms_langs[2];
extern const char *const comms_channels[2];
/* lang when it is one of comms_langs, else "it". */
const char *comms_lang(const char *lang);

/* --- an organisation's templates (templates.c) ------------------------------- */

struct comms_template {
	int kind;                   /* enum comms_kind */
	const char *channel, *lang; /* static strings */
	char *subject, *body;       /* arena; subject NULL for SMS */
	int custom;                 /* 1: the organisation's own text, 0: the default */
	int64_t updated_at;         /* custom only */
	char *updated_by;           /* custom only: the staff user's name, or NULL */
};

/*
 * The template of org_id for kind, channel, lang: the organisation's own row,
 * else the default (custom 0). Returns 0, COMMS_INVALID for an unknown kind,
 * channel or language, or COMMS_ERR.
 */
int comms_template_get(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                       const char *lang, struct comms_template *out, struct arena *a);
/* Every kind x channel x language of org_id in table order (COMMS_NKINDS * 4 rows) into
 * *rows (arena). 0 or COMMS_ERR. */
int comms_template_list(struct store_conn *c, int64_t org_id, struct comms_template **rows, int *n,
                        struct arena *a);
/*
 * Validates and stores the organisation's own text (subject ignored for SMS),
 * with the audit event "template.updated" (detail: kind/channel/lang).
 * Returns 0; COMMS_INVALID with *subject_err / *body_err (code 0 for the field
 * that is fine); or COMMS_ERR / COMMS_BUSY.
 */
int comms_template_save(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                        const char *lang, const char *subject, const char *body, int64_t staff_id,
                        const char *ip, int64_t now, struct comms_tpl_error *subject_err,
                        struct comms_tpl_error *body_err);
/* Drops the organisation's own text (back to the default), audit "template.reset".
 * 0 (also when there was none), COMMS_INVALID or COMMS_ERR. */
int comms_template_reset(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                         const char *lang, int64_t staff_id, const char *ip, int64_t now);

/*
 * The parsed template the sender uses: the organisation's own when it still
 * validates (else the default, with a warning naming org and kind only),
 * subject left empty for SMS. Drafts (dry runs) are parsed instead of the
 * stored texts when not NULL: then COMMS_INVALID when a draft does not
 * validate. Free both with comms_tpl_free. 0, COMMS_INVALID or COMMS_ERR.
 */
int comms_template_parsed(struct store_conn *c, int64_t org_id, int kind, const char *channel,
                          const char *lang, const char *draft_subject, const char *draft_body,
                          struct comms_tpl *subject, struct comms_tpl *body);

/* The invitation appendix: its text (NULL: none of the organisation's own) and kinds. */
struct comms_appendix {
	char *text;     /* arena; NULL or "" uses comms_default_appendix(patient's language) */
	unsigned kinds; /* bit (1u << kind) for each kind that carries it */
};
int comms_appendix_get(struct store_conn *c, int64_t org_id, struct comms_appendix *out,
                       struct arena *a);
/* Validates (part COMMS_PART_APPENDIX; an empty text is allowed) and stores, audit
 * "appendix.updated". kinds outside comms_kind_takes_appendix are dropped.
 * 0, COMMS_INVALID with *err, or COMMS_ERR. */
int comms_appendix_save(struct store_conn *c, int64_t org_id, const char *text, unsigned kinds,
                        int64_t staff_id, const char *ip, int64_t now, struct comms_tpl_error *err);

/* --- messages with the caller's own link (invite/) ---------------------------- */

/* One organisation's parsed texts of one kind, every channel and language: load once for a
 * bulk run, render many times. */
struct comms_texts;
/* 0 and *out, COMMS_NOTFOUND (no such organisation), COMMS_INVALID or COMMS_ERR. */
int comms_texts_load(struct store_conn *c, int64_t org_id, int kind, struct comms_texts **out);
/* Accepts NULL. */
void comms_texts_free(struct comms_texts *t);

/* The values a message with its own link has (the organisation's come from the texts). */
struct comms_link_vars {
	const char *given_name, *family_name;
	const char *link;    /* TRD92 for an invitation, RESET_LINK for a reset; may be NULL */
	int64_t expiry_days; /* EXPIRY_DAYS */
};
/* Renders channel/lang into subject (reset first; may be NULL for SMS) and body (reset
 * first). 0, or -1 when a buffer's cap is passed or the channel is unknown. */
int comms_texts_render(const struct comms_texts *t, const char *channel, const char *lang,
                       const struct comms_link_vars *v, struct buf *subject, struct buf *body);

/*
 * Renders the organisation's text of kind ("invitation", "reset",
 * "password_changed") for patient_id with link (may be NULL) and queues it to
 * recipient with comms_outbox_add() (caller's transaction). Returns 0 and *id
 * (may be NULL), or a negative store_err.
 */
int comms_queue_text(struct store_conn *c, int64_t org_id, int64_t patient_id, const char *kind,
                     const char *channel, const char *lang, const char *recipient, const char *link,
                     int64_t expiry_days, const char *dedupe_key, int64_t now, int64_t *id);

#endif
