/*
 * invite/token: link tokens for invitations and password resets, and the
 * error words of invite.h. A token is 16 bytes from randombytes_buf(),
 * base64url without padding (22 characters); only the BLAKE2b-256 hash of
 * its TEXT is stored. The text, not the decoded bytes, is hashed because the
 * last base64 character carries two spare bits: hashing the bytes would let
 * a slightly different string open the same link.
 * It must never log or store a token.
 */
#include "invite/invite.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_start(void)
{
	if (sodium_init() < 0)
		abort(); /* no randomness: nothing safe to do */
}

/* The token text of raw and the hash of that text. */
static void token_from(const unsigned char raw[16], char token[INVITE_TOKEN_CHARS + 1],
                       unsigned char hash[32])
{
	sodium_bin2base64(token, INVITE_TOKEN_CHARS + 1, raw, 16,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(hash, 32, (const unsigned char *)token, INVITE_TOKEN_CHARS, NULL, 0);
}

void invite_token_new(char token[INVITE_TOKEN_CHARS + 1], unsigned char hash[32])
{
	unsigned char raw[16];
	/* Once, not per token: sodium_init() takes a lock on every call (bulk runs make 100k). */
	pthread_once(&sodium_once, sodium_start);
	randombytes_buf(raw, sizeof(raw));
	token_from(raw, token, hash);
	sodium_memzero(raw, sizeof(raw));
}

void invite_tokens_new(size_t n, char (*tokens)[INVITE_TOKEN_CHARS + 1],
                       unsigned char (*hashes)[32])
{
	unsigned char raw[64 * 16];
	pthread_once(&sodium_once, sodium_start);
	for (size_t i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;
		randombytes_buf(raw, k * 16);
		for (size_t j = 0; j < k; j++)
			token_from(raw + j * 16, tokens[i + j], hashes[i + j]);
	}
	sodium_memzero(raw, sizeof(raw));
}

static int b64url_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

int invite_token_hash(const char *token, unsigned char hash[32])
{
	if (token == NULL)
		return -1;
	for (int i = 0; i < INVITE_TOKEN_CHARS; i++)
		if (!b64url_char(token[i]))
			return -1;
	if (token[INVITE_TOKEN_CHARS] != '\0')
		return -1;
	crypto_generichash(hash, 32, (const unsigned char *)token, INVITE_TOKEN_CHARS, NULL, 0);
	return 0;
}

static const struct {
	int err;
	const char *msg;
} errors[] = {
    {INVITE_OK, "Done."},
    {INVITE_ERR, "Something went wrong. Please try again later."},
    {INVITE_UNKNOWN, "This link is not valid."},
    {INVITE_EXPIRED, "This link has expired."},
    {INVITE_USED, "This link has already been used."},
    {INVITE_LOCKED, "This link has been locked after too many attempts."},
    {INVITE_REVOKED, "This link is no longer valid."},
    {INVITE_WRONG_NAME, "The family name does not match our records."},
    {INVITE_HAS_ACCOUNT, "Already has an account."},
    {INVITE_FAMILY, "Family member managed by another account."},
    {INVITE_NO_CONTACT, "No mobile or e-mail."},
    {INVITE_RECENT, "Invited in the last 24 hours."},
    {INVITE_NOTFOUND, "Patient not found."},
    {INVITE_BUSY, "The system is busy. Please try again."},
    {INVITE_LOGIN_TAKEN, "The e-mail and mobile on file are already used by another account."},
    {INVITE_BAD_TARGET, "The destination is not a page of the portal."},
};

const char *invite_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].err == err)
			return errors[i].msg;
	return "Something went wrong. Please try again later.";
}
