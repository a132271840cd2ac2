/*
 * validate: the rules for a patient's details, shared by the staff form and
 * the CSV import so that both accept and refuse exactly the same things.
 * Messages are English gettext msgids (translate them with i18n_tr); they
 * never echo the value back, so they are safe to put in a page or a log.
 */
#ifndef INVITO_VALIDATE_H
#define INVITO_VALIDATE_H

#include <stdint.h>

struct arena;

/* "+" and at most 15 digits, NUL. */
#define VALIDATE_E164_MAX 17

/*
 * Normalises a mobile number to E.164 in out. Accepts "+39 333 123 4567",
 * "0039 333...", and a bare Italian mobile "333 123 4567" (→ +39); spaces,
 * dots, hyphens, slashes and parentheses are ignored. An Italian number must
 * be a mobile (3xx, 9 or 10 digits). Returns 0, or -1 with *why set.
 */
int validate_mobile(const char *in, char out[VALIDATE_E164_MAX], const char **why);

/* 0 when s is a plausible e-mail address (ASCII, one @, a dotted domain). */
int validate_email(const char *s, const char **why);

/* 0 when s is YYYY-MM-DD, a real date, not before 1900 and strictly before
 * the UTC day of `now` (seconds since the epoch). */
int validate_birth_date(const char *s, int64_t now, const char **why);

/* 0 when s is valid UTF-8, at most 100 bytes, without control characters, and
 * has at least one letter or digit. */
int validate_name(const char *s, const char **why);

/* 0 when s is "it" or "en" (any case). */
int validate_lang(const char *s, const char **why);

/* A patient's details as typed. Any field may be NULL (= empty). */
struct validate_patient {
	const char *given_name, *family_name, *birth_date, *mobile, *email, *lang;
};

struct validate_error {
	const char
	    *field;      /* "given_name", "family_name", "birth_date", "mobile", "email", "lang" */
	const char *msg; /* English msgid, e.g. "Family name is required." */
};

#define VALIDATE_MAX_ERRORS 6

struct validate_result {
	int n; /* errors found, in field order; 0 when valid */
	struct validate_error err[VALIDATE_MAX_ERRORS];
};

/*
 * Checks every field of p. On success (0) rewrites p's fields to their
 * normalised forms, allocated in a: names trimmed; empty optional fields NULL;
 * mobile in E.164; e-mail trimmed and lower-cased; lang lower-cased, "it" when
 * empty. On failure returns -1, fills res (one error per bad field) and
 * leaves p untouched. `now` is seconds since the epoch (birth dates must be
 * in the past).
 */
int validate_patient(struct validate_patient *p, int64_t now, struct arena *a,
                     struct validate_result *res);

#endif
