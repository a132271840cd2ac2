/*
 * fuzz/tags: the template tag engine: comms_tpl_parse, comms_tpl_check and
 * comms_tpl_render. The first byte picks the message kind and the part (body,
 * subject, appendix); the rest is the template text. Properties: check and
 * parse agree; a parsed template's literal pieces lie inside its text; an
 * error names a position from line 1, column 1; rendering each tag as its own
 * "{{NAME}}" gives a text that parses again to the same set of tags.
 */
#include "fuzz.h"

#include "comms/tags.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int kind = data[0] % COMMS_NKINDS;
	enum comms_part part = (enum comms_part)((data[0] / COMMS_NKINDS) % 3);
	char *text = fuzz_cstr(data + 1, size - 1);
	struct comms_tpl t;
	struct comms_tpl_error e1, e2;
	int rc = comms_tpl_parse(text, kind, part, &t, &e1);
	int rc2 = comms_tpl_check(text, kind, part, &e2);
	FUZZ_CHECK(rc == rc2);
	FUZZ_CHECK(rc <= 0 && rc >= COMMS_TPL_EMPTY);
	if (rc != 0) {
		FUZZ_CHECK(e1.line == e2.line && e1.col == e2.col);
		FUZZ_CHECK(memchr(e1.tag, '\0', sizeof(e1.tag)) != NULL);
		char msg[512];
		comms_tpl_error_text(&e1, "en", msg, sizeof(msg));
		FUZZ_CHECK(msg[0] != '\0');
		free(text);
		return 0;
	}
	size_t len = strlen(text);
	for (int i = 0; i < t.n; i++) {
		FUZZ_CHECK(t.piece[i].tag >= -1 && t.piece[i].tag < COMMS_NTAGS);
		if (t.piece[i].tag < 0)
			FUZZ_CHECK((size_t)t.piece[i].off + t.piece[i].len <= len);
		else
			FUZZ_CHECK(t.tags & (1u << t.piece[i].tag));
	}
	/* Each tag rendered as itself. */
	int ntags = 0;
	const struct comms_tag_def *defs = comms_tag_table(&ntags);
	FUZZ_CHECK(ntags == COMMS_NTAGS);
	struct comms_value v[COMMS_NTAGS];
	char names[COMMS_NTAGS][64];
	for (int i = 0; i < COMMS_NTAGS; i++) {
		int n = snprintf(names[i], sizeof(names[i]), "{{%s}}", defs[i].name);
		v[i].s = names[i];
		v[i].n = (size_t)n;
	}
	struct buf out;
	buf_init(&out, 0);
	FUZZ_CHECK(comms_tpl_render(&t, v, &out) == 0);
	struct comms_tpl t2;
	if (out.len <= COMMS_TPL_MAX) {
		int rc3 = comms_tpl_parse(out.data ? out.data : "", kind, part, &t2, NULL);
		FUZZ_CHECK(rc3 == 0);
		FUZZ_CHECK(t2.tags == t.tags);
		comms_tpl_free(&t2);
	}
	/* And with no values at all: only the literal text remains. */
	struct comms_value none[COMMS_NTAGS];
	memset(none, 0, sizeof(none));
	buf_reset(&out);
	FUZZ_CHECK(comms_tpl_render(&t, none, &out) == 0);
	FUZZ_CHECK(out.len <= len);
	buf_free(&out);
	comms_tpl_free(&t);
	free(text);
	return 0;
}
