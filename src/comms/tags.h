/*
 * comms/tags: the message tag engine (DESIGN.md §2 "Message tags", issue 4).
 *
 * A template is text with tags written {{NAME}}. It is parsed ONCE into
 * pieces (literal runs and tag references) and validated for its message kind
 * when staff save it; sending renders the parsed pieces with values resolved
 * for one recipient. Data tags (names, dates, service, amount...) take values
 * from the records; the link tags TRD92 (invitation), TRD104 (payment request)
 * and TRD89 (recall) make portal links from portals.base_url only, creating an
 * invitation in the caller's transaction when the recipient has no account.
 *
 * Rendering never fails because of a template: only validated templates are
 * stored, a stored template that no longer validates is replaced by the
 * default (and logged by kind, never by text), and every default is validated
 * by a unit test. Nothing here may log a rendered text or a link.
 */
#ifndef INVITO_COMMS_TAGS_H
#define INVITO_COMMS_TAGS_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct store_conn;

/* --- kinds and tags --------------------------------------------------------- */

enum comms_kind {
	COMMS_INVITATION = 0,
	COMMS_RESET,
	COMMS_PASSWORD_CHANGED,
	COMMS_REMINDER,
	COMMS_CONFIRMATION,
	COMMS_RECALL,
	COMMS_PAYMENT_REQUEST,
	COMMS_NKINDS
};
/* "invitation", "reset", ... for a kind; NULL when out of range. */
const char *comms_kind_name(int kind);
/* The kind named s, or -1. */
int comms_kind_parse(const char *s);
/* English msgid naming the kind for staff ("Appointment reminder"). */
const char *comms_kind_label(int kind);
/* 1 when the kind may carry the invitation appendix (reminder, confirmation, recall,
 * payment request: the kinds a patient without an account receives from the clinic). */
int comms_kind_takes_appendix(int kind);

enum comms_tag {
	COMMS_TAG_PATIENT_GIVEN_NAME = 0,
	COMMS_TAG_PATIENT_FAMILY_NAME,
	COMMS_TAG_ORG_NAME,
	COMMS_TAG_ORG_PHONE,
	COMMS_TAG_APPOINTMENT_DATE,
	COMMS_TAG_APPOINTMENT_TIME,
	COMMS_TAG_APPOINTMENT_PLACE,
	COMMS_TAG_SERVICE_NAME,
	COMMS_TAG_AMOUNT,
	COMMS_TAG_RECALL_DUE_DATE,
	COMMS_TAG_EXPIRY_DAYS,
	COMMS_TAG_RESET_LINK,
	COMMS_TAG_TRD92,
	COMMS_TAG_TRD104,
	COMMS_TAG_TRD89,
	COMMS_NTAGS
};

/* One row of the tag table (tags.c): one static const array, one screen. */
struct comms_tag_def {
	const char *name;   /* "PATIENT_GIVEN_NAME" */
	unsigned kinds;     /* bit (1u << kind) for every kind whose messages have its context */
	int appendix;       /* 1 when the invitation appendix may use it */
	int link;           /* 1 for a link tag (never in an e-mail subject) */
	const char *help;   /* English msgid for staff */
	const char *sample; /* an example value (for help and the benchmark) */
};
/* The tag table; *n gets its length (COMMS_NTAGS). */
const struct comms_tag_def *comms_tag_table(int *n);
/* The tag called name[0..len), or -1. */
int comms_tag_find(const char *name, size_t len);

/* --- parsing and validation --------------------------------------------------- */

/* Where a text is used: a message body, an e-mail subject, or the appendix. */
enum comms_part { COMMS_PART_BODY = 0, COMMS_PART_SUBJECT, COMMS_PART_APPENDIX };

enum comms_tpl_err {
	COMMS_TPL_OK = 0,
	COMMS_TPL_UNKNOWN_TAG = -1, /* {{NAME}} with a name not in the table */
	COMMS_TPL_UNBALANCED = -2,  /* "{{" without "}}", or a lone "}}" */
	COMMS_TPL_NO_CONTEXT = -3,  /* a tag this kind (or part) has no value for */
	COMMS_TPL_TOO_LONG = -4,    /* more than COMMS_TPL_MAX bytes */
	COMMS_TPL_BAD_TEXT = -5,    /* not UTF-8, or a control character other than \n \r \t */
	COMMS_TPL_EMPTY = -6,       /* a body (or subject) with nothing in it */
};
#define COMMS_TPL_MAX 8192 /* bytes in one template text */

/* What is wrong with a text, for the message next to the field. */
struct comms_tpl_error {
	int code;      /* enum comms_tpl_err */
	int line, col; /* 1-based; col counts characters (code points), not bytes */
	char tag[48];  /* the tag's name as written (truncated), "" when none */
};
/* English msgid (with "%s" for the tag and "%d" line, "%d" column in that order where the
 * code has a tag; line and column only otherwise): see comms_tpl_error_text(). */
const char *comms_tpl_strerror(int code);
/* The error as one sentence in lang ("Unknown tag {{FOO}} at line 2, column 5.") into out. */
void comms_tpl_error_text(const struct comms_tpl_error *e, const char *lang, char *out,
                          size_t size);

struct comms_piece {
	uint32_t off, len; /* literal: text[off..off+len); tag: unused */
	int tag;           /* -1 for a literal, else enum comms_tag */
};
/* A parsed template: owns its copy of the text and the pieces (comms_tpl_free). */
struct comms_tpl {
	char *text;
	struct comms_piece *piece;
	int n;
	unsigned tags; /* bit (1u << tag) for every tag used */
};

/*
 * Parses and validates text for kind (enum comms_kind) and part. A '{' or '}'
 * outside "{{" ... "}}" is literal text. On success returns 0 and fills *out
 * (free with comms_tpl_free); otherwise a negative comms_tpl_err with *err
 * (may be NULL) naming the tag and position, and *out is left empty.
 */
int comms_tpl_parse(const char *text, int kind, enum comms_part part, struct comms_tpl *out,
                    struct comms_tpl_error *err);
/* Validation only (the staff form): 0 or the comms_tpl_err, with *err. */
int comms_tpl_check(const char *text, int kind, enum comms_part part, struct comms_tpl_error *err);
/* Frees what parse allocated; accepts an empty or NULL template. */
void comms_tpl_free(struct comms_tpl *t);

/* The value of each tag for one message: s[0..n); a NULL s renders as nothing. */
struct comms_value {
	const char *s;
	size_t n;
};
/*
 * Appends t rendered with v[COMMS_NTAGS] to out: one length pass, one growth,
 * then memcpy of each piece (the hot path: no lookups, no allocation once out
 * has grown). Returns 0, or -1 when out's cap is passed.
 */
int comms_tpl_render(const struct comms_tpl *t, const struct comms_value *v, struct buf *out);

/* --- SMS length --------------------------------------------------------------- */

enum comms_sms_encoding { COMMS_SMS_GSM7 = 0, COMMS_SMS_UCS2 = 1 };
/*
 * Counts text (UTF-8) as an SMS: GSM-7 when every character is in the GSM
 * 03.38 default alphabet or its extension table (^{}\[~]|€ and form feed count
 * 2), else UCS-2 (UTF-16 code units: a character outside the BMP, such as an
 * emoji, counts 2). *chars: septets (GSM-7) or code units (UCS-2).
 * *segments: 1 when it fits one SMS (160 / 70), else the parts of a
 * concatenated SMS (153 / 67 each; an escape pair or a surrogate pair is never
 * split across parts). Malformed UTF-8 counts as UCS-2 replacement characters.
 * Any out pointer may be NULL.
 */
void comms_sms_segments(const char *text, int *chars, int *segments,
                        enum comms_sms_encoding *encoding);
/* "GSM-7" or "UCS-2". */
const char *comms_sms_encoding_name(enum comms_sms_encoding e);

/* --- rendering a message for a recipient --------------------------------------- */

struct comms_ctx {
	int kind;               /* enum comms_kind */
	const char *channel;    /* "sms" or "email" */
	const char *lang;       /* "it"/"en"; NULL: the patient's language */
	int64_t org_id;         /* the organisation sending (the patient's own) */
	int64_t patient_id;     /* a patient of org_id */
	int64_t appointment_id; /* reminder, confirmation, payment request; else 0 */
	int64_t recall_id;      /* recall; else 0 */
	const char *link;       /* invitation / reset: the message's own link (made by invite/) */
	int64_t expiry_days;    /* invitation: days the link stays valid */
	/*
	 * Preview (the staff page): 1 writes NOTHING: a link that would need an invitation
	 * shows base_url + "/i/" + a placeholder of a real token's length, and the texts
	 * staff are editing (draft_*) replace the stored ones.
	 */
	int dry_run;
	int assume_account;        /* dry run only: -1 as on record, 0 without, 1 with an account */
	const char *draft_subject; /* dry run only: NULL uses the stored subject */
	const char *draft_body;    /* dry run only: NULL uses the stored body */
};

/* What comms_render did (for callers that link the message to its invitation). */
struct comms_render_info {
	int64_t invitation_id; /* the invitation a link tag created (0: none) */
	int appendix;          /* 1 when the appendix was attached */
	int has_account, family, member_portal;
};

enum comms_render_err {
	COMMS_OK = 0,
	COMMS_ERR = -1,      /* store failure (logged) */
	COMMS_NOTFOUND = -2, /* no such patient in org, or appointment / recall not the patient's */
	COMMS_INVALID = -3,  /* bad kind, channel, or a draft that does not validate */
	COMMS_BUSY = -4,     /* the database is busy: try again */
};

/*
 * Renders the organisation's template (its own, else the default) of kind,
 * channel and language for one patient into subject (e-mail; may be NULL for
 * SMS) and body (both reset first), adding the org's appendix when the kind
 * carries it and the patient has no account and is not a family member.
 * Link tags: a family member gets base_url + "/"; a patient with an account
 * gets the page itself (TRD104 /appointments/{id}/pay, TRD89
 * /search?service={id}); one without gets an invitation whose target is that
 * page, created in the caller's open transaction (one invitation per message,
 * shared by every link tag and the appendix). For an appointment at a member,
 * links and the invitation are on the portal the member is connected to.
 * Returns 0 (info may be NULL) or a negative comms_render_err.
 */
int comms_render(struct store_conn *c, const struct comms_ctx *ctx, int64_t now,
                 struct buf *subject, struct buf *body, struct comms_render_info *info);

/*
 * comms_render, then queues the message to recipient (NULL: the patient's
 * mobile or e-mail for the channel) with comms_outbox_add() in the caller's
 * transaction, and records the message on the invitation it created
 * (invitations.created_by_message). dedupe_key as comms_outbox_add. Returns 0
 * and *id (may be NULL; 0 when deduplicated), COMMS_NOTFOUND when there is no
 * recipient, or another comms_render_err.
 */
int comms_queue(struct store_conn *c, const struct comms_ctx *ctx, const char *recipient,
                const char *dedupe_key, int64_t now, int64_t *id);

#endif
