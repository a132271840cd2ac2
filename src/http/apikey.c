/*
 * http/apikey: organisation API keys as text. A key is "ivk_" followed by 32
 * bytes from randombytes_buf() in base64url without padding; the prefix lets
 * secret scanners and people recognise one. Only the BLAKE2b-256 hash of the
 * whole text is stored (store/apikeys.c), as for invitation tokens: hashing
 * the text rather than the bytes means no second spelling opens the same key.
 * It must never log or store a key.
 */
#include "http/http.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX     "ivk_"
#define PREFIX_LEN 4
#define RAW_BYTES  32

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_start(void)
{
	if (sodium_init() < 0)
		abort(); /* no randomness: nothing safe to do */
}

void http_apikey_new(char key[HTTP_APIKEY_CHARS + 1], unsigned char hash[32])
{
	unsigned char raw[RAW_BYTES];
	pthread_once(&sodium_once, sodium_start);
	randombytes_buf(raw, sizeof(raw));
	memcpy(key, PREFIX, PREFIX_LEN);
	sodium_bin2base64(key + PREFIX_LEN, HTTP_APIKEY_CHARS - PREFIX_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(hash, 32, (const unsigned char *)key, HTTP_APIKEY_CHARS, NULL, 0);
	sodium_memzero(raw, sizeof(raw));
}

static int b64url_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

int http_apikey_hash(const char *key, unsigned char hash[32])
{
	if (key == NULL || strncmp(key, PREFIX, PREFIX_LEN) != 0)
		return -1;
	for (int i = PREFIX_LEN; i < HTTP_APIKEY_CHARS; i++)
		if (!b64url_char(key[i]))
			return -1;
	if (key[HTTP_APIKEY_CHARS] != '\0')
		return -1;
	crypto_generichash(hash, 32, (const unsigned char *)key, HTTP_APIKEY_CHARS, NULL, 0);
	return 0;
}
