/*
 * Tests for lib/names.c: the family-name key. Pairs that must match, pairs
 * that must not, and invalid UTF-8.
 */
#include "lib/arena.h"
#include "lib/names.h"

#include <criterion/criterion.h>
#include <stddef.h>

struct pair {
	const char *a, *b;
};

static const struct pair same[] = {
    {"D'Amico", "d’amico"},
    {"D'Amico", "DAMICO"},
    {"d‘amico", "D`Amico"},
    {"Dʼamico", "damico"}, /* U+02BC modifier letter apostrophe */
    {"Nicolò", "Nicolo"},
    {"NICOLÒ", "nicolo"},
    {"De Luca", "deluca"},
    {"De  Luca", "De-Luca"},
    {"Rossi-Bianchi", "rossi bianchi"},
    {"Rossi‐Bianchi", "Rossi–Bianchi"}, /* U+2010 hyphen, U+2013 en dash */
    {"Rossi—Bianchi", "ROSSIBIANCHI"},  /* U+2014 em dash */
    {"Müller", "MULLER"},
    {"Müller", "Mu\xcc\x88ller"}, /* NFC vs NFD */
    {"Ørsted", "ØRSTED"},
    {"Ørsted", "øRSTED"},
    {"Straße", "STRASSE"}, /* case fold ß -> ss */
    {"Dell'Acqua", "dellacqua"},
    {"Lo Russo", "lorusso"},
    {"St. John", "stjohn"},
    {"Παπαδόπουλος", "ΠΑΠΑΔΟΠΟΥΛΟΣ"},
    {"Παπαδόπουλος", "παπαδοπουλος"},
    {"Οδυσσεύς", "ΟΔΥΣΣΕΥΣ"}, /* final sigma folds to sigma */
    {"Иванов", "ИВАНОВ"},
    {"Ёлкин", "елкин"},            /* Ё = Е + diaeresis */
    {"Ｒｏｓｓｉ", "rossi"},       /* full-width letters */
    {"ＤＥ　ＬＵＣＡ", "de luca"}, /* full-width, ideographic space */
    {"Zoë", "ZOE"},
    {"Çelik", "celik"},
    {"François", "francois"},
    {"Niño", "NINO"},
    {"Ångström", "angstrom"},
    {"Ǆuro", "dzuro"}, /* compatibility ligature */
    {"ﬁnzi", "FINZI"}, /* fi ligature */
    {"  Rossi  ", "rossi"},
    {"Rossi.", "rossi"},
    {"O'Neill", "O’NEILL"},
    {"Şahin", "sahin"},
    {"Dvořák", "DVORAK"},
    {"Nguyễn", "nguyen"},
    {"山田", "山田"},
    {"Smith2", "smith 2"},
};

static const struct pair different[] = {
    {"Rossi", "Russo"},    {"Rossi", "Ross"},      {"Bianchi", "Bianco"}, {"", ""},
    {"", "Rossi"},         {"", " ' -"},           {" ' -", " ' -"},      {"'", "’"},
    {"Иванов", "Ivanov"},                        /* different scripts */
    {"Παπας", "Papas"},    {"Ørsted", "Orsted"}, /* Ø has no decomposition */
    {"Nicolò", "Niccolò"}, {"De Luca", "Di Luca"}, {"山田", "山本"},
};

Test(names, pairs_that_match)
{
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		cr_expect(names_match(same[i].a, same[i].b), "%s should match %s", same[i].a,
		          same[i].b);
}

Test(names, pairs_that_do_not_match)
{
	for (size_t i = 0; i < sizeof(different) / sizeof(different[0]); i++)
		cr_expect(!names_match(different[i].a, different[i].b), "%s should not match %s",
		          different[i].a, different[i].b);
}

Test(names, keys)
{
	struct arena *a = arena_create();
	cr_expect_str_eq(names_key("D'Amico", a), "damico");
	cr_expect_str_eq(names_key("Nicolò", a), "nicolo");
	cr_expect_str_eq(names_key("Rossi-Bianchi", a), "rossibianchi");
	/* Case folding maps final sigma to sigma, so both spellings key alike. */
	cr_expect_str_eq(names_key("Παπαδόπουλος", a), "παπαδοπουλοσ");
	cr_expect_str_eq(names_key("Straße", a), "strasse");
	cr_expect_str_eq(names_key(" ' - ", a), "");
	cr_expect_str_eq(names_key("", a), "");
	arena_free(a);
}

Test(names, invalid_utf8)
{
	struct arena *a = arena_create();
	cr_expect_null(names_key("Ross\xff", a));
	cr_expect_null(names_key("\xc3", a));         /* truncated sequence */
	cr_expect_null(names_key("\xc0\xaf", a));     /* overlong '/' */
	cr_expect_null(names_key("\xed\xa0\x80", a)); /* surrogate */
	cr_expect_null(names_key(NULL, a));
	cr_expect(!names_match("Ross\xff", "Ross\xff"));
	cr_expect(!names_match("Rossi", NULL));
	cr_expect(!names_match(NULL, NULL));
	arena_free(a);
}
