/*
 * i18n: gettext catalogs (domain "invito") per request language, switched
 * per thread with uselocale(), never with the process-wide setlocale():
 * pool threads serve different languages at once. English msgids; Italian
 * and English catalogs in po/.
 */
#ifndef INVITO_I18N_H
#define INVITO_I18N_H

/* Marks a string for extraction (tools/extract-msgids.sh) without translating it here:
 * tables of user-facing strings are marked with N_() and translated where shown, with
 * i18n_tr(req->lang, s). */
#define N_(s) (s)

/* Binds the catalog directory and builds the per-language locales. 0 on success;
 * a missing system locale is logged and that language falls back to the msgid. */
int i18n_init(const char *locale_dir);
void i18n_free(void);

/* Translation of msgid in lang ("it", "en"); msgid itself when there is none. */
const char *i18n_tr(const char *lang, const char *msgid);
/* The form of a message for the number n in lang (ngettext: the catalog's Plural-Forms pick
 * it); without a translation, singular when n is 1, else plural. Both are usually printf
 * formats with one %d: extraction marks them c-format so msgfmt checks the translations. */
const char *i18n_ntr(const char *lang, const char *singular, const char *plural, long n);

/* The language to use: an explicit choice (page switch / cookie) if supported, else the
 * patient's record, else the best match of an Accept-Language header, else "it".
 * Any argument may be NULL. Returns a static string. */
const char *i18n_pick(const char *choice, const char *record, const char *accept_language);

/* 1 when lang is one invito serves. */
int i18n_supported(const char *lang);

#endif
