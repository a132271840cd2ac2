/*
 * money: reading a typed amount of euros into cents (see money.h).
 */
#include "lib/money.h"

#include <string.h>

int money_parse(const char *s, int64_t *cents)
{
	int64_t units = 0, frac = 0;
	int nd = 0, nf = 0;
	if (s == NULL)
		return -1;
	while (*s == ' ')
		s++;
	if (strncmp(s, "\xe2\x82\xac", 3) == 0) /* the euro sign */
		s += 3;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, nd++) {
		units = units * 10 + (*s - '0');
		if (units > MONEY_MAX_CENTS / 100)
			return -1;
	}
	if (*s == ',' || *s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9' && nf < 2; s++, nf++)
			frac = frac * 10 + (*s - '0');
		if (nf == 0)
			return -1;
		if (nf == 1)
			frac *= 10;
	}
	while (*s == ' ')
		s++;
	if (nd == 0 || *s != '\0')
		return -1;
	*cents = units * 100 + frac;
	return 0;
}
