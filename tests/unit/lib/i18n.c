/*
 * Tests for lib/i18n.c: per-thread language switching with uselocale() (the
 * same thread alternating, two threads at once), the LANGUAGE trap, language
 * choice, and the catalog covering every template msgid.
 */
#include "lib/i18n.h"

#include <criterion/criterion.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
	/* A shell's LANGUAGE would override every thread's locale in glibc's lookup;
	 * i18n_init must clear it. */
	setenv("LANGUAGE", "en", 1);
	cr_assert_eq(i18n_init(INVITO_LOCALEDIR), 0);
}

static void teardown(void)
{
	i18n_free();
}

TestSuite(i18n, .init = setup, .fini = teardown);

Test(i18n, italian_and_english_alternate_on_one_thread)
{
	for (int i = 0; i < 50; i++) {
		cr_assert_str_eq(i18n_tr("it", "Sign in"), "Accedi");
		cr_assert_str_eq(i18n_tr("en", "Sign in"), "Sign in");
		cr_assert_str_eq(i18n_tr("it", "Patients"), "Pazienti");
		cr_assert_str_eq(i18n_tr("en", "Patients"), "Patients");
	}
	cr_expect_null(getenv("LANGUAGE"));
}

Test(i18n, accents_survive)
{
	cr_expect_str_eq(i18n_tr("it", "Something went wrong"), "Si è verificato un errore");
}

Test(i18n, fallbacks)
{
	cr_expect_str_eq(i18n_tr("it", "No such msgid here"), "No such msgid here");
	cr_expect_str_eq(i18n_tr("de", "Sign in"), "Sign in");
	cr_expect_str_eq(i18n_tr(NULL, "Sign in"), "Sign in");
	cr_expect_str_eq(i18n_tr("it", ""), "");
}

Test(i18n, the_thread_locale_is_restored)
{
	locale_t before = uselocale((locale_t)0);
	i18n_tr("it", "Sign in");
	cr_expect_eq(uselocale((locale_t)0), before);
}

struct worker {
	const char *lang, *want;
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 20000; i++)
		if (strcmp(i18n_tr(w->lang, "Sign in"), w->want) != 0)
			w->bad++;
	return NULL;
}

Test(i18n, two_threads_two_languages_at_once)
{
	struct worker w[4] = {
	    {"it", "Accedi", 0}, {"en", "Sign in", 0}, {"it", "Accedi", 0}, {"en", "Sign in", 0}};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(w[i].bad, 0, "thread %d (%s) got the wrong language %d times", i,
		             w[i].lang, w[i].bad);
	}
}

Test(i18n, pick)
{
	cr_expect_str_eq(i18n_pick(NULL, NULL, NULL), "it");
	cr_expect_str_eq(i18n_pick("en", "it", "it"), "en");
	cr_expect_str_eq(i18n_pick("de", "en", "it"), "en");
	cr_expect_str_eq(i18n_pick("", NULL, "en"), "en");
	cr_expect_str_eq(i18n_pick(NULL, "EN", NULL), "en");
	cr_expect_str_eq(i18n_pick(NULL, "it-IT", NULL), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "it-IT,it;q=0.9,en;q=0.8"), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "en-GB,en;q=0.9,it;q=0.8"), "en");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "de-DE,de;q=0.9,en;q=0.5,it;q=0.4"), "en");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "it;q=0.2, en;q=0.7"), "en");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "en;q=0, it;q=0.1"), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "en;q=0"), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "fr, de"), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "*"), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "en-US"), "en");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "EN_us ; q=1.0"), "en");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "english, en;q=bogus, it"), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, ",,;q=,"), "it");
	cr_expect_str_eq(i18n_pick(NULL, NULL, "en;q=0.8,it;q=0.8"), "en");
}

Test(i18n, supported)
{
	cr_expect(i18n_supported("it"));
	cr_expect(i18n_supported("en"));
	cr_expect(!i18n_supported("de"));
	cr_expect(!i18n_supported("IT"));
	cr_expect(!i18n_supported(""));
	cr_expect(!i18n_supported(NULL));
}

/* The repository root: INVITO_LOCALEDIR is "<root>/build/locale". */
static void repo_root(char *out, size_t n)
{
	const char *dir = INVITO_LOCALEDIR;
	const char *end = strstr(dir, "/build/locale");
	cr_assert_not_null(end);
	snprintf(out, n, "%.*s", (int)(end - dir), dir);
}

/* Templates and C strings (N_, _): a patient reading Italian never meets English. */
Test(i18n, every_msgid_has_an_italian_translation)
{
	char root[1024], cmd[1200];
	repo_root(root, sizeof(root));
	snprintf(cmd, sizeof(cmd), "'%s/tools/extract-msgids.sh' --check-all >/dev/null 2>&1",
	         root);
	cr_expect_eq(system(cmd), 0, "run tools/extract-msgids.sh --check-all to see which");
}
