/*
 * password: Argon2id hashing (libsodium crypto_pwhash_str) and the rule for
 * new passwords. A hash takes tens of milliseconds and 19 MiB: the HTTP
 * server must call these from its worker pool, never on the event loop.
 * Nothing here logs or keeps a password.
 */
#ifndef INVITO_PASSWORD_H
#define INVITO_PASSWORD_H

#include <stddef.h>

/* OWASP's Argon2id configuration (m=19 MiB, t=2, p=1). libsodium's "interactive" limits
 * (64 MiB) cost 126 ms a hash here against 37 ms: with them two cores hash ~16 new
 * passwords a second, with these ~50, which is what a bulk-invite morning needs. Hashes
 * made with other limits still verify: the string carries its own. */
#define PASSWORD_ARGON2_OPS 2
#define PASSWORD_ARGON2_MEM (19u * 1024u * 1024u)
/* crypto_pwhash_STRBYTES */
#define PASSWORD_HASH_MAX  128
#define PASSWORD_MAX_BYTES 1024
#define PASSWORD_MAX_CHARS 256
#define PASSWORD_MIN_BITS  28 /* zxcvbn's estimate below which a password is refused */
/* The shortest new password, in characters: a portal setting (portals.password_min_chars,
 * migration 008, with the same bounds in its CHECK), this default everywhere else. */
#define PASSWORD_MIN_CHARS_DEFAULT 10
#define PASSWORD_MIN_CHARS_LOW     8
#define PASSWORD_MIN_CHARS_HIGH    64

enum password_err {
	PASSWORD_OK = 0,
	PASSWORD_TOO_SHORT = -1, /* fewer than the minimum number of characters */
	PASSWORD_TOO_LONG = -2,  /* more than PASSWORD_MAX_BYTES bytes */
	PASSWORD_INVALID = -3,   /* not valid UTF-8, or control characters */
	PASSWORD_FAILED = -4,    /* out of memory or libsodium failure */
	PASSWORD_GUESSABLE = -5, /* a common password or a simple pattern (zxcvbn) */
};
/* English msgid for the error; for PASSWORD_TOO_SHORT a sentence without the number (use
 * password_message to say it). */
const char *password_strerror(int err);
/* The error err in lang, as a sentence for a page: PASSWORD_TOO_SHORT names min_chars ("at
 * least 14 characters", plural forms from the catalog). Written into out (size bytes,
 * truncated to fit); returns out. */
char *password_message(int err, int min_chars, const char *lang, char *out, size_t size);
/* The hint under a new-password field in lang ("At least 14 characters. ..."), into out. */
char *password_hint(int min_chars, const char *lang, char *out, size_t size);

/* Initialises libsodium once (thread-safe; also done by the functions below).
 * 0 on success, PASSWORD_FAILED when libsodium cannot start. */
int password_init(void);

/* Hashes pw into out (an encoded Argon2id string, NUL-terminated). 0 or PASSWORD_FAILED.
 * Does not apply password_acceptable(): existing passwords are hashed as given. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);

/* 0 when pw matches hash; -1 when it does not or the hash is malformed/NULL. */
int password_verify(const char *hash, const char *pw);

/* 0 when pw may be chosen as a new password: valid UTF-8 without control characters,
 * at least min_chars characters (code points, not bytes; min_chars is held between
 * PASSWORD_MIN_CHARS_LOW and PASSWORD_MIN_CHARS_HIGH, so a bad setting never lets a
 * short password through), at most PASSWORD_MAX_CHARS characters and PASSWORD_MAX_BYTES
 * bytes, and not easy to guess (zxcvbn). Otherwise a negative enum password_err. */
int password_acceptable(const char *pw, int min_chars);

#endif
