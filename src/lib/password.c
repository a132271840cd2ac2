/*
 * password: a thin layer over libsodium so that every caller uses the same
 * algorithm and limits, and so that sodium_init() runs exactly once.
 * Passwords are hashed and checked in Unicode NFC, so "è" typed as one code
 * point on a phone and as e + accent on a desktop is the same password.
 * New passwords are checked against zxcvbn's dictionaries and patterns; their
 * shortest length is the caller's (a portal's setting), held within fixed bounds.
 */
#include "password.h"

#include "i18n.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <utf8proc.h>
#include <zxcvbn.h>

_Static_assert(crypto_pwhash_STRBYTES == PASSWORD_HASH_MAX, "hash buffer size");

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc = -1;

static void init_sodium(void)
{
	init_rc = sodium_init() < 0 ? PASSWORD_FAILED : 0;
}

int password_init(void)
{
	pthread_once(&once, init_sodium);
	return init_rc;
}

const char *password_strerror(int err)
{
	switch (err) {
	case PASSWORD_OK:
		return "OK.";
	case PASSWORD_TOO_SHORT:
		return "The password is too short.";
	case PASSWORD_TOO_LONG:
		return "The password may have at most 256 characters.";
	case PASSWORD_GUESSABLE:
		return "This password is too easy to guess: it is a common password or a simple "
		       "pattern. Try a few words that do not belong together.";
	case PASSWORD_INVALID:
		return "The password contains characters that are not allowed.";
	default:
		return "The password could not be processed.";
	}
}

/* A minimum within the bounds every portal's setting keeps to (migration 008's CHECK). */
static int clamp_min(int min_chars)
{
	if (min_chars < PASSWORD_MIN_CHARS_LOW)
		return PASSWORD_MIN_CHARS_LOW;
	if (min_chars > PASSWORD_MIN_CHARS_HIGH)
		return PASSWORD_MIN_CHARS_HIGH;
	return min_chars;
}

char *password_message(int err, int min_chars, const char *lang, char *out, size_t size)
{
	if (size == 0)
		return out;
	if (err == PASSWORD_TOO_SHORT) {
		/* the catalog's text is a format with one %d: msgfmt --check keeps it so */
		int n = clamp_min(min_chars);
		snprintf(out, size,
		         i18n_ntr(lang, "The password must have at least %d character.",
		                  "The password must have at least %d characters.", n),
		         n);
	} else {
		snprintf(out, size, "%s", i18n_tr(lang, password_strerror(err)));
	}
	return out;
}

char *password_hint(int min_chars, const char *lang, char *out, size_t size)
{
	int n = clamp_min(min_chars);
	if (size > 0)
		snprintf(
		    out, size,
		    i18n_ntr(lang,
		             "At least %d character. A few words you will remember make a good "
		             "password.",
		             "At least %d characters. A few words you will remember make a good "
		             "password.",
		             n),
		    n);
	return out;
}

/* pw in NFC (malloc'd), or a copy of pw when it is not valid UTF-8 (hashed as given). */
static char *nfc(const char *pw)
{
	char *n = (char *)utf8proc_NFC((const utf8proc_uint8_t *)pw);
	if (n == NULL) {
		size_t len = strlen(pw) + 1;
		n = malloc(len);
		if (n != NULL)
			memcpy(n, pw, len);
	}
	return n;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
	if (password_init() < 0 || pw == NULL)
		return PASSWORD_FAILED;
	char *n = nfc(pw);
	if (n == NULL)
		return PASSWORD_FAILED;
	int rc = crypto_pwhash_str(out, n, strlen(n), PASSWORD_ARGON2_OPS, PASSWORD_ARGON2_MEM) != 0
	             ? PASSWORD_FAILED
	             : 0;
	sodium_memzero(n, strlen(n));
	free(n);
	return rc;
}

int password_verify(const char *hash, const char *pw)
{
	if (password_init() < 0 || hash == NULL || pw == NULL)
		return -1;
	/* libsodium reads the hash as a C string; refuse anything that cannot be one. */
	if (memchr(hash, '\0', PASSWORD_HASH_MAX) == NULL)
		return -1;
	char *n = nfc(pw);
	if (n == NULL)
		return -1;
	int rc = crypto_pwhash_str_verify(hash, n, strlen(n)) == 0 ? 0 : -1;
	sodium_memzero(n, strlen(n));
	free(n);
	return rc;
}

int password_acceptable(const char *pw, int min_chars)
{
	if (pw == NULL)
		return PASSWORD_TOO_SHORT;
	size_t n = strlen(pw);
	if (n > PASSWORD_MAX_BYTES)
		return PASSWORD_TOO_LONG;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)pw;
	utf8proc_ssize_t left = (utf8proc_ssize_t)n;
	size_t chars = 0;
	while (left > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, left, &cp);
		if (len <= 0 || utf8proc_category(cp) == UTF8PROC_CATEGORY_CC)
			return PASSWORD_INVALID;
		chars++;
		p += len;
		left -= len;
	}
	if (chars < (size_t)clamp_min(min_chars))
		return PASSWORD_TOO_SHORT;
	if (chars > PASSWORD_MAX_CHARS)
		return PASSWORD_TOO_LONG;
	char *norm = nfc(pw);
	if (norm == NULL)
		return PASSWORD_FAILED;
	double bits = ZxcvbnMatch(norm, NULL, NULL);
	sodium_memzero(norm, strlen(norm));
	free(norm);
	return bits < PASSWORD_MIN_BITS ? PASSWORD_GUESSABLE : PASSWORD_OK;
}
