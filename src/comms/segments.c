/*
 * comms/segments: how many SMS a text costs (tags.h, comms_sms_segments).
 * GSM 03.38: the default alphabet (one septet) and its extension table (an
 * escape plus one septet); anything else makes the whole message UCS-2,
 * counted in UTF-16 code units. Concatenated messages carry a header, so a
 * part holds 153 septets or 67 code units, and an escape pair or a surrogate
 * pair is never split between two parts (as phones and gateways encode it).
 * web/static/sms-counter.js mirrors these rules for the live counter.
 */
#include "comms/tags.h"

#include <stddef.h>
#include <stdint.h>

/* The default alphabet beyond ASCII letters and digits, as code points. */
static const uint32_t gsm_basic[] = {
    '@',   0xa3, '$',  0xa5,  0xe8, 0xe9,  0xf9,  0xec,  0xf2,  0xc7,  '\n',  0xd8,  0xf8,
    '\r',  0xc5, 0xe5, 0x394, '_',  0x3a6, 0x393, 0x39b, 0x3a9, 0x3a0, 0x3a8, 0x3a3, 0x398,
    0x39e, 0xc6, 0xe6, 0xdf,  0xc9, ' ',   '!',   '"',   '#',   0xa4,  '%',   '&',   '\'',
    '(',   ')',  '*',  '+',   ',',  '-',   '.',   '/',   ':',   ';',   '<',   '=',   '>',
    '?',   0xa1, 0xc4, 0xd6,  0xd1, 0xdc,  0xa7,  0xbf,  0xe4,  0xf6,  0xf1,  0xfc,  0xe0,
};
/* The extension table: escape + one septet each. */
static const uint32_t gsm_ext[] = {0x0c, '^', '{', '}', '\\', '[', '~', ']', '|', 0x20ac};

/* Septets of code point u in GSM-7: 1, 2 (extension), or 0 when it has none. */
static int gsm_septets(uint32_t u)
{
	if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9'))
		return 1;
	for (size_t i = 0; i < sizeof(gsm_basic) / sizeof(gsm_basic[0]); i++)
		if (gsm_basic[i] == u)
			return 1;
	for (size_t i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++)
		if (gsm_ext[i] == u)
			return 2;
	return 0;
}

/* Decodes one code point at *s (advancing it); U+FFFD for a malformed sequence. */
static uint32_t next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t u = p[0];
	int n = 0;
	if (u < 0x80) {
		*s = p + 1;
		return u;
	}
	if (u >= 0xc2 && u <= 0xdf) {
		n = 1;
		u &= 0x1f;
	} else if (u >= 0xe0 && u <= 0xef) {
		n = 2;
		u &= 0x0f;
	} else if (u >= 0xf0 && u <= 0xf4) {
		n = 3;
		u &= 0x07;
	} else {
		*s = p + 1;
		return 0xfffd;
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s = p + i;
			return 0xfffd;
		}
		u = (u << 6) | (p[i] & 0x3f);
	}
	*s = p + n + 1;
	if ((n == 2 && u < 0x800) || (n == 3 && (u < 0x10000 || u > 0x10ffff)) ||
	    (u >= 0xd800 && u <= 0xdfff))
		return 0xfffd;
	return u;
}

/* Parts needed for units of the given sizes (1 or 2, never split) with part capacity cap. */
struct counter {
	int total, parts, fill, cap;
};

static void count_unit(struct counter *c, int size)
{
	c->total += size;
	if (c->fill + size > c->cap) {
		c->parts++;
		c->fill = 0;
	}
	c->fill += size;
}

void comms_sms_segments(const char *text, int *chars, int *segments,
                        enum comms_sms_encoding *encoding)
{
	const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
	enum comms_sms_encoding enc = COMMS_SMS_GSM7;
	for (const unsigned char *p = s; *p != '\0';)
		if (gsm_septets(next_cp(&p)) == 0) {
			enc = COMMS_SMS_UCS2;
			break;
		}
	int single = enc == COMMS_SMS_GSM7 ? 160 : 70;
	struct counter c = {0, 1, 0, enc == COMMS_SMS_GSM7 ? 153 : 67};
	for (const unsigned char *p = s; *p != '\0';) {
		uint32_t u = next_cp(&p);
		count_unit(&c, enc == COMMS_SMS_GSM7 ? gsm_septets(u) : u > 0xffff ? 2 : 1);
	}
	if (chars != NULL)
		*chars = c.total;
	if (segments != NULL)
		*segments = c.total <= single ? 1 : c.parts;
	if (encoding != NULL)
		*encoding = enc;
}

const char *comms_sms_encoding_name(enum comms_sms_encoding e)
{
	return e == COMMS_SMS_UCS2 ? "UCS-2" : "GSM-7";
}
