/*
 * i18n: glibc gettext, one catalog domain ("invito"), one locale_t per served
 * language built once by i18n_init(). A translation switches only the calling
 * thread with uselocale() and switches it back: pool threads serve Italian and
 * English at the same time, so the process-wide setlocale() must never be used.
 *
 * Traps this module exists to handle:
 *  - gettext translates nothing in the "C" locale and finds a catalog only for a
 *    locale that exists on the machine (scripts/install-deps.sh generates them);
 *  - the LANGUAGE environment variable overrides the thread's locale in glibc's
 *    lookup, so i18n_init() clears it: the request decides, not the shell;
 *  - glibc caches translations keyed by the locale *name*, so each language needs
 *    its own named locale (it_IT.UTF-8, en_GB.UTF-8), never a renamed "C".
 */
#include "i18n.h"
#include "log.h"

#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DOMAIN "invito"

struct lang {
	const char *code;       /* "it" */
	const char *locales[3]; /* system locale names to try, in order */
	locale_t loc;           /* (locale_t)0 when the system lacks it */
};

static struct lang langs[] = {
    {"it", {"it_IT.UTF-8", "it_IT.utf8", NULL}, (locale_t)0},
    {"en", {"en_GB.UTF-8", "en_GB.utf8", "en_US.UTF-8"}, (locale_t)0},
};

#define NLANGS (sizeof(langs) / sizeof(langs[0]))

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int i18n_init(const char *locale_dir)
{
	int rc = -1;
	pthread_mutex_lock(&init_lock);
	/* Called before the pool threads start, so changing the environment is safe here. */
	unsetenv("LANGUAGE");
	if (locale_dir == NULL || bindtextdomain(DOMAIN, locale_dir) == NULL ||
	    bind_textdomain_codeset(DOMAIN, "UTF-8") == NULL) {
		log_error("i18n: cannot bind the catalog directory %s",
		          locale_dir ? locale_dir : "(none)");
		goto out;
	}
	for (size_t i = 0; i < NLANGS; i++) {
		struct lang *l = &langs[i];
		for (size_t k = 0; l->loc == (locale_t)0 && k < 3 && l->locales[k]; k++)
			l->loc =
			    newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, l->locales[k], (locale_t)0);
		if (l->loc == (locale_t)0)
			log_warn("i18n: system locale %s is missing (run scripts/install-deps.sh): "
			         "\"%s\" pages will show the English text",
			         l->locales[0], l->code);
	}
	rc = 0;
out:
	pthread_mutex_unlock(&init_lock);
	return rc;
}

void i18n_free(void)
{
	pthread_mutex_lock(&init_lock);
	for (size_t i = 0; i < NLANGS; i++) {
		if (langs[i].loc != (locale_t)0)
			freelocale(langs[i].loc);
		langs[i].loc = (locale_t)0;
	}
	pthread_mutex_unlock(&init_lock);
}

static struct lang *find_lang(const char *code)
{
	if (code == NULL)
		return NULL;
	for (size_t i = 0; i < NLANGS; i++)
		if (strcmp(langs[i].code, code) == 0)
			return &langs[i];
	return NULL;
}

const char *i18n_tr(const char *lang, const char *msgid)
{
	if (msgid == NULL || msgid[0] == '\0')
		return msgid; /* "" would return the catalog header */
	struct lang *l = find_lang(lang);
	if (l == NULL || l->loc == (locale_t)0)
		return msgid;
	locale_t old = uselocale(l->loc);
	const char *s = dgettext(DOMAIN, msgid);
	uselocale(old);
	return s;
}

const char *i18n_ntr(const char *lang, const char *singular, const char *plural, long n)
{
	unsigned long k = n < 0 ? (unsigned long)-n : (unsigned long)n;
	struct lang *l = find_lang(lang);
	if (singular == NULL || plural == NULL || l == NULL || l->loc == (locale_t)0)
		return k == 1 ? singular : plural;
	locale_t old = uselocale(l->loc);
	const char *s = dngettext(DOMAIN, singular, plural, k);
	uselocale(old);
	return s;
}

int i18n_supported(const char *lang)
{
	return find_lang(lang) != NULL;
}

/* The served language for a tag like "it", "IT", "it-IT", "en_GB"; NULL when not served. */
static const char *primary(const char *tag, size_t n)
{
	size_t k = 0;
	while (k < n && tag[k] != '-' && tag[k] != '_')
		k++;
	for (size_t i = 0; i < NLANGS; i++)
		if (strlen(langs[i].code) == k && strncasecmp(langs[i].code, tag, k) == 0)
			return langs[i].code;
	return NULL;
}

static const char *primary_str(const char *tag)
{
	return tag ? primary(tag, strlen(tag)) : NULL;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses "q=0.8" (RFC 9110: 0 to 1, up to three decimals) into thousandths; -1 when bad. */
static int parse_q(const char *s, size_t n)
{
	if (n < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=')
		return -1;
	s += 2;
	n -= 2;
	if (s[0] != '0' && s[0] != '1')
		return -1;
	int q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	int scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* The best served language in an Accept-Language header; NULL when none is acceptable. */
static const char *pick_accept(const char *h)
{
	const char *best = NULL;
	int best_q = 0;
	while (h && *h) {
		const char *end = strchr(h, ',');
		size_t len = end ? (size_t)(end - h) : strlen(h);
		/* One entry: tag [; q=x] */
		const char *p = h, *stop = h + len;
		while (p < stop && is_space(*p))
			p++;
		const char *tag = p;
		while (p < stop && *p != ';' && !is_space(*p))
			p++;
		size_t tag_len = (size_t)(p - tag);
		int q = 1000;
		while (p < stop && *p != ';')
			p++;
		if (p < stop) { /* parameters */
			p++;
			while (p < stop && is_space(*p))
				p++;
			const char *qs = p;
			while (p < stop && *p != ';' && !is_space(*p))
				p++;
			q = parse_q(qs, (size_t)(p - qs));
		}
		const char *code = tag_len ? primary(tag, tag_len) : NULL;
		/* Strictly greater: on a tie the earlier entry wins. */
		if (code && q > best_q) {
			best = code;
			best_q = q;
		}
		h = end ? end + 1 : NULL;
	}
	return best;
}

const char *i18n_pick(const char *choice, const char *record, const char *accept_language)
{
	const char *c;
	if ((c = primary_str(choice)) != NULL)
		return c;
	if ((c = primary_str(record)) != NULL)
		return c;
	if ((c = pick_accept(accept_language)) != NULL)
		return c;
	return "it";
}
