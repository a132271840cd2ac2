/* Tests for src/comms/outbox.c and defaults.c: queueing, dedupe, listing, texts. */
#include "../invite/fixture.h"

#include "comms/outbox.h"
#include "comms/texts.h"
#include "lib/buf.h"

TestSuite(comms_outbox, .init = fx_setup, .fini = fx_teardown);
TestSuite(comms_texts);

Test(comms_outbox, add_dedupe_and_list_newest_first)
{
	int64_t a = 0, b = 0, c = 0;
	cr_assert_eq(comms_outbox_add(fx_conn, ORG_A, 0, "invitation", "sms", "+393331234567", NULL,
	                              "one", NULL, NOW, &a),
	             0);
	cr_assert_eq(comms_outbox_add(fx_conn, ORG_A, 0, "reset", "email", "x@example.org", "Subj",
	                              "two", "k:1", NOW + 1, &b),
	             0);
	cr_assert_eq(comms_outbox_add(fx_conn, ORG_A, 0, "reset", "email", "x@example.org", "Subj",
	                              "three", "k:1", NOW + 2, &c),
	             0);
	cr_assert_gt(a, 0);
	cr_assert_gt(b, a);
	cr_assert_eq(c, 0, "a duplicate key writes nothing");
	struct comms_outbox_row *rows;
	int n = 0;
	cr_assert_eq(comms_outbox_list(fx_conn, 10, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(rows[0].id, b);
	cr_assert_str_eq(rows[0].subject, "Subj");
	cr_assert_str_eq(rows[0].state, "queued");
	cr_assert_eq(rows[0].created_at, NOW + 1);
	cr_assert_null(rows[1].subject);
	cr_assert_str_eq(rows[1].body, "one");
	cr_assert_eq(comms_outbox_list(fx_conn, 1, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_neq(comms_outbox_list(fx_conn, 0, &rows, &n, fx_arena), 0);
	cr_assert_neq(
	    comms_outbox_add(fx_conn, ORG_A, 0, "x", "fax", "r", NULL, "b", NULL, NOW, NULL), 0);
}

Test(comms_texts, every_kind_channel_language)
{
	const char *kinds[] = {"invitation", "reset", "password_changed"};
	const char *langs[] = {"it", "en"};
	for (int k = 0; k < 3; k++)
		for (int l = 0; l < 2; l++) {
			const struct comms_text *sms =
			    comms_default_text(kinds[k], "sms", langs[l]);
			const struct comms_text *mail =
			    comms_default_text(kinds[k], "email", langs[l]);
			cr_assert_not_null(sms);
			cr_assert_not_null(mail);
			cr_assert_null(sms->subject);
			cr_assert_not_null(mail->subject);
		}
	cr_assert_eq(comms_default_text("invitation", "sms", "de"),
	             comms_default_text("invitation", "sms", "it"));
	cr_assert_null(comms_default_text("nope", "sms", "it"));
}

Test(comms_texts, render_and_sms_fits_one_segment)
{
	struct buf b;
	buf_init(&b, 0);
	struct comms_vars v = {"Giulia", "Clinic A",
	                       "https://portal.example/i/AAAAAAAAAAAAAAAAAAAAAA", 30};
	cr_assert_eq(comms_render("{{PATIENT_GIVEN_NAME}} {{ORG_NAME}} {{LINK}} {{EXPIRY_DAYS}} "
	                          "{{UNKNOWN}} {{",
	                          &v, &b),
	             0);
	cr_assert_str_eq(b.data,
	                 "Giulia Clinic A https://portal.example/i/AAAAAAAAAAAAAAAAAAAAAA 30 "
	                 "{{UNKNOWN}} {{");
	const char *kinds[] = {"invitation", "reset", "password_changed"};
	for (int k = 0; k < 3; k++)
		for (int l = 0; l < 2; l++) {
			buf_reset(&b);
			const struct comms_text *t =
			    comms_default_text(kinds[k], "sms", l ? "en" : "it");
			cr_assert_eq(comms_render(t->body, &v, &b), 0);
			cr_assert_leq(b.len, 160, "%s: %zu characters", kinds[k], b.len);
			for (size_t i = 0; i < b.len; i++)
				cr_assert_lt((unsigned char)b.data[i], 0x80, "GSM-7 safe ASCII");
		}
	buf_free(&b);
}
