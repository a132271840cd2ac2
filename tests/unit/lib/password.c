/*
 * Tests for lib/password.c: Argon2id round trip, the new-password rule with
 * the default minimum and with a portal's own (migration 008), and the
 * messages that name that minimum in Italian and English.
 */
#include "lib/password.h"

#include "lib/i18n.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

/* The rule with the default minimum, as for staff passwords and a portal left as it is. */
static int acceptable(const char *pw)
{
	return password_acceptable(pw, PASSWORD_MIN_CHARS_DEFAULT);
}

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

/* OWASP's minimum for Argon2id, not less (and not libsodium's 64 MiB: see password.h). */
Test(password, hashes_with_argon2id_at_19_mib_and_two_passes)
{
	char h[PASSWORD_HASH_MAX];
	cr_assert_eq(password_hash("correct horse battery", h), 0);
	cr_assert(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0, "%s", h);
	/* a hash made with other limits (an older installation's) still verifies */
	char old[crypto_pwhash_STRBYTES];
	cr_assert_eq(
	    crypto_pwhash_str(old, "correct horse battery", 21, 3, crypto_pwhash_MEMLIMIT_MIN), 0);
	cr_assert_eq(password_verify(old, "correct horse battery"), 0);
}

Test(password, acceptable)
{
	cr_expect_eq(acceptable("grappa tram violino"), PASSWORD_OK);
	cr_expect_eq(acceptable("Nicolò va a Bari col tram"), PASSWORD_OK);
	cr_expect_eq(acceptable("012345678"), PASSWORD_TOO_SHORT);
	cr_expect_eq(acceptable(""), PASSWORD_TOO_SHORT);
	cr_expect_eq(acceptable(NULL), PASSWORD_TOO_SHORT);
	/* characters, not bytes: 9 accented letters are 18 bytes but still too short */
	cr_expect_eq(acceptable("òòòòòòòòò"), PASSWORD_TOO_SHORT);
	cr_expect_eq(acceptable("abcdefghij\xff"), PASSWORD_INVALID);
	cr_expect_eq(acceptable("abcdefghij\n"), PASSWORD_INVALID);
	char big[PASSWORD_MAX_BYTES + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_eq(acceptable(big), PASSWORD_TOO_LONG);
	char msg[256];
	cr_expect_str_eq(password_message(PASSWORD_TOO_SHORT, PASSWORD_MIN_CHARS_DEFAULT, "en", msg,
	                                  sizeof(msg)),
	                 "The password must have at least 10 characters.");
}

Test(password, a_portal_minimum_of_12)
{
	/* 11 characters are refused before any guessability check; 12 good ones pass */
	cr_expect_eq(password_acceptable("grappa tram", 12), PASSWORD_TOO_SHORT);
	cr_expect_eq(password_acceptable("grappa trams", 12), PASSWORD_OK);
	cr_expect_eq(password_acceptable("grappa trams", 13), PASSWORD_TOO_SHORT);
	/* characters, not bytes: 11 accented letters are 22 bytes */
	cr_expect_eq(password_acceptable("çàòùèéìçàòù", 12), PASSWORD_TOO_SHORT);
	/* the default still takes 10 */
	cr_expect_eq(password_acceptable("grappa tra", PASSWORD_MIN_CHARS_DEFAULT), PASSWORD_OK);
	cr_expect_eq(password_acceptable("grappa tr", PASSWORD_MIN_CHARS_DEFAULT),
	             PASSWORD_TOO_SHORT);
}

Test(password, a_minimum_out_of_bounds_is_held_to_them)
{
	/* a bad setting can never let a short password through, nor demand more than 64 */
	cr_expect_eq(password_acceptable("zebu lama", 0), PASSWORD_OK, "9 >= the floor of 8");
	cr_expect_eq(password_acceptable("zebu la", 0), PASSWORD_TOO_SHORT, "7 < 8");
	cr_expect_eq(password_acceptable("zebu la", -5), PASSWORD_TOO_SHORT);
	char s[PASSWORD_MIN_CHARS_HIGH + 1];
	for (int i = 0; i < PASSWORD_MIN_CHARS_HIGH; i++)
		s[i] = "qwxzkjvbnm grappa"[i % 17];
	s[PASSWORD_MIN_CHARS_HIGH] = '\0';
	cr_expect_eq(password_acceptable(s, 1000), PASSWORD_OK, "64 characters always suffice");
	s[PASSWORD_MIN_CHARS_HIGH - 1] = '\0';
	cr_expect_eq(password_acceptable(s, 1000), PASSWORD_TOO_SHORT);
}

Test(password, the_messages_name_the_minimum)
{
	cr_assert_eq(i18n_init(INVITO_LOCALEDIR), 0);
	char msg[256];
	cr_expect_str_eq(password_message(PASSWORD_TOO_SHORT, 14, "en", msg, sizeof(msg)),
	                 "The password must have at least 14 characters.");
	cr_expect_str_eq(password_message(PASSWORD_TOO_SHORT, 14, "it", msg, sizeof(msg)),
	                 "La password deve avere almeno 14 caratteri.");
	cr_expect_str_eq(password_message(PASSWORD_TOO_SHORT, 3, "it", msg, sizeof(msg)),
	                 "La password deve avere almeno 8 caratteri.", "held to the floor");
	cr_expect_str_eq(password_hint(12, "it", msg, sizeof(msg)),
	                 "Almeno 12 caratteri. Alcune parole che ricorderà facilmente sono una "
	                 "buona password.");
	cr_expect_str_eq(password_hint(12, "en", msg, sizeof(msg)),
	                 "At least 12 characters. A few words you will remember make a good "
	                 "password.");
	/* the other errors are the catalog's sentences */
	cr_expect_str_eq(password_message(PASSWORD_TOO_LONG, 14, "it", msg, sizeof(msg)),
	                 "La password può avere al massimo 256 caratteri.");
	/* one form per number: the catalog's singular exists for languages that need it */
	cr_expect_str_eq(i18n_ntr("it", "The password must have at least %d character.",
	                          "The password must have at least %d characters.", 1),
	                 "La password deve avere almeno %d carattere.");
	cr_expect_str_eq(i18n_ntr("xx", "one %d", "many %d", 1), "one %d");
	cr_expect_str_eq(i18n_ntr("xx", "one %d", "many %d", 2), "many %d");
	i18n_free();
}

Test(password, at_most_256_characters)
{
	char s[258];
	size_t k = 0;
	for (int i = 0; i < 257; i++)
		s[k++] = "qwxzkjvbnm"[i % 10];
	s[k] = '\0';
	cr_expect_eq(acceptable(s), PASSWORD_TOO_LONG);
	s[256] = '\0';
	cr_expect_neq(acceptable(s), PASSWORD_TOO_LONG);
}

Test(password, common_and_patterned_passwords_are_refused)
{
	const char *bad[] = {"0123456789", "password123",  "qwertyuiop",  "òòòòòòòòòò",
	                     "1111111111", "iloveyou2024", "abcdefghijkl"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(acceptable(bad[i]), PASSWORD_GUESSABLE, "%s", bad[i]);
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
