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
	cr_expect_eq(password_acceptable("0123456789"), PASSWORD_OK);
	cr_expect_eq(password_acceptable("012345678"), PASSWORD_TOO_SHORT);
	cr_expect_eq(password_acceptable(""), PASSWORD_TOO_SHORT);
	cr_expect_eq(password_acceptable(NULL), PASSWORD_TOO_SHORT);
	/* characters, not bytes: 9 accented letters are 18 bytes but still too short */
	cr_expect_eq(password_acceptable("òòòòòòòòò"), PASSWORD_TOO_SHORT);
	cr_expect_eq(password_acceptable("òòòòòòòòòò"), PASSWORD_OK);
	cr_expect_eq(password_acceptable("abcdefghij\xff"), PASSWORD_INVALID);
	cr_expect_eq(password_acceptable("abcdefghij\n"), PASSWORD_INVALID);
	char big[PASSWORD_MAX_BYTES + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_eq(password_acceptable(big), PASSWORD_TOO_LONG);
	cr_expect_str_eq(password_strerror(PASSWORD_TOO_SHORT),
	                 "The password must have at least 10 characters.");
}
