/*
 * Tests for lib/password.c: Argon2id round trip and the new-password rule.
 */
#include "lib/password.h"

#include <criterion/criterion.h>
#include <string.h>

Test(password, hash_and_verify)
{
	char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
	cr_assert_eq(password_hash("correct horse battery", h), 0);
	cr_expect_eq(strncmp(h, "$argon2id$", 10), 0);
	cr_expect_eq(password_verify(h, "correct horse battery"), 0);
	cr_expect_eq(password_verify(h, "correct horse batterY"), -1);
	cr_expect_eq(password_verify(h, ""), -1);
	cr_assert_eq(password_hash("correct horse battery", h2), 0);
	cr_expect_neq(strcmp(h, h2), 0, "salted: two hashes differ");
	cr_expect_eq(password_verify("not a hash", "x"), -1);
	cr_expect_eq(password_verify(NULL, "x"), -1);
	cr_expect_eq(password_verify(h, NULL), -1);
}

Test(password, acceptable)
{
	cr_expect_eq(password_acceptable("grappa tram violino"), PASSWORD_OK);
	cr_expect_eq(password_acceptable("Nicolò va a Bari col tram"), PASSWORD_OK);
	cr_expect_eq(password_acceptable("012345678"), PASSWORD_TOO_SHORT);
	cr_expect_eq(password_acceptable(""), PASSWORD_TOO_SHORT);
	cr_expect_eq(password_acceptable(NULL), PASSWORD_TOO_SHORT);
	/* characters, not bytes: 9 accented letters are 18 bytes but still too short */
	cr_expect_eq(password_acceptable("òòòòòòòòò"), PASSWORD_TOO_SHORT);
	cr_expect_eq(password_acceptable("abcdefghij\xff"), PASSWORD_INVALID);
	cr_expect_eq(password_acceptable("abcdefghij\n"), PASSWORD_INVALID);
	char big[PASSWORD_MAX_BYTES + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_eq(password_acceptable(big), PASSWORD_TOO_LONG);
	cr_expect_str_eq(password_strerror(PASSWORD_TOO_SHORT),
	                 "The password must have at least 10 characters.");
}

Test(password, at_most_256_characters)
{
	char s[258];
	size_t k = 0;
	for (int i = 0; i < 257; i++)
		s[k++] = "qwxzkjvbnm"[i % 10];
	s[k] = '\0';
	cr_expect_eq(password_acceptable(s), PASSWORD_TOO_LONG);
	s[256] = '\0';
	cr_expect_neq(password_acceptable(s), PASSWORD_TOO_LONG);
}

Test(password, common_and_patterned_passwords_are_refused)
{
	const char *bad[] = {"0123456789", "password123",  "qwertyuiop",  "òòòòòòòòòò",
	                     "1111111111", "iloveyou2024", "abcdefghijkl"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(password_acceptable(bad[i]), PASSWORD_GUESSABLE, "%s", bad[i]);
	cr_expect_not_null(strstr(password_strerror(PASSWORD_GUESSABLE), "too easy to guess"));
}

Test(password, unicode_forms_are_one_password)
{
	/* "caffè" typed as one code point (NFC) and as e + combining grave (NFD) */
	char h[PASSWORD_HASH_MAX];
	cr_assert_eq(password_hash("un caff\xc3\xa8 lungo per favore", h), 0);
	cr_expect_eq(password_verify(h, "un caffe\xcc\x80 lungo per favore"), 0);
	cr_expect_eq(password_verify(h, "un caffe lungo per favore"), -1);
}
