/*
 * Tests for booking/tz: conversions in Europe/Rome around both DST changes,
 * the gap and the repeated hour, the POSIX footer far in the future, other
 * hemispheres, bad names, and many threads converting at once.
 */
#include "booking/tz.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

TestSuite(booking_tz);

static int64_t rome(int y, int mo, int d, int h, int mi, int *rc)
{
	struct tz_local l = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi};
	int64_t u = 0;
	*rc = tz_local_to_utc("Europe/Rome", &l, &u);
	return u;
}

Test(booking_tz, rome_winter_and_summer)
{
	int rc;
	/* 2025-01-15 09:00 CET = 08:00Z; 2025-07-15 09:00 CEST = 07:00Z. */
	cr_assert_eq(rome(2025, 1, 15, 9, 0, &rc), 1736928000);
	cr_assert_eq(rc, 0);
	cr_assert_eq(rome(2025, 7, 15, 9, 0, &rc), 1752562800);
	cr_assert_eq(rc, 0);
	struct tz_local l;
	cr_assert_eq(tz_utc_to_local("Europe/Rome", 1752562800, &l), 0);
	cr_assert_eq(l.hour, 9);
	cr_assert_eq(l.utc_offset, 7200);
	cr_assert_eq(l.is_dst, 1);
	cr_assert_str_eq(l.abbrev, "CEST");
	cr_assert_eq(l.weekday, 1); /* a Tuesday */
}

Test(booking_tz, spring_gap)
{
	int rc;
	/* 2025-03-30: 02:00 CET jumps to 03:00 CEST (01:00Z). */
	cr_assert_eq(rome(2025, 3, 30, 1, 59, &rc), 1743296340);
	cr_assert_eq(rc, 0);
	int64_t u = rome(2025, 3, 30, 2, 30, &rc);
	cr_assert_eq(rc, TZ_ERR_GAP);
	cr_assert_eq(u, 1743298200, "02:30 read as CET: 01:30Z = 03:30 CEST");
	cr_assert_eq(rome(2025, 3, 30, 3, 0, &rc), 1743296400);
	cr_assert_eq(rc, 0);
}

Test(booking_tz, autumn_repeated_hour)
{
	int rc;
	/* 2025-10-26: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:30 happens twice. */
	int64_t u = rome(2025, 10, 26, 2, 30, &rc);
	cr_assert_eq(rc, 1);
	cr_assert_eq(u, 1761438600, "the earlier one: 00:30Z (CEST)");
	cr_assert_eq(rome(2025, 10, 26, 3, 0, &rc), 1761444000);
	cr_assert_eq(rc, 0);
	struct tz_local l;
	cr_assert_eq(tz_utc_to_local("Europe/Rome", 1761438600 + 3600, &l), 0);
	cr_assert_eq(l.hour, 2);
	cr_assert_eq(l.minute, 30);
	cr_assert_str_eq(l.abbrev, "CET");
}

Test(booking_tz, footer_far_future)
{
	int rc;
	/* 2100-07-01 12:00 CEST = 10:00Z: past any table, from the footer rule. */
	int64_t u = rome(2100, 7, 1, 12, 0, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_eq(u, tz_days_from_civil(2100, 7, 1) * 86400 + 10 * 3600);
	/* 2100-03-28 is the last Sunday of March: 02:30 does not exist. */
	rome(2100, 3, 28, 2, 30, &rc);
	cr_assert_eq(rc, TZ_ERR_GAP);
}

Test(booking_tz, other_zones)
{
	struct tz_local l = {.year = 2025, .month = 1, .day = 15, .hour = 9};
	int64_t u = 0;
	/* Sydney: summer (AEDT, +11) in January. */
	cr_assert_eq(tz_local_to_utc("Australia/Sydney", &l, &u), 0);
	cr_assert_eq(u, 1736892000);
	cr_assert_eq(tz_local_to_utc("UTC", &l, &u), 0);
	cr_assert_eq(u, 1736931600);
	cr_assert_eq(tz_local_to_utc("Asia/Kolkata", &l, &u), 0);
	cr_assert_eq(u, 1736931600 - 19800);
}

Test(booking_tz, bad_input)
{
	struct tz_local l = {.year = 2025, .month = 1, .day = 15, .hour = 9};
	int64_t u = 0;
	cr_assert_eq(tz_local_to_utc("Mars/Olympus", &l, &u), TZ_ERR_ZONE);
	cr_assert_eq(tz_local_to_utc("../../etc/passwd", &l, &u), TZ_ERR_ZONE);
	cr_assert_eq(tz_local_to_utc("/etc/passwd", &l, &u), TZ_ERR_ZONE);
	cr_assert_eq(tz_local_to_utc("", &l, &u), TZ_ERR_ZONE);
	cr_assert_not(tz_valid(NULL));
	l.month = 2;
	l.day = 29;
	cr_assert_eq(tz_local_to_utc("Europe/Rome", &l, &u), TZ_ERR_RANGE);
	int64_t days;
	cr_assert_eq(tz_parse_date("2024-02-29", &days), 0);
	cr_assert_eq(tz_parse_date("2025-02-29", &days), TZ_ERR_RANGE);
	cr_assert_eq(tz_parse_date("2025-1-01", &days), TZ_ERR_RANGE);
	cr_assert_eq(tz_weekday(tz_days_from_civil(2025, 3, 30)), 6, "a Sunday");
}

#define THREADS 8

static void *convert_many(void *arg)
{
	(void)arg;
	const char *zones[] = {"Europe/Rome", "America/New_York", "Australia/Sydney"};
	for (int i = 0; i < 20000; i++) {
		int64_t t = 1700000000 + (int64_t)i * 3601;
		struct tz_local l;
		if (tz_utc_to_local(zones[i % 3], t, &l) != 0)
			return (void *)1;
		int64_t back = 0;
		int rc = tz_local_to_utc(zones[i % 3], &l, &back);
		/* Round trip: exact, or the earlier instant of a repeated hour. */
		if (rc < 0 || (rc == 0 && back != t) || (rc == 1 && back > t))
			return (void *)1;
	}
	return NULL;
}

Test(booking_tz, threads_round_trip)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, convert_many, NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		void *r = NULL;
		pthread_join(t[i], &r);
		cr_assert_null(r, "thread %d", i);
	}
}
