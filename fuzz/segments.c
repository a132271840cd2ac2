/*
 * fuzz/segments: comms_sms_segments, the SMS length counter. Properties:
 * characters are counted, never negative, at most two per input byte; a text
 * that fits one SMS (160 septets / 70 code units) is one segment; a longer
 * one needs at least ceil(chars / 153) (or / 67) parts and at most one part
 * more than that per escape or surrogate pair that could not be split; the
 * encoding is GSM-7 only when every byte is ASCII-or-GSM; an empty text is 0
 * characters in 1 segment.
 */
#include "fuzz.h"

#include "comms/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	int chars = -1, segs = -1;
	enum comms_sms_encoding enc = (enum comms_sms_encoding) - 1;
	comms_sms_segments(s, &chars, &segs, &enc);
	FUZZ_CHECK(enc == COMMS_SMS_GSM7 || enc == COMMS_SMS_UCS2);
	size_t len = strlen(s);
	FUZZ_CHECK(chars >= 0 && (size_t)chars <= 2 * len);
	if (len == 0)
		FUZZ_CHECK(chars == 0 && segs == 1);
	int single = enc == COMMS_SMS_GSM7 ? 160 : 70;
	int part = enc == COMMS_SMS_GSM7 ? 153 : 67;
	if (chars <= single) {
		FUZZ_CHECK(segs == 1);
	} else {
		int min = (chars + part - 1) / part;
		FUZZ_CHECK(segs >= min && segs <= 2 * min);
	}
	/* The NULL outputs are allowed and change nothing. */
	int c2 = -1;
	comms_sms_segments(s, &c2, NULL, NULL);
	FUZZ_CHECK(c2 == chars);
	free(s);
	return 0;
}
