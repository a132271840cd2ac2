/*
 * tz: time zones from the system's tzdata (/usr/share/zoneinfo, TZif files
 * with their POSIX TZ footer), for converting an organisation's local wall
 * times to UTC seconds and back.
 *
 * Thread-safe without setenv("TZ")/tzset()/localtime(), which share process
 * state: a zone is parsed once into an immutable object kept in a cache
 * guarded by a mutex; lookups after that only read it. It must never touch
 * the process's TZ environment or its C library time-zone state.
 */
#ifndef INVITO_TZ_H
#define INVITO_TZ_H

#include <stdint.h>

enum tz_err {
	TZ_OK = 0,
	TZ_ERR_ZONE = -1,  /* unknown or unreadable zone name */
	TZ_ERR_GAP = -2,   /* the local time does not exist (skipped by a DST change) */
	TZ_ERR_RANGE = -3, /* a field out of range (month 13, minute 1440, ...) */
};
const char *tz_strerror(int err);

/* A wall-clock time in some zone. */
struct tz_local {
	int year, month, day;     /* month 1..12, day 1..31 */
	int hour, minute, second; /* 0..23, 0..59, 0..59 */
	int weekday;              /* 0 = Monday .. 6 = Sunday (filled by tz_utc_to_local) */
	int utc_offset;           /* seconds east of UTC (filled by tz_utc_to_local) */
	int is_dst;               /* filled by tz_utc_to_local */
	char abbrev[16];          /* "CET", "CEST" (filled by tz_utc_to_local) */
};

/*
 * The UTC instant of local wall time `l` (its year..second fields) in zone
 * (an IANA name such as "Europe/Rome"; "UTC" always works). Returns 0 when the
 * time exists once; 1 when it exists twice (the autumn hour repeated): *utc is
 * the earlier instant; TZ_ERR_GAP when it falls in the spring gap: *utc is then
 * the same wall time read with the offset before the change (i.e. the
 * corresponding instant after the gap), so callers may skip or shift it.
 * Other negative tz_err on failure.
 */
int tz_local_to_utc(const char *zone, const struct tz_local *l, int64_t *utc);

/* Fills *out with the wall time of `utc` in zone. 0 or TZ_ERR_ZONE. */
int tz_utc_to_local(const char *zone, int64_t utc, struct tz_local *out);

/* 1 when zone names a zone tz can load (the name is also checked for "..", etc.). */
int tz_valid(const char *zone);

/* Calendar helpers (proleptic Gregorian, no zone). */
/* Days since 1970-01-01 of y-m-d. */
int64_t tz_days_from_civil(int y, int m, int d);
/* y-m-d of a day number since 1970-01-01. */
void tz_civil_from_days(int64_t days, int *y, int *m, int *d);
/* 0 = Monday .. 6 = Sunday. */
int tz_weekday(int64_t days);
/* Parses "YYYY-MM-DD" (a real date) into a day number; 0 or TZ_ERR_RANGE. */
int tz_parse_date(const char *s, int64_t *days);

/* Frees the zone cache (at exit, for leak checkers). No tz call may run meanwhile. */
void tz_cleanup(void);

#endif
