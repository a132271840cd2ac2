/*
 * comms/defaults: the texts invito ships with, for every kind, both channels,
 * Italian and English (texts.h). An organisation's own template replaces one
 * of them; without it, these are sent. SMS texts stay in GSM-7 and, with
 * values of usual length, within one 160-character segment. Every text here
 * is validated for its kind by tests/unit/comms/tags.c.
 * One table, one screen per kind. Nothing here renders or logs anything.
 */
#include "comms/texts.h"

#include <string.h>

const char *const comms_langs[2] = {"it", "en"};
const char *const comms_channels[2] = {"sms", "email"};

struct default_text {
	const char *kind, *channel, *lang;
	struct comms_text text;
};

#define SIGN "\n\n{{ORG_NAME}}\n{{ORG_PHONE}}\n"

static const struct default_text defaults[] = {
    /* invitation: TRD92 is the invitation's own link */
    {"invitation",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: {{PATIENT_GIVEN_NAME}}, attiva il tuo accesso al portale pazienti: "
            "{{TRD92}} (valido {{EXPIRY_DAYS}} giorni)"}},
    {"invitation",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: {{PATIENT_GIVEN_NAME}}, activate your patient portal access: "
            "{{TRD92}} (valid {{EXPIRY_DAYS}} days)"}},
    {"invitation",
     "email",
     "it",
     {"{{ORG_NAME}}: il tuo invito al portale pazienti",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "{{ORG_NAME}} ti invita al portale pazienti, dove puoi prenotare e gestire i tuoi "
      "appuntamenti online.\n\n"
      "Per attivare il tuo accesso apri questo link, conferma il tuo cognome e scegli una "
      "password:\n\n{{TRD92}}\n\n"
      "Il link vale {{EXPIRY_DAYS}} giorni e si può usare una sola volta. Se non ti aspettavi "
      "questo messaggio, ignoralo." SIGN}},
    {"invitation",
     "email",
     "en",
     {"{{ORG_NAME}}: your invitation to the patient portal",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "{{ORG_NAME}} invites you to the patient portal, where you can book and manage your "
      "appointments online.\n\n"
      "To activate your access, open this link, confirm your family name and choose a "
      "password:\n\n{{TRD92}}\n\n"
      "The link is valid for {{EXPIRY_DAYS}} days and works once. If you did not expect this "
      "message, ignore it." SIGN}},
    /* reset */
    {"reset",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: per scegliere una nuova password del portale pazienti apri "
            "{{RESET_LINK}} (valido 1 ora)"}},
    {"reset",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: to choose a new patient portal password open {{RESET_LINK}} "
            "(valid 1 hour)"}},
    {"reset",
     "email",
     "it",
     {"{{ORG_NAME}}: nuova password del portale pazienti",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "per scegliere una nuova password del portale pazienti apri questo link:\n\n"
      "{{RESET_LINK}}\n\n"
      "Il link vale 1 ora e si può usare una sola volta. Se non hai chiesto tu di cambiare "
      "la password, ignora questo messaggio: la password attuale resta valida." SIGN}},
    {"reset",
     "email",
     "en",
     {"{{ORG_NAME}}: new patient portal password",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "to choose a new patient portal password, open this link:\n\n{{RESET_LINK}}\n\n"
      "The link is valid for 1 hour and works once. If you did not ask to change your "
      "password, ignore this message: your current password stays valid." SIGN}},
    /* password_changed */
    {"password_changed",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: la password del tuo portale pazienti è stata cambiata. Se non sei "
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
      "la password del tuo portale pazienti è stata appena cambiata e ogni altra sessione "
      "aperta è stata chiusa.\n\n"
      "Se non sei stato tu, contattaci subito." SIGN}},
    {"password_changed",
     "email",
     "en",
     {"{{ORG_NAME}}: password changed",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "your patient portal password has just been changed and every other open session was "
      "closed.\n\n"
      "If this was not you, contact us now." SIGN}},
    /* reminder */
    {"reminder",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: promemoria {{SERVICE_NAME}} {{APPOINTMENT_DATE}} ore "
            "{{APPOINTMENT_TIME}}, {{APPOINTMENT_PLACE}}. Per disdire: {{ORG_PHONE}}"}},
    {"reminder",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: reminder, {{SERVICE_NAME}} on {{APPOINTMENT_DATE}} at "
            "{{APPOINTMENT_TIME}}, {{APPOINTMENT_PLACE}}. To cancel: {{ORG_PHONE}}"}},
    {"reminder",
     "email",
     "it",
     {"Promemoria: {{SERVICE_NAME}} {{APPOINTMENT_DATE}}",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "ti ricordiamo l'appuntamento {{SERVICE_NAME}} di {{APPOINTMENT_DATE}} alle "
      "{{APPOINTMENT_TIME}} presso {{APPOINTMENT_PLACE}}.\n\n"
      "Se non puoi venire, avvisaci al più presto al numero {{ORG_PHONE}}." SIGN}},
    {"reminder",
     "email",
     "en",
     {"Reminder: {{SERVICE_NAME}} on {{APPOINTMENT_DATE}}",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "this is a reminder of your {{SERVICE_NAME}} appointment on {{APPOINTMENT_DATE}} at "
      "{{APPOINTMENT_TIME}}, {{APPOINTMENT_PLACE}}.\n\n"
      "If you cannot come, please let us know as soon as you can on {{ORG_PHONE}}." SIGN}},
    /* confirmation */
    {"confirmation",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: confermato {{SERVICE_NAME}} {{APPOINTMENT_DATE}} ore "
            "{{APPOINTMENT_TIME}}, {{APPOINTMENT_PLACE}}."}},
    {"confirmation",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: booked, {{SERVICE_NAME}} on {{APPOINTMENT_DATE}} at "
            "{{APPOINTMENT_TIME}}, {{APPOINTMENT_PLACE}}."}},
    {"confirmation",
     "email",
     "it",
     {"Appuntamento confermato: {{SERVICE_NAME}} {{APPOINTMENT_DATE}}",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "il tuo appuntamento è confermato:\n\n"
      "{{SERVICE_NAME}}\n{{APPOINTMENT_DATE}}, ore {{APPOINTMENT_TIME}}\n{{APPOINTMENT_PLACE}}"
      "\n\nPer spostarlo o disdirlo chiamaci al numero {{ORG_PHONE}}." SIGN}},
    {"confirmation",
     "email",
     "en",
     {"Appointment confirmed: {{SERVICE_NAME}} on {{APPOINTMENT_DATE}}",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "your appointment is confirmed:\n\n"
      "{{SERVICE_NAME}}\n{{APPOINTMENT_DATE}} at {{APPOINTMENT_TIME}}\n{{APPOINTMENT_PLACE}}"
      "\n\nTo move or cancel it, call us on {{ORG_PHONE}}." SIGN}},
    /* recall: TRD89 books the recall's service */
    {"recall",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: {{PATIENT_GIVEN_NAME}}, è ora di prenotare {{SERVICE_NAME}} "
            "(entro il {{RECALL_DUE_DATE}}): {{TRD89}}"}},
    {"recall",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: {{PATIENT_GIVEN_NAME}}, it is time to book {{SERVICE_NAME}} "
            "(by {{RECALL_DUE_DATE}}): {{TRD89}}"}},
    {"recall",
     "email",
     "it",
     {"{{ORG_NAME}}: è ora di prenotare {{SERVICE_NAME}}",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "è ora di prenotare {{SERVICE_NAME}}, da fare entro il {{RECALL_DUE_DATE}}.\n\n"
      "Puoi scegliere giorno e ora online:\n\n{{TRD89}}\n\n"
      "oppure chiamarci al numero {{ORG_PHONE}}." SIGN}},
    {"recall",
     "email",
     "en",
     {"{{ORG_NAME}}: time to book {{SERVICE_NAME}}",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "it is time to book {{SERVICE_NAME}}, due by {{RECALL_DUE_DATE}}.\n\n"
      "You can choose a day and time online:\n\n{{TRD89}}\n\n"
      "or call us on {{ORG_PHONE}}." SIGN}},
    /* payment_request: TRD104 opens the appointment's payment page */
    {"payment_request",
     "sms",
     "it",
     {NULL, "{{ORG_NAME}}: per {{SERVICE_NAME}} del {{APPOINTMENT_DATE}} ore "
            "{{APPOINTMENT_TIME}} paga {{AMOUNT}} online: {{TRD104}}"}},
    {"payment_request",
     "sms",
     "en",
     {NULL, "{{ORG_NAME}}: for {{SERVICE_NAME}} on {{APPOINTMENT_DATE}} at "
            "{{APPOINTMENT_TIME}} please pay {{AMOUNT}} online: {{TRD104}}"}},
    {"payment_request",
     "email",
     "it",
     {"{{ORG_NAME}}: pagamento della visita {{SERVICE_NAME}}",
      "Gentile {{PATIENT_GIVEN_NAME}},\n\n"
      "la tua video visita {{SERVICE_NAME}} di {{APPOINTMENT_DATE}} alle "
      "{{APPOINTMENT_TIME}} va pagata in anticipo: {{AMOUNT}}.\n\n"
      "Puoi pagare online da qui:\n\n{{TRD104}}" SIGN}},
    {"payment_request",
     "email",
     "en",
     {"{{ORG_NAME}}: payment for your {{SERVICE_NAME}}",
      "Dear {{PATIENT_GIVEN_NAME}},\n\n"
      "your {{SERVICE_NAME}} video consultation on {{APPOINTMENT_DATE}} at "
      "{{APPOINTMENT_TIME}} is to be paid in advance: {{AMOUNT}}.\n\n"
      "You can pay online here:\n\n{{TRD104}}" SIGN}},
};

static const struct {
	const char *lang, *text;
} appendices[] = {
    {"it", "Gestisci le tue prenotazioni online: {{TRD92}}"},
    {"en", "Manage your bookings online: {{TRD92}}"},
};

const char *comms_lang(const char *lang)
{
	return lang != NULL && strcmp(lang, "en") == 0 ? "en" : "it";
}

const struct comms_text *comms_default_text(const char *kind, const char *channel, const char *lang)
{
	if (kind == NULL || channel == NULL)
		return NULL;
	const char *l = comms_lang(lang);
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		const struct default_text *d = &defaults[i];
		if (strcmp(d->kind, kind) == 0 && strcmp(d->channel, channel) == 0 &&
		    strcmp(d->lang, l) == 0)
			return &d->text;
	}
	return NULL;
}

const char *comms_default_appendix(const char *lang)
{
	const char *l = comms_lang(lang);
	for (size_t i = 0; i < sizeof(appendices) / sizeof(appendices[0]); i++)
		if (strcmp(appendices[i].lang, l) == 0)
			return appendices[i].text;
	return appendices[0].text;
}
