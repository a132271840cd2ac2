/*
 * validate: one place for the rules on a patient's details. Pure functions:
 * no store, no locale (ASCII classes are tested by hand so a per-thread
 * uselocale() never changes what is accepted).
 */
#include "validate.h"

#include "arena.h"

#include <stddef.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* s without leading and trailing ASCII space, in a; "" for NULL. */
static char *trimmed(const char *s, struct arena *a)
{
	if (s == NULL)
		return arena_strdup(a, "");
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	return arena_strndup(a, s, n);
}

int validate_mobile(const char *in, char out[VALIDATE_E164_MAX], const char **why)
{
	char d[32];
	size_t n = 0;
	int plus = 0;
	*why = "Mobile number is not valid.";
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c == '+' && n == 0 && !plus) {
			plus = 1;
		} else if (is_digit(c)) {
			if (n + 1 >= sizeof(d))
				return -1;
			d[n++] = c;
		} else if (!(is_space(c) || c == '.' || c == '-' || c == '/' || c == '(' ||
		             c == ')')) {
			return -1;
		}
	}
	d[n] = '\0';
	const char *num = d; /* digits after the country code's "+" */
	char cc[40];
	if (plus) {
		num = d;
	} else if (n > 2 && d[0] == '0' && d[1] == '0') {
		num = d + 2;
	} else if (n > 0 && d[0] == '3') {
		/* A bare Italian mobile: prefix the country code. */
		cc[0] = '3';
		cc[1] = '9';
		memcpy(cc + 2, d, n + 1);
		num = cc;
	} else {
		*why = "Mobile number needs the country code (e.g. +39).";
		return -1;
	}
	size_t len = strlen(num);
	if (len < 8 || len > 15 || num[0] == '0')
		return -1;
	if (num[0] == '3' && num[1] == '9') {
		/* Italy: mobiles are 3xx with 9 or 10 digits. */
		size_t national = len - 2;
		if (num[2] != '3' || national < 9 || national > 10) {
			*why = "Not an Italian mobile number.";
			return -1;
		}
	}
	out[0] = '+';
	memcpy(out + 1, num, len + 1);
	*why = NULL;
	return 0;
}

static int local_char(char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

int validate_email(const char *s, const char **why)
{
	*why = "E-mail address is not valid.";
	size_t n = strlen(s);
	if (n < 3 || n > 254)
		return -1;
	const char *at = strchr(s, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return -1;
	size_t local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return -1;
	for (size_t i = 0; i < local; i++)
		if (!local_char(s[i]) || (s[i] == '.' && s[i + 1] == '.'))
			return -1;
	/* Domain: dot-separated labels of letters, digits and inner hyphens; at least two
	 * labels; the last one alphabetic and at least 2 long. */
	const char *dom = at + 1;
	int labels = 0;
	const char *label = dom;
	for (const char *p = dom;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t ln = (size_t)(p - label);
			if (ln == 0 || ln > 63 || label[0] == '-' || label[ln - 1] == '-')
				return -1;
			labels++;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!is_alpha(*p) && !is_digit(*p) && *p != '-') {
			return -1;
		}
	}
	if (labels < 2)
		return -1;
	size_t tld = strlen(label);
	if (tld < 2)
		return -1;
	for (size_t i = 0; i < tld; i++)
		if (!is_alpha(label[i]))
			return -1;
	*why = NULL;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int validate_birth_date(const char *s, int64_t now, const char **why)
{
	*why = "Birth date must be a real date written YYYY-MM-DD.";
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !is_digit(s[i]))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	if (y < 1900) {
		*why = "Birth date is too far in the past.";
		return -1;
	}
	time_t t = (time_t)now;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	int today = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	if (y * 10000 + m * 100 + d >= today) {
		*why = "Birth date must be in the past.";
		return -1;
	}
	*why = NULL;
	return 0;
}

int validate_name(const char *s, const char **why)
{
	size_t n = strlen(s);
	int alnum = 0;
	*why = "Name is not valid.";
	if (n > 100) {
		*why = "Name is too long.";
		return -1;
	}
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)n;
	while (left > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, left, &cp);
		if (len <= 0) {
			*why = "Name is not valid UTF-8.";
			return -1;
		}
		utf8proc_category_t cat = utf8proc_category(cp);
		if (cat == UTF8PROC_CATEGORY_CC)
			return -1;
		if ((cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
		    cat == UTF8PROC_CATEGORY_ND)
			alnum = 1;
		p += len;
		left -= len;
	}
	if (!alnum)
		return -1;
	*why = NULL;
	return 0;
}

int validate_lang(const char *s, const char **why)
{
	if (strlen(s) == 2) {
		char l[3] = {to_lower(s[0]), to_lower(s[1]), '\0'};
		if (strcmp(l, "it") == 0 || strcmp(l, "en") == 0) {
			*why = NULL;
			return 0;
		}
	}
	*why = "Language must be it or en.";
	return -1;
}

static void add_error(struct validate_result *res, const char *field, const char *msg)
{
	if (res->n < VALIDATE_MAX_ERRORS) {
		res->err[res->n].field = field;
		res->err[res->n].msg = msg;
		res->n++;
	}
}

static char *lowered(char *s)
{
	for (char *p = s; *p; p++)
		*p = to_lower(*p);
	return s;
}

int validate_patient(struct validate_patient *p, int64_t now, struct arena *a,
                     struct validate_result *res)
{
	const char *why;
	char e164[VALIDATE_E164_MAX];
	char *given = trimmed(p->given_name, a);
	char *family = trimmed(p->family_name, a);
	char *birth = trimmed(p->birth_date, a);
	char *mobile = trimmed(p->mobile, a);
	char *email = lowered(trimmed(p->email, a));
	char *lang = lowered(trimmed(p->lang, a));

	memset(res, 0, sizeof(*res));
	if (given[0] == '\0')
		add_error(res, "given_name", "Given name is required.");
	else if (validate_name(given, &why) < 0)
		add_error(res, "given_name", why);
	if (family[0] == '\0')
		add_error(res, "family_name", "Family name is required.");
	else if (validate_name(family, &why) < 0)
		add_error(res, "family_name", why);
	if (birth[0] != '\0' && validate_birth_date(birth, now, &why) < 0)
		add_error(res, "birth_date", why);
	if (mobile[0] != '\0' && validate_mobile(mobile, e164, &why) < 0)
		add_error(res, "mobile", why);
	if (email[0] != '\0' && validate_email(email, &why) < 0)
		add_error(res, "email", why);
	if (lang[0] != '\0' && validate_lang(lang, &why) < 0)
		add_error(res, "lang", why);
	if (res->n > 0)
		return -1;

	p->given_name = given;
	p->family_name = family;
	p->birth_date = birth[0] ? birth : NULL;
	p->mobile = mobile[0] ? arena_strdup(a, e164) : NULL;
	p->email = email[0] ? email : NULL;
	p->lang = lang[0] ? lang : "it";
	return 0;
}
