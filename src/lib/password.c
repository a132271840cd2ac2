/*
 * password: a thin layer over libsodium so that every caller uses the same
 * algorithm and limits, and so that sodium_init() runs exactly once.
 */
#include "password.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <utf8proc.h>

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
		return "The password must have at least 10 characters.";
	case PASSWORD_TOO_LONG:
		return "The password is too long.";
	case PASSWORD_INVALID:
		return "The password contains characters that are not allowed.";
	default:
		return "The password could not be processed.";
	}
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
	if (password_init() < 0 || pw == NULL)
		return PASSWORD_FAILED;
	if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return PASSWORD_FAILED;
	return 0;
}

int password_verify(const char *hash, const char *pw)
{
	if (password_init() < 0 || hash == NULL || pw == NULL)
		return -1;
	/* libsodium reads the hash as a C string; refuse anything that cannot be one. */
	if (memchr(hash, '\0', PASSWORD_HASH_MAX) == NULL)
		return -1;
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0 ? 0 : -1;
}

int password_acceptable(const char *pw)
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
	return chars < PASSWORD_MIN_CHARS ? PASSWORD_TOO_SHORT : PASSWORD_OK;
}
