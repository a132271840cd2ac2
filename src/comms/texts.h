/*
 * comms/texts: the default message texts (invitation, reset, password
 * changed) in Italian and English, for SMS and e-mail, and a tiny placeholder
 * substitution: {{PATIENT_GIVEN_NAME}}, {{ORG_NAME}}, {{LINK}},
 * {{EXPIRY_DAYS}}. The communications issue replaces this with editable
 * templates and the full tag engine; until then every default text lives in
 * defaults.c and nowhere else.
 * Links passed in must be built from portals.base_url only, never from a
 * request's Host header. Nothing here logs a rendered text.
 */
#ifndef INVITO_COMMS_TEXTS_H
#define INVITO_COMMS_TEXTS_H

#include <stdint.h>

struct buf;
struct store_conn;

struct comms_text {
	const char *subject; /* e-mail only; NULL for SMS */
	const char *body;
};

/* Values for the placeholders; a NULL string renders as "". */
struct comms_vars {
	const char *given_name, *org_name, *link;
	int64_t expiry_days;
};

/*
 * The default text for kind ("invitation", "reset", "password_changed"),
 * channel ("sms", "email") and lang ("it", "en"; anything else gives "it").
 * NULL for an unknown kind or channel. Static storage: never freed.
 */
const struct comms_text *comms_default_text(const char *kind, const char *channel,
                                            const char *lang);

/*
 * Appends tmpl to out with the placeholders replaced; an unknown {{TAG}} is
 * copied as it is. Returns 0, or -1 when out's cap is passed.
 */
int comms_render(const char *tmpl, const struct comms_vars *v, struct buf *out);

/*
 * Renders the default text of kind/channel/lang and queues it for recipient
 * with comms_outbox_add() (caller's transaction). scratch is a work buffer
 * the caller may reuse between calls (it is reset here; saves allocations in
 * bulk runs). Returns 0 and *id (may be NULL), or a negative store_err.
 */
int comms_queue_default(struct store_conn *c, int64_t org_id, int64_t patient_id, const char *kind,
                        const char *channel, const char *lang, const char *recipient,
                        const struct comms_vars *v, const char *dedupe_key, int64_t now,
                        struct buf *scratch, int64_t *id);

#endif
