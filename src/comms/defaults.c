/*
 * comms/defaults: the default texts of issue 3 and the small placeholder
 * substitution (see texts.h). SMS texts stay in GSM-7 and, with a link of a
 * usual length, within one 160-character segment. One table, one screen.
 * It must never log a rendered text: it holds a secret link.
 */
#include "comms/texts.h"

#include "comms/outbox.h"
#include "lib/buf.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct default_text {
	const char *kind, *channel, *lang;
	struct comms_text text;
};

static const struct default_text defaults[] = {
    {"invitation",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: {{PATIENT_GIVEN_NAME}}, attiva il tuo accesso al portale pazienti: "
            "{{LINK}} (valido {{EXPIRY_DAYS}} giorni)"}},
    {"invitation",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: {{PATIENT_GIVEN_NAME}}, activate your patient portal access: "
            "{{LINK}} (valid {{EXPIRY_DAYS}} days)"}},
    {"invitation",
     "email",
     "it",
     {"{{ORG_NAME}}: il tuo invito al portale pazienti",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "{{ORG_NAME}} ti invita al portale pazienti, dove puoi prenotare e gestire i tuoi "
      "appuntamenti online.\n\n"
      "Per attivare il tuo accesso apri questo link, conferma il tuo cognome e scegli una "
      "password:\n\n{{LINK}}\n\n"
      "Il link vale {{EXPIRY_DAYS}} giorni e si puo' usare una sola volta. Se non ti aspettavi "
      "questo messaggio, ignoralo.\n\n{{ORG_NAME}}\n"}},
    {"invitation",
     "email",
     "en",
     {"{{ORG_NAME}}: your invitation to the patient portal",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "{{ORG_NAME}} invites you to the patient portal, where you can book and manage your "
      "appointments online.\n\n"
      "To activate your access, open this link, confirm your family name and choose a "
      "password:\n\n{{LINK}}\n\n"
      "The link is valid for {{EXPIRY_DAYS}} days and works once. If you did not expect this "
      "message, ignore it.\n\n{{ORG_NAME}}\n"}},
    {"reset",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: per scegliere una nuova password del portale pazienti apri {{LINK}} "
            "(valido 1 ora)"}},
    {"reset",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: to choose a new patient portal password open {{LINK}} "
            "(valid 1 hour)"}},
    {"reset",
     "email",
     "it",
     {"{{ORG_NAME}}: nuova password del portale pazienti",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "per scegliere una nuova password del portale pazienti apri questo link:\n\n{{LINK}}\n\n"
      "Il link vale 1 ora e si puo' usare una sola volta. Se non hai chiesto tu di cambiare "
      "la password, ignora questo messaggio: la password attuale resta valida.\n\n"
      "{{ORG_NAME}}\n"}},
    {"reset",
     "email",
     "en",
     {"{{ORG_NAME}}: new patient portal password",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "to choose a new patient portal password, open this link:\n\n{{LINK}}\n\n"
      "The link is valid for 1 hour and works once. If you did not ask to change your "
      "password, ignore this message: your current password stays valid.\n\n{{ORG_NAME}}\n"}},
    {"password_changed",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: la password del tuo portale pazienti e' stata cambiata. Se non sei "
            "stato tu, contattaci subito."}},
    {"password_changed",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: your patient portal password was changed. If this was not you, "
            "contact us now."}},
    {"password_changed",
     "email",
     "it",
     {"{{ORG_NAME}}: password cambiata",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "la password del tuo portale pazienti e' stata appena cambiata e ogni altra sessione "
      "aperta e' stata chiusa.\n\n"
      "Se non sei stato tu, contattaci subito.\n\n{{ORG_NAME}}\n"}},
    {"password_changed",
     "email",
     "en",
     {"{{ORG_NAME}}: password changed",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "your patient portal password has just been changed and every other open session was "
      "closed.\n\n"
      "If this was not you, contact us now.\n\n{{ORG_NAME}}\n"}},
};

const struct comms_text *comms_default_text(const char *kind, const char *channel, const char *lang)
{
	if (kind == NULL || channel == NULL)
		return NULL;
	const char *l = lang != NULL && strcmp(lang, "en") == 0 ? "en" : "it";
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		const struct default_text *d = &defaults[i];
		if (strcmp(d->kind, kind) == 0 && strcmp(d->channel, channel) == 0 &&
		    strcmp(d->lang, l) == 0)
			return &d->text;
	}
	return NULL;
}

/* Appends the value of the tag name[0..n) to out; 1 when the tag is unknown. */
static int put_tag(const char *name, size_t n, const struct comms_vars *v, struct buf *out,
                   int *err)
{
	const char *val = NULL;
	char num[24];
	if (n == 18 && memcmp(name, "PATIENT_GIVEN_NAME", 18) == 0) {
		val = v->given_name;
	} else if (n == 8 && memcmp(name, "ORG_NAME", 8) == 0) {
		val = v->org_name;
	} else if (n == 4 && memcmp(name, "LINK", 4) == 0) {
		val = v->link;
	} else if (n == 11 && memcmp(name, "EXPIRY_DAYS", 11) == 0) {
		snprintf(num, sizeof(num), "%" PRId64, v->expiry_days);
		val = num;
	} else {
		return 1;
	}
	if (val != NULL && buf_puts(out, val) != 0)
		*err = 1;
	return 0;
}

int comms_render(const char *tmpl, const struct comms_vars *v, struct buf *out)
{
	int err = 0;
	const char *p = tmpl;
	while (*p != '\0' && !err) {
		const char *open = strstr(p, "{{");
		if (open == NULL) {
			err = buf_puts(out, p) != 0;
			break;
		}
		const char *close = strstr(open + 2, "}}");
		if (close == NULL) {
			err = buf_puts(out, p) != 0;
			break;
		}
		if (buf_append(out, p, (size_t)(open - p)) != 0)
			return -1;
		if (put_tag(open + 2, (size_t)(close - open - 2), v, out, &err) != 0)
			err = buf_append(out, open, (size_t)(close + 2 - open)) != 0;
		p = close + 2;
	}
	return err ? -1 : 0;
}

int comms_queue_default(struct store_conn *c, int64_t org_id, int64_t patient_id, const char *kind,
                        const char *channel, const char *lang, const char *recipient,
                        const struct comms_vars *v, const char *dedupe_key, int64_t now,
                        struct buf *scratch, int64_t *id)
{
	const struct comms_text *t = comms_default_text(kind, channel, lang);
	if (t == NULL)
		return STORE_INVALID;
	buf_reset(scratch);
	/* One buffer holds the subject, a NUL, then the body. */
	size_t body_at = 0;
	if (t->subject != NULL) {
		if (comms_render(t->subject, v, scratch) != 0 || buf_putc(scratch, '\0') != 0)
			return STORE_INVALID;
		body_at = scratch->len;
	}
	if (comms_render(t->body, v, scratch) != 0)
		return STORE_INVALID;
	const char *subject = t->subject != NULL ? scratch->data : NULL;
	return comms_outbox_add(c, org_id, patient_id, kind, channel, recipient, subject,
	                        scratch->data + body_at, dedupe_key, now, id);
}
