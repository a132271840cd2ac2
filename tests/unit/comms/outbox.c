/* Tests for src/comms/outbox.c: queueing, dedupe, listing. */
#include "../invite/fixture.h"

#include "comms/outbox.h"

TestSuite(comms_outbox, .init = fx_setup, .fini = fx_teardown);

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

/* The default texts and the tag engine are tested in tags.c and render.c. */
