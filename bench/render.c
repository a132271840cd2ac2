/*
 * bench/render: rendering an SMS template with 6 tags (comms_tpl_render: the
 * parsed template into a reused buffer, data tags resolved beforehand: link
 * tags need the database) against a baseline in the same run: a plain
 * memcpy concatenation of the same pieces into a fixed buffer. Prints both
 * rates (per second, one core, CPU time) and the ratio, and a third figure
 * with the per-message work of resolving the values too (date and time in
 * the place's time zone, amount, in Italian).
 * Target (issue 4): >= 1,000,000 renders per second per core, within 3x of
 * the baseline.
 *
 * Build and run (from the repository root):
 *   make B=build/comms build/comms/libinvito.a
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/render.c build/comms/libinvito.a \
 *      $(pkg-config --libs libmicrohttpd sqlite3 libsodium libutf8proc libcurl jansson libpq) \
 *      -lcsv -lzxcvbn -lpthread -o build/comms/render
 *   build/comms/render [iterations]
 */
#include "booking/tz.h"
#include "comms/tags.h"
#include "lib/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const TEMPLATE =
    "{{ORG_NAME}}: {{PATIENT_GIVEN_NAME}}, promemoria {{SERVICE_NAME}} {{APPOINTMENT_DATE}} "
    "ore {{APPOINTMENT_TIME}}, {{APPOINTMENT_PLACE}}. Per disdire chiama lo studio.";

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set(struct comms_value *v, int tag, const char *s)
{
	v[tag].s = s;
	v[tag].n = strlen(s);
}

static const char *const MONTHS[12] = {"gennaio",   "febbraio", "marzo",    "aprile",
                                       "maggio",    "giugno",   "luglio",   "agosto",
                                       "settembre", "ottobre",  "novembre", "dicembre"};
static const char *const DAYS[7] = {"lunedì",  "martedì", "mercoledì", "giovedì",
                                    "venerdì", "sabato",  "domenica"};

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	struct comms_tpl t;
	struct comms_tpl_error e;
	if (comms_tpl_parse(TEMPLATE, COMMS_REMINDER, COMMS_PART_BODY, &t, &e) != 0) {
		fprintf(stderr, "template: error %d at %d:%d\n", e.code, e.line, e.col);
		return 1;
	}
	int ntags = 0;
	for (int i = 0; i < t.n; i++)
		ntags += t.piece[i].tag >= 0;
	struct comms_value v[COMMS_NTAGS];
	memset(v, 0, sizeof(v));
	set(v, COMMS_TAG_ORG_NAME, "Studio Medico Roma");
	set(v, COMMS_TAG_PATIENT_GIVEN_NAME, "Giulia");
	set(v, COMMS_TAG_SERVICE_NAME, "Visita cardiologica");
	set(v, COMMS_TAG_APPOINTMENT_DATE, "venerdì 15 gennaio 2027");
	set(v, COMMS_TAG_APPOINTMENT_TIME, "09:30");
	set(v, COMMS_TAG_APPOINTMENT_PLACE, "Poliambulatorio Nord");

	/* the same pieces, flattened for the baseline */
	const char *ps[64];
	size_t pn[64];
	for (int i = 0; i < t.n; i++) {
		ps[i] = t.piece[i].tag < 0 ? t.text + t.piece[i].off : v[t.piece[i].tag].s;
		pn[i] = t.piece[i].tag < 0 ? t.piece[i].len : v[t.piece[i].tag].n;
	}

	struct buf out;
	buf_init(&out, 4096);
	unsigned long sink = 0;

	/* baseline: memcpy of the same pieces */
	char raw[1024];
	double t0 = cpu_seconds();
	for (long i = 0; i < n; i++) {
		size_t len = 0;
		for (int k = 0; k < t.n; k++) {
			memcpy(raw + len, ps[k], pn[k]);
			len += pn[k];
		}
		raw[len] = '\0';
		__asm__ volatile("" : : "r"(raw) : "memory");
		sink += (unsigned char)raw[len / 2] + len;
	}
	double base = cpu_seconds() - t0;

	/* the engine: parsed template into a reused buffer */
	t0 = cpu_seconds();
	for (long i = 0; i < n; i++) {
		buf_reset(&out);
		if (comms_tpl_render(&t, v, &out) != 0)
			return 1;
		__asm__ volatile("" : : "r"(out.data) : "memory");
		sink += (unsigned char)out.data[out.len / 2] + out.len;
	}
	double eng = cpu_seconds() - t0;
	if (strcmp(out.data, raw) != 0) {
		fprintf(stderr, "outputs differ\n");
		return 1;
	}

	/* with the values resolved per message (tz conversion, formatting) */
	long m = n / 5;
	char date[64], tm[8];
	t0 = cpu_seconds();
	for (long i = 0; i < m; i++) {
		struct tz_local l;
		if (tz_utc_to_local("Europe/Rome", 1800001800 + (i % 1000) * 3600, &l) != 0)
			return 1;
		snprintf(date, sizeof(date), "%s %d %s %d", DAYS[l.weekday], l.day,
		         MONTHS[l.month - 1], l.year);
		snprintf(tm, sizeof(tm), "%02d:%02d", l.hour % 24, l.minute % 60);
		set(v, COMMS_TAG_APPOINTMENT_DATE, date);
		set(v, COMMS_TAG_APPOINTMENT_TIME, tm);
		buf_reset(&out);
		if (comms_tpl_render(&t, v, &out) != 0)
			return 1;
		sink += out.len;
	}
	double full = cpu_seconds() - t0;

	printf("template: %d tags, %zu bytes rendered, %ld iterations\n", ntags, strlen(raw), n);
	printf("memcpy baseline : %10.0f /s (%.1f ns each)\n", n / base, base / n * 1e9);
	printf("comms_tpl_render: %10.0f /s (%.1f ns each), %.2fx the baseline\n", n / eng,
	       eng / n * 1e9, eng / base);
	printf("with values resolved (tz + formatting): %10.0f /s\n", m / full);
	printf("target: >= 1000000 /s and <= 3x: %s\n",
	       n / eng >= 1e6 && eng / base <= 3.0 ? "met" : "NOT met");
	printf("(sink %lu)\n", sink % 10);
	buf_free(&out);
	comms_tpl_free(&t);
	tz_cleanup();
	return 0;
}
