/*
 * booking/tz: IANA time zones read from TZif files (RFC 8536), version 1 to
 * 4, including the POSIX TZ footer that slim files rely on for every
 * instant after their last listed transition (Debian ships "CET-1CEST,
 * M3.5.0,M10.5.0/3" at the end of Europe/Rome).
 *
 * A zone is parsed once and cached for the life of the process; the cache
 * is a list guarded by a mutex and its entries are never changed after they
 * are published, so the conversions read them without a lock.
 * It must never call setenv("TZ"), tzset(), localtime() or mktime(): those
 * share process-wide state between threads.
 */
#include "booking/tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_DIR       "/usr/share/zoneinfo/"
#define TZ_FILE_MAX  (1024 * 1024)
#define TZ_NAME_MAX  64
#define TZ_ABBR_MAX  16
#define SECS_PER_DAY 86400

struct tz_type {
	int32_t utoff;
	uint8_t isdst;
	uint8_t abbr; /* index into zone.abbrs */
};

/* One transition rule of a POSIX TZ string. */
struct tz_rule {
	char kind; /* 'M' (month.week.day), 'J' (Julian 1..365, no Feb 29), 'N' (0..365) */
	int m, w, d, n;
	int32_t time; /* seconds after local midnight, may be negative or > 24 h */
};

struct zone {
	char name[TZ_NAME_MAX];
	int64_t *trans;
	uint8_t *idx;
	int ntrans;
	struct tz_type *types;
	int ntypes;
	char *abbrs;
	int nabbrs;
	/* The footer: rules for instants after the last transition. */
	int has_footer, footer_dst;
	int32_t std_off, dst_off;
	char std_abbr[TZ_ABBR_MAX], dst_abbr[TZ_ABBR_MAX];
	struct tz_rule start, end;
	struct zone *next;
};

/* What is in effect at one instant. */
struct tz_info {
	int32_t utoff;
	int isdst;
	const char *abbr;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zone *cache;

static const char *const errors[] = {
    [0] = "ok",
    [1] = "unknown time zone",
    [2] = "local time skipped by a daylight-saving change",
    [3] = "date or time out of range",
};

const char *tz_strerror(int err)
{
	if (err > 0)
		return "local time repeated by a daylight-saving change";
	if (-err < (int)(sizeof(errors) / sizeof(errors[0])))
		return errors[-err];
	return "unknown error";
}

/* --- calendar ------------------------------------------------------------ */

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t tz_days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

int tz_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	int64_t w = (days + 3) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

int tz_parse_date(const char *s, int64_t *days)
{
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return TZ_ERR_RANGE;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return TZ_ERR_RANGE;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return TZ_ERR_RANGE;
	*days = tz_days_from_civil(y, m, d);
	return 0;
}

/* --- POSIX TZ footer ------------------------------------------------------- */

static int parse_abbr(const char **p, char out[TZ_ABBR_MAX])
{
	const char *s = *p;
	size_t n = 0;
	if (*s == '<') {
		s++;
		while (*s != '\0' && *s != '>') {
			if (n + 1 < TZ_ABBR_MAX)
				out[n++] = *s;
			s++;
		}
		if (*s != '>')
			return -1;
		s++;
	} else {
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
			if (n + 1 < TZ_ABBR_MAX)
				out[n++] = *s;
			s++;
		}
	}
	out[n] = '\0';
	if (n < 3)
		return -1;
	*p = s;
	return 0;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to 167 (RFC 8536 extension). */
static int parse_hms(const char **p, int32_t *out)
{
	const char *s = *p;
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (*s < '0' || *s > '9')
		return -1;
	int32_t v[3] = {0, 0, 0};
	for (int f = 0; f < 3; f++) {
		if (f > 0) {
			if (*s != ':')
				break;
			s++;
		}
		if (*s < '0' || *s > '9')
			return -1;
		int32_t x = 0;
		while (*s >= '0' && *s <= '9' && x < 1000)
			x = x * 10 + (*s++ - '0');
		v[f] = x;
	}
	if (v[0] > 167 || v[1] > 59 || v[2] > 59)
		return -1;
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	*p = s;
	return 0;
}

static int parse_num(const char **p, int lo, int hi, int *out)
{
	const char *s = *p;
	int x = 0, digits = 0;
	while (*s >= '0' && *s <= '9' && digits < 4) {
		x = x * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || x < lo || x > hi)
		return -1;
	*out = x;
	*p = s;
	return 0;
}

static int parse_rule(const char **p, struct tz_rule *r)
{
	const char *s = *p;
	memset(r, 0, sizeof(*r));
	if (*s == 'M') {
		s++;
		r->kind = 'M';
		if (parse_num(&s, 1, 12, &r->m) != 0 || *s++ != '.' ||
		    parse_num(&s, 1, 5, &r->w) != 0 || *s++ != '.' ||
		    parse_num(&s, 0, 6, &r->d) != 0)
			return -1;
	} else if (*s == 'J') {
		s++;
		r->kind = 'J';
		if (parse_num(&s, 1, 365, &r->n) != 0)
			return -1;
	} else {
		r->kind = 'N';
		if (parse_num(&s, 0, 365, &r->n) != 0)
			return -1;
	}
	r->time = 2 * 3600;
	if (*s == '/') {
		s++;
		if (parse_hms(&s, &r->time) != 0)
			return -1;
	}
	*p = s;
	return 0;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3": POSIX offsets are west-positive, ours east. */
static int parse_footer(struct zone *z, const char *s)
{
	int32_t off = 0;
	if (parse_abbr(&s, z->std_abbr) != 0 || parse_hms(&s, &off) != 0)
		return -1;
	z->std_off = -off;
	if (*s == '\0') {
		z->has_footer = 1;
		return 0;
	}
	if (parse_abbr(&s, z->dst_abbr) != 0)
		return -1;
	z->dst_off = z->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (parse_hms(&s, &off) != 0)
			return -1;
		z->dst_off = -off;
	}
	if (*s == '\0') {
		/* No rules: POSIX leaves them to the implementation; use the US default. */
		z->start = (struct tz_rule){'M', 3, 2, 0, 0, 7200};
		z->end = (struct tz_rule){'M', 11, 1, 0, 0, 7200};
	} else {
		if (*s++ != ',' || parse_rule(&s, &z->start) != 0 || *s++ != ',' ||
		    parse_rule(&s, &z->end) != 0 || *s != '\0')
			return -1;
	}
	z->has_footer = 1;
	z->footer_dst = 1;
	return 0;
}

/* Local seconds since the epoch at which rule r fires in year y. */
static int64_t rule_local(const struct tz_rule *r, int y)
{
	int64_t day;
	if (r->kind == 'M') {
		int64_t first = tz_days_from_civil(y, r->m, 1);
		int first_sun0 = (tz_weekday(first) + 1) % 7; /* POSIX: 0 = Sunday */
		int64_t dom = (r->d - first_sun0 + 7) % 7 + 7 * (r->w - 1);
		while (dom >= month_days(y, r->m))
			dom -= 7;
		day = first + dom;
	} else if (r->kind == 'J') {
		day = tz_days_from_civil(y, 1, 1) + r->n - 1 + (is_leap(y) && r->n >= 60);
	} else {
		day = tz_days_from_civil(y, 1, 1) + r->n;
	}
	return day * SECS_PER_DAY + r->time;
}

static struct tz_info footer_info(const struct zone *z, int64_t utc)
{
	struct tz_info std = {z->std_off, 0, z->std_abbr};
	if (!z->footer_dst)
		return std;
	struct tz_info dst = {z->dst_off, 1, z->dst_abbr};
	int y, m, d;
	int64_t local = utc + z->std_off;
	int64_t days =
	    local >= 0 ? local / SECS_PER_DAY : (local - SECS_PER_DAY + 1) / SECS_PER_DAY;
	tz_civil_from_days(days, &y, &m, &d);
	int64_t start = rule_local(&z->start, y) - z->std_off;
	int64_t end = rule_local(&z->end, y) - z->dst_off;
	if (start < end)
		return utc >= start && utc < end ? dst : std;
	/* Southern hemisphere: DST spans the new year. */
	return utc >= end && utc < start ? std : dst;
}

/* --- TZif ------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static int read_counts(const unsigned char *p, size_t len, struct tzif_counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	if (c->time > 100000 || c->type == 0 || c->type > 256 || c->chars > 4096 ||
	    c->leap > 10000 || c->isut > 256 || c->isstd > 256)
		return -1;
	return 0;
}

static size_t block_len(const struct tzif_counts *c, size_t tsize)
{
	return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) +
	       c->isstd + c->isut;
}

static void zone_free(struct zone *z)
{
	if (z == NULL)
		return;
	free(z->trans);
	free(z->idx);
	free(z->types);
	free(z->abbrs);
	free(z);
}

/* Parses a TZif image into z. 0 or -1. */
static int parse_tzif(struct zone *z, const unsigned char *p, size_t len)
{
	struct tzif_counts c;
	if (read_counts(p, len, &c) != 0)
		return -1;
	size_t tsize = 4;
	size_t off = 44;
	size_t v1 = block_len(&c, 4);
	if (p[4] >= '2') {
		if (off + v1 > len)
			return -1;
		off += v1;
		if (read_counts(p + off, len - off, &c) != 0)
			return -1;
		off += 44;
		tsize = 8;
	}
	size_t blen = block_len(&c, tsize);
	if (off + blen > len)
		return -1;
	const unsigned char *b = p + off;
	z->ntrans = (int)c.time;
	z->ntypes = (int)c.type;
	z->nabbrs = (int)c.chars;
	z->trans = calloc(c.time + 1, sizeof(*z->trans));
	z->idx = calloc(c.time + 1, 1);
	z->types = calloc(c.type, sizeof(*z->types));
	z->abbrs = calloc(c.chars + 1, 1);
	if (!z->trans || !z->idx || !z->types || !z->abbrs)
		return -1;
	for (uint32_t i = 0; i < c.time; i++)
		z->trans[i] = tsize == 8 ? be64(b + i * 8) : (int64_t)(int32_t)be32(b + i * 4);
	b += c.time * tsize;
	for (uint32_t i = 0; i < c.time; i++) {
		if (b[i] >= c.type)
			return -1;
		z->idx[i] = b[i];
	}
	b += c.time;
	for (uint32_t i = 0; i < c.type; i++) {
		z->types[i].utoff = (int32_t)be32(b + i * 6);
		z->types[i].isdst = b[i * 6 + 4];
		z->types[i].abbr = b[i * 6 + 5] < c.chars ? b[i * 6 + 5] : 0;
	}
	b += c.type * 6;
	memcpy(z->abbrs, b, c.chars);
	off += blen;
	/* Footer: "\n<POSIX TZ>\n" (version 2 and later). */
	if (tsize == 8 && off < len && p[off] == '\n') {
		const unsigned char *nl = memchr(p + off + 1, '\n', len - off - 1);
		if (nl != NULL && nl > p + off + 1) {
			char tzs[128];
			size_t n = (size_t)(nl - (p + off + 1));
			if (n < sizeof(tzs)) {
				memcpy(tzs, p + off + 1, n);
				tzs[n] = '\0';
				if (parse_footer(z, tzs) != 0)
					z->has_footer = 0; /* fall back to the table */
			}
		}
	}
	return 0;
}

static int name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= TZ_NAME_MAX || name[0] == '/' || strstr(name, "..") != NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '-' || ch == '+'))
			return 0;
	}
	return 1;
}

static struct zone *zone_load(const char *name)
{
	struct zone *z = calloc(1, sizeof(*z));
	unsigned char *data = NULL;
	FILE *f = NULL;
	if (z == NULL)
		return NULL;
	snprintf(z->name, sizeof(z->name), "%s", name);
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX];
	snprintf(path, sizeof(path), TZ_DIR "%s", name);
	f = fopen(path, "rb");
	if (f == NULL)
		goto fail;
	data = malloc(TZ_FILE_MAX);
	if (data == NULL)
		goto fail;
	size_t len = fread(data, 1, TZ_FILE_MAX, f);
	if (len == 0 || len == TZ_FILE_MAX || parse_tzif(z, data, len) != 0)
		goto fail;
	fclose(f);
	free(data);
	return z;
fail:
	if (f != NULL)
		fclose(f);
	free(data);
	/* UTC needs no file. */
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
		struct zone *u = calloc(1, sizeof(*u));
		if (u != NULL) {
			snprintf(u->name, sizeof(u->name), "%s", name);
			u->has_footer = 1;
			snprintf(u->std_abbr, sizeof(u->std_abbr), "UTC");
		}
		zone_free(z);
		return u;
	}
	zone_free(z);
	return NULL;
}

/* The cached zone, loading it on first use; NULL when unknown. */
static const struct zone *zone_get(const char *name)
{
	if (name == NULL || !name_ok(name))
		return NULL;
	pthread_mutex_lock(&cache_lock);
	struct zone *z = cache;
	while (z != NULL && strcmp(z->name, name) != 0)
		z = z->next;
	if (z == NULL) {
		/* Loading under the lock is rare (once per zone) and keeps one copy per name. */
		z = zone_load(name);
		if (z != NULL) {
			z->next = cache;
			cache = z;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return z;
}

void tz_cleanup(void)
{
	pthread_mutex_lock(&cache_lock);
	while (cache != NULL) {
		struct zone *n = cache->next;
		zone_free(cache);
		cache = n;
	}
	pthread_mutex_unlock(&cache_lock);
}

int tz_valid(const char *zone)
{
	return zone_get(zone) != NULL;
}

static struct tz_info info_at(const struct zone *z, int64_t utc)
{
	if (z->ntrans == 0 || utc >= z->trans[z->ntrans - 1]) {
		if (z->has_footer)
			return footer_info(z, utc);
	}
	int t = 0;
	if (z->ntrans > 0 && utc >= z->trans[0]) {
		int lo = 0, hi = z->ntrans - 1; /* largest i with trans[i] <= utc */
		while (lo < hi) {
			int mid = lo + (hi - lo + 1) / 2;
			if (z->trans[mid] <= utc)
				lo = mid;
			else
				hi = mid - 1;
		}
		t = z->idx[lo];
	}
	if (z->ntypes == 0)
		return (struct tz_info){0, 0, "UTC"};
	const struct tz_type *ty = &z->types[t];
	return (struct tz_info){ty->utoff, ty->isdst, z->abbrs + ty->abbr};
}

int tz_utc_to_local(const char *zone, int64_t utc, struct tz_local *out)
{
	const struct zone *z = zone_get(zone);
	memset(out, 0, sizeof(*out));
	if (z == NULL)
		return TZ_ERR_ZONE;
	struct tz_info in = info_at(z, utc);
	int64_t local = utc + in.utoff;
	int64_t days =
	    local >= 0 ? local / SECS_PER_DAY : (local - SECS_PER_DAY + 1) / SECS_PER_DAY;
	int64_t sod = local - days * SECS_PER_DAY;
	tz_civil_from_days(days, &out->year, &out->month, &out->day);
	out->hour = (int)(sod / 3600);
	out->minute = (int)(sod / 60 % 60);
	out->second = (int)(sod % 60);
	out->weekday = tz_weekday(days);
	out->utc_offset = in.utoff;
	out->is_dst = in.isdst;
	snprintf(out->abbrev, sizeof(out->abbrev), "%s", in.abbr);
	return 0;
}

int tz_local_to_utc(const char *zone, const struct tz_local *l, int64_t *utc)
{
	const struct zone *z = zone_get(zone);
	if (z == NULL)
		return TZ_ERR_ZONE;
	if (l->month < 1 || l->month > 12 || l->day < 1 || l->day > month_days(l->year, l->month) ||
	    l->hour < 0 || l->hour > 23 || l->minute < 0 || l->minute > 59 || l->second < 0 ||
	    l->second > 59)
		return TZ_ERR_RANGE;
	int64_t local = tz_days_from_civil(l->year, l->month, l->day) * SECS_PER_DAY +
	                l->hour * 3600 + l->minute * 60 + l->second;
	/*
	 * Every offset that could apply near this wall time: those in effect a
	 * couple of days either side and around it. A candidate u = local - off is
	 * right when off is what is really in effect at u.
	 */
	static const int64_t probe[] = {-2 * SECS_PER_DAY, -SECS_PER_DAY / 2, 0, SECS_PER_DAY / 2,
	                                2 * SECS_PER_DAY};
	int found = 0;
	int64_t lo = 0, hi = 0;
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		int32_t off = info_at(z, local + probe[i]).utoff;
		int64_t u = local - off;
		if (info_at(z, u).utoff != off)
			continue;
		if (!found || u < lo)
			lo = u;
		if (!found || u > hi)
			hi = u;
		found = 1;
	}
	if (found) {
		*utc = lo;
		return hi != lo ? 1 : 0;
	}
	/* In the gap: read it with the offset before the change, which lands after the gap. */
	*utc = local - info_at(z, local - 2 * SECS_PER_DAY).utoff;
	return TZ_ERR_GAP;
}
