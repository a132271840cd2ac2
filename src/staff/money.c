/*
 * money: the small form helpers the service and appointment pages share:
 * trimming a typed value, reading an amount in euros as typed in Italy or
 * England, and writing cents back the way the language writes money.
 */
#include "staff/staff_int.h"

#include "lib/arena.h"
#include "lib/money.h"

#include <stdint.h>
#include <string.h>

const char *staff_trimmed(const char *s, struct arena *a)
{
	if (s == NULL)
		return "";
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return arena_strndup(a, s, n);
}

/* The one reading of an amount (lib/money.h), shared with the imports. */
int staff_parse_money(const char *s, int64_t *cents)
{
	return money_parse(s, cents);
}

/* cents as the language writes money: "35,00" (it) or "35.00" (en); in the arena. */
const char *staff_money_input(const char *lang, int64_t cents, struct arena *a)
{
	return arena_printf(a, "%lld%c%02lld", (long long)(cents / 100),
	                    strcmp(lang, "en") == 0 ? '.' : ',', (long long)(cents % 100));
}

/* cents for reading: "€ 35,00" / "€35.00". */
const char *staff_money_text(const char *lang, int64_t cents, struct arena *a)
{
	return arena_printf(a, strcmp(lang, "en") == 0 ? "\xe2\x82\xac%s" : "\xe2\x82\xac %s",
	                    staff_money_input(lang, cents, a));
}

/* "HH:MM" (or "H:MM", "HH.MM") as minutes from midnight; "24:00" only with allow24. */
