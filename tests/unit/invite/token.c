/* Tests for src/invite/token.c: format, hash, malformed tokens, error words. */
#include "invite/invite.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

Test(invite_token, format_and_hash)
{
	char t[INVITE_TOKEN_CHARS + 1], u[INVITE_TOKEN_CHARS + 1];
	unsigned char h[32], h2[32], g[32];
	invite_token_new(t, h);
	invite_token_new(u, h2);
	cr_assert_eq(strlen(t), 22);
	cr_assert_str_neq(t, u);
	for (int i = 0; i < 22; i++)
		cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		                 t[i]) != NULL);
	/* The stored hash is BLAKE2b-256 of the token text. */
	crypto_generichash(g, 32, (const unsigned char *)t, 22, NULL, 0);
	cr_assert_eq(memcmp(g, h, 32), 0);
	cr_assert_eq(invite_token_hash(t, g), 0);
	cr_assert_eq(memcmp(g, h, 32), 0);
	/* 16 random bytes under it. */
	unsigned char raw[32];
	size_t len = 0;
	cr_assert_eq(sodium_base642bin(raw, sizeof(raw), t, 22, NULL, &len, NULL,
	                               sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	             0);
	cr_assert_eq(len, 16);
}

Test(invite_token, one_character_changed_is_another_hash)
{
	char t[INVITE_TOKEN_CHARS + 1];
	unsigned char h[32], g[32];
	invite_token_new(t, h);
	for (int i = 0; i < 22; i++) {
		char c[INVITE_TOKEN_CHARS + 1];
		memcpy(c, t, sizeof(c));
		c[i] = c[i] == 'A' ? 'B' : 'A';
		cr_assert_eq(invite_token_hash(c, g), 0);
		cr_assert_neq(memcmp(g, h, 32), 0, "position %d", i);
	}
}

Test(invite_token, malformed)
{
	unsigned char g[32];
	cr_assert_eq(invite_token_hash(NULL, g), -1);
	cr_assert_eq(invite_token_hash("", g), -1);
	cr_assert_eq(invite_token_hash("abc", g), -1);
	cr_assert_eq(invite_token_hash("AAAAAAAAAAAAAAAAAAAAA", g), -1);   /* 21 */
	cr_assert_eq(invite_token_hash("AAAAAAAAAAAAAAAAAAAAAAA", g), -1); /* 23 */
	cr_assert_eq(invite_token_hash("AAAAAAAAAAAAAAAAAAAA+/", g), -1);  /* not url-safe */
	cr_assert_eq(invite_token_hash("AAAAAAAAAAAAAAAAAAAAA=", g), -1);
	cr_assert_eq(invite_token_hash("AAAAAAAAAAAAAAAAAAAAA-", g), 0);
}

Test(invite_token, strerror_covers_every_code)
{
	for (int e = 0; e >= INVITE_BAD_TARGET; e--)
		cr_assert_not_null(invite_strerror(e));
	cr_assert_str_eq(invite_strerror(INVITE_RECENT), "Invited in the last 24 hours.");
}
