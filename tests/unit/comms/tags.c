/*
 * Tests for src/comms/tags.c and defaults.c: the tag table, parsing and
 * validation (unknown tags, unbalanced braces, tags without context, with
 * line and column), rendering of parsed templates, and every default text.
 */
#include "comms/tags.h"
#include "comms/texts.h"
#include "lib/buf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

TestSuite(comms_tags);

/* Renders text for kind with every tag's sample value; fails the test on a parse error. */
static void render_samples(const char *text, int kind, enum comms_part part, struct buf *out)
{
	int n = 0;
	const struct comms_tag_def *t = comms_tag_table(&n);
	struct comms_value v[COMMS_NTAGS];
	for (int i = 0; i < n; i++)
		v[i] = (struct comms_value){t[i].sample, strlen(t[i].sample)};
	struct comms_tpl tpl;
	struct comms_tpl_error e;
	cr_assert_eq(comms_tpl_parse(text, kind, part, &tpl, &e), 0, "%s: %d at %d:%d {{%s}}",
	             comms_kind_name(kind), e.code, e.line, e.col, e.tag);
	buf_reset(out);
	cr_assert_eq(comms_tpl_render(&tpl, v, out), 0);
	comms_tpl_free(&tpl);
}

Test(comms_tags, kinds_table)
{
	for (int k = 0; k < COMMS_NKINDS; k++) {
		cr_assert_not_null(comms_kind_name(k));
		cr_assert_eq(comms_kind_parse(comms_kind_name(k)), k);
		cr_assert_neq(comms_kind_label(k)[0], '\0');
	}
	cr_assert_eq(comms_kind_parse("payment_request"), COMMS_PAYMENT_REQUEST);
	cr_assert_eq(comms_kind_parse("fax"), -1);
	cr_assert_null(comms_kind_name(COMMS_NKINDS));
	cr_assert(comms_kind_takes_appendix(COMMS_REMINDER));
	cr_assert(comms_kind_takes_appendix(COMMS_RECALL));
	cr_assert_not(comms_kind_takes_appendix(COMMS_INVITATION));
	cr_assert_not(comms_kind_takes_appendix(COMMS_RESET));
}

Test(comms_tags, every_default_validates_and_sms_fit_one_gsm7_segment)
{
	struct buf b;
	buf_init(&b, 0);
	for (int k = 0; k < COMMS_NKINDS; k++)
		for (int ch = 0; ch < 2; ch++)
			for (int l = 0; l < 2; l++) {
				const struct comms_text *t = comms_default_text(
				    comms_kind_name(k), comms_channels[ch], comms_langs[l]);
				cr_assert_not_null(t, "%s/%s/%s", comms_kind_name(k),
				                   comms_channels[ch], comms_langs[l]);
				render_samples(t->body, k, COMMS_PART_BODY, &b);
				if (ch == 0) {
					cr_assert_null(t->subject);
					int chars = 0, segs = 0;
					enum comms_sms_encoding enc;
					comms_sms_segments(b.data, &chars, &segs, &enc);
					cr_assert_eq(enc, COMMS_SMS_GSM7, "%s/%s: %s",
					             comms_kind_name(k), comms_langs[l], b.data);
					cr_assert_eq(segs, 1, "%s/%s: %d characters",
					             comms_kind_name(k), comms_langs[l], chars);
				} else {
					cr_assert_not_null(t->subject);
					render_samples(t->subject, k, COMMS_PART_SUBJECT, &b);
				}
			}
	for (int l = 0; l < 2; l++)
		render_samples(comms_default_appendix(comms_langs[l]), COMMS_REMINDER,
		               COMMS_PART_APPENDIX, &b);
	cr_assert_eq(comms_default_text("invitation", "sms", "de"),
	             comms_default_text("invitation", "sms", "it"));
	cr_assert_null(comms_default_text("nope", "sms", "it"));
	cr_assert_null(comms_default_text("reset", "fax", "it"));
	buf_free(&b);
}

Test(comms_tags, every_tag_only_where_it_has_a_context)
{
	int n = 0;
	const struct comms_tag_def *t = comms_tag_table(&n);
	cr_assert_eq(n, COMMS_NTAGS);
	char text[96];
	for (int i = 0; i < n; i++) {
		cr_assert_eq(comms_tag_find(t[i].name, strlen(t[i].name)), i);
		snprintf(text, sizeof(text), "Hi {{%s}}", t[i].name);
		for (int k = 0; k < COMMS_NKINDS; k++) {
			struct comms_tpl_error e;
			int want = (t[i].kinds & (1u << k)) ? 0 : COMMS_TPL_NO_CONTEXT;
			cr_assert_eq(comms_tpl_check(text, k, COMMS_PART_BODY, &e), want,
			             "%s in %s", t[i].name, comms_kind_name(k));
			if (want != 0) {
				cr_assert_str_eq(e.tag, t[i].name);
				cr_assert_eq(e.line, 1);
				cr_assert_eq(e.col, 4);
			}
			int subj = t[i].link ? COMMS_TPL_NO_CONTEXT : want;
			cr_assert_eq(comms_tpl_check(text, k, COMMS_PART_SUBJECT, NULL), subj);
		}
		cr_assert_eq(comms_tpl_check(text, COMMS_REMINDER, COMMS_PART_APPENDIX, NULL),
		             t[i].appendix ? 0 : COMMS_TPL_NO_CONTEXT, "%s in the appendix",
		             t[i].name);
	}
	/* the seed's rules, spelled out */
	cr_assert_eq(comms_tpl_check("{{TRD104}}", COMMS_PAYMENT_REQUEST, COMMS_PART_BODY, NULL),
	             0);
	cr_assert_eq(comms_tpl_check("{{TRD104}}", COMMS_REMINDER, COMMS_PART_BODY, NULL),
	             COMMS_TPL_NO_CONTEXT);
	cr_assert_eq(comms_tpl_check("{{TRD89}}", COMMS_RECALL, COMMS_PART_BODY, NULL), 0);
	cr_assert_eq(comms_tpl_check("{{TRD89}}", COMMS_PAYMENT_REQUEST, COMMS_PART_BODY, NULL),
	             COMMS_TPL_NO_CONTEXT);
	cr_assert_eq(comms_tpl_check("{{TRD92}}", COMMS_RECALL, COMMS_PART_BODY, NULL),
	             COMMS_TPL_NO_CONTEXT);
	cr_assert_eq(comms_tpl_check("{{TRD92}}", COMMS_RECALL, COMMS_PART_APPENDIX, NULL), 0);
	cr_assert_eq(comms_tpl_check("{{TRD92}}", COMMS_INVITATION, COMMS_PART_BODY, NULL), 0);
}

Test(comms_tags, errors_name_the_tag_and_position)
{
	struct comms_tpl_error e;
	char msg[200];
	cr_assert_eq(comms_tpl_check("Ciao {{PATIENT_GIVEN_NAME}},\n  a presto {{FOO}}",
	                             COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNKNOWN_TAG);
	cr_assert_str_eq(e.tag, "FOO");
	cr_assert_eq(e.line, 2);
	cr_assert_eq(e.col, 12);
	comms_tpl_error_text(&e, "en", msg, sizeof(msg));
	cr_assert_str_eq(msg, "Unknown tag {{FOO}} at line 2, column 12.");

	/* columns count characters, not bytes */
	cr_assert_eq(comms_tpl_check("è già {{nome}}", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNKNOWN_TAG);
	cr_assert_str_eq(e.tag, "nome");
	cr_assert_eq(e.col, 7);

	cr_assert_eq(comms_tpl_check("Pay {{TRD104}} now", COMMS_RECALL, COMMS_PART_BODY, &e),
	             COMMS_TPL_NO_CONTEXT);
	cr_assert_str_eq(e.tag, "TRD104");
	comms_tpl_error_text(&e, "en", msg, sizeof(msg));
	cr_assert_str_eq(msg,
	                 "The tag {{TRD104}} at line 1, column 5 cannot be used in this message.");

	cr_assert_eq(comms_tpl_check("a\nb {{ORG_NAME", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNBALANCED);
	cr_assert_eq(e.line, 2);
	cr_assert_eq(e.col, 3);
	cr_assert_eq(comms_tpl_check("a }} b", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNBALANCED);
	cr_assert_eq(e.col, 3);
	cr_assert_eq(comms_tpl_check("{{ORG_NAME\n}}", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNBALANCED);
	cr_assert_eq(comms_tpl_check("x {{ORG_NAME}", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNBALANCED);
	cr_assert_eq(comms_tpl_check("{{{ORG_NAME}}}", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNBALANCED);
	cr_assert_eq(comms_tpl_check("{{My Tag}}", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNKNOWN_TAG);
	cr_assert_str_eq(e.tag, "My Tag");
	cr_assert_eq(comms_tpl_check("{{}}", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_UNKNOWN_TAG);
	cr_assert_eq(comms_tpl_check("  \n ", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_EMPTY);
	cr_assert_eq(comms_tpl_check("a\x01", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_BAD_TEXT);
	cr_assert_eq(comms_tpl_check("a\xc3", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             COMMS_TPL_BAD_TEXT);
	char big[COMMS_TPL_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(comms_tpl_check(big, COMMS_REMINDER, COMMS_PART_BODY, &e), COMMS_TPL_TOO_LONG);
	/* single braces and spaces inside a tag are fine */
	cr_assert_eq(comms_tpl_check("{a} {{ ORG_NAME }} }", COMMS_REMINDER, COMMS_PART_BODY, &e),
	             0);
	cr_assert_eq(comms_tpl_check("x", -1, COMMS_PART_BODY, &e), COMMS_TPL_NO_CONTEXT);
}

Test(comms_tags, render_pieces_with_values)
{
	struct comms_tpl t;
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(comms_tpl_parse("{a} {{ ORG_NAME }}: {{PATIENT_GIVEN_NAME}}{{AMOUNT}}!",
	                             COMMS_PAYMENT_REQUEST, COMMS_PART_BODY, &t, NULL),
	             0);
	cr_assert_eq(t.tags, (1u << COMMS_TAG_ORG_NAME) | (1u << COMMS_TAG_PATIENT_GIVEN_NAME) |
	                         (1u << COMMS_TAG_AMOUNT));
	struct comms_value v[COMMS_NTAGS];
	memset(v, 0, sizeof(v));
	v[COMMS_TAG_ORG_NAME] = (struct comms_value){"Clinic", 6};
	v[COMMS_TAG_PATIENT_GIVEN_NAME] = (struct comms_value){"Giulia", 6};
	buf_puts(&b, ">");
	cr_assert_eq(comms_tpl_render(&t, v, &b), 0);
	cr_assert_str_eq(b.data, ">{a} Clinic: Giulia!");
	cr_assert_eq(b.len, strlen(b.data));
	comms_tpl_free(&t);
	comms_tpl_free(&t); /* twice is fine */

	/* a buffer's cap is respected */
	struct buf small;
	buf_init(&small, 4);
	cr_assert_eq(comms_tpl_parse("hello world", COMMS_REMINDER, COMMS_PART_BODY, &t, NULL), 0);
	cr_assert_eq(comms_tpl_render(&t, v, &small), -1);
	cr_assert(small.overflow);
	comms_tpl_free(&t);
	buf_free(&small);
	buf_free(&b);
}
