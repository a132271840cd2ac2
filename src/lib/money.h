/*
 * money: amounts in euros as people type them, read into integer cents.
 * Shared by the staff pages (staff/money.c) and the appointment imports (CSV
 * and API), so "45.00" means the same everywhere. It never uses floating point.
 */
#ifndef INVITO_MONEY_H
#define INVITO_MONEY_H

#include <stdint.h>

/* One million euros: beyond that an amount is a typing error. */
#define MONEY_MAX_CENTS 100000000

/*
 * An amount in euros ("35", "35,5", "35.50", "€ 35,00": at most two decimals,
 * a comma or a point, at most MONEY_MAX_CENTS) as cents. 0, or -1 when s is
 * not one (a sign, a thousands separator, a third decimal, other text).
 */
int money_parse(const char *s, int64_t *cents);

#endif
