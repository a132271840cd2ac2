/* Tests for src/comms/segments.c: GSM-7 and UCS-2 lengths and segments. */
#include "comms/tags.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(comms_segments);

/* n copies of the UTF-8 string s, then tail (may be NULL), in a static buffer. */
static const char *rep(const char *s, int n, const char *tail)
{
	static char b[4096];
	b[0] = '\0';
	for (int i = 0; i < n; i++)
		strcat(b, s);
	if (tail != NULL)
		strcat(b, tail);
	return b;
}

static void expect(const char *text, int chars, int segs, enum comms_sms_encoding enc)
{
	int c = -1, s = -1;
	enum comms_sms_encoding e;
	comms_sms_segments(text, &c, &s, &e);
	cr_assert_eq(e, enc, "encoding of %.40s", text);
	cr_assert_eq(c, chars, "chars of %.40s: %d", text, c);
	cr_assert_eq(s, segs, "segments of %.40s: %d", text, s);
}

Test(comms_segments, gsm7_basic)
{
	expect("", 0, 1, COMMS_SMS_GSM7);
	expect("Ciao Giulia, è già ora: 10€? @£$¥ àèéìòù ÄÖÑÜ ΔΦΓΛΩΠΨΣΘΞ ß¿¡§", 62, 1,
	       COMMS_SMS_GSM7);
	expect(rep("a", 160, NULL), 160, 1, COMMS_SMS_GSM7);
	expect(rep("a", 161, NULL), 161, 2, COMMS_SMS_GSM7);
	expect(rep("a", 306, NULL), 306, 2, COMMS_SMS_GSM7);
	expect(rep("a", 307, NULL), 307, 3, COMMS_SMS_GSM7);
	expect("line\nbreak\r", 11, 1, COMMS_SMS_GSM7);
}

Test(comms_segments, gsm7_extension_counts_double)
{
	expect("^{}\\[~]|€", 18, 1, COMMS_SMS_GSM7);
	expect(rep("€", 80, NULL), 160, 1, COMMS_SMS_GSM7);
	expect(rep("€", 80, "a"), 161, 2, COMMS_SMS_GSM7);
	expect(rep("a", 159, "{"), 161, 2, COMMS_SMS_GSM7);
	/* an escape pair is never split: 152 + [2 + 151] + 1 */
	char b[400];
	strcpy(b, rep("a", 152, "{"));
	strcat(b, rep("a", 152, NULL));
	expect(b, 306, 3, COMMS_SMS_GSM7);
}

Test(comms_segments, ucs2)
{
	expect("Привет", 6, 1, COMMS_SMS_UCS2);
	expect("ça va", 5, 1, COMMS_SMS_UCS2); /* ç is not in GSM-7 (Ç is) */
	expect("a\tb", 3, 1, COMMS_SMS_UCS2);
	expect("`", 1, 1, COMMS_SMS_UCS2);
	expect(rep("й", 70, NULL), 70, 1, COMMS_SMS_UCS2);
	expect(rep("й", 71, NULL), 71, 2, COMMS_SMS_UCS2);
	expect(rep("й", 134, NULL), 134, 2, COMMS_SMS_UCS2);
	expect(rep("й", 135, NULL), 135, 3, COMMS_SMS_UCS2);
	/* one non-GSM character makes all of it UCS-2 */
	expect(rep("a", 100, "é✓"), 102, 2, COMMS_SMS_UCS2);
}

Test(comms_segments, emoji_is_a_surrogate_pair)
{
	expect("😀", 2, 1, COMMS_SMS_UCS2);
	expect(rep("😀", 35, NULL), 70, 1, COMMS_SMS_UCS2);
	expect(rep("😀", 35, "a"), 71, 2, COMMS_SMS_UCS2);
	/* a pair is never split: 66 + [2 + 65] + 1 */
	char b[800];
	strcpy(b, rep("й", 66, "😀"));
	strcat(b, rep("й", 66, NULL));
	expect(b, 134, 3, COMMS_SMS_UCS2);
}

Test(comms_segments, malformed_and_null)
{
	expect("a\xff"
	       "b",
	       3, 1, COMMS_SMS_UCS2);
	expect("\xe2\x82", 1, 1, COMMS_SMS_UCS2); /* one truncated sequence */
	int c = -1, s = -1;
	comms_sms_segments(NULL, &c, &s, NULL);
	cr_assert_eq(c, 0);
	cr_assert_eq(s, 1);
	comms_sms_segments("x", NULL, NULL, NULL);
	cr_assert_str_eq(comms_sms_encoding_name(COMMS_SMS_GSM7), "GSM-7");
	cr_assert_str_eq(comms_sms_encoding_name(COMMS_SMS_UCS2), "UCS-2");
}
