/*
 * Tests of src/pay/sandbox.c: the test-mode provider's checkout, the
 * patient's "complete" and "fail" choices, repeats, and refusal when another
 * provider is configured.
 */
#include "fixture.h"

TestSuite(pay_sandbox, .init = pf_setup, .fini = pf_teardown);

static struct pay *sandbox(void)
{
	struct pay *p = NULL;
	cr_assert_eq(pay_create(&p, pf_config("sandbox", NULL)), 0);
	cr_assert_str_eq(pay_provider_name(p), "sandbox");
	cr_assert_eq(pay_is_test_mode(p), 1);
	return p;
}

static struct pay_checkout start(struct pay *p, int64_t appt)
{
	struct pay_checkout co;
	int rc = pay_checkout_start(p, fx_conn, appt, NULL, now_utc(), &co, fx_arena);
	cr_assert_eq(rc, 0, "%s", pay_strerror(rc));
	return co;
}

Test(pay_sandbox, checkout_is_a_local_page)
{
	struct pay *p = sandbox();
	int64_t appt = pf_appointment("mandatory", 4500);
	struct pay_checkout co = start(p, appt);
	cr_assert_eq(strncmp(co.ref, "sbx_", 4), 0);
	cr_assert_eq(strlen(co.ref), 36);
	cr_assert_str_eq(co.url, arena_printf(fx_arena, "/pay/sandbox/%s", co.ref));
	cr_assert_eq(co.amount_cents, 4500);
	struct pay_payment pm;
	cr_assert_eq(pay_sandbox_get(p, fx_conn, co.ref, &pm, fx_arena), 0);
	cr_assert_eq(pm.id, co.payment_id);
	cr_assert_eq(pm.appointment_id, appt);
	cr_assert_eq(pm.amount_cents, 4500);
	cr_assert_str_eq(pm.state, "pending");
	cr_assert_str_eq(pm.currency, "EUR");
	cr_assert_str_eq(pm.provider, "sandbox");
	/* each attempt its own ref */
	struct pay_checkout co2 = start(p, appt);
	cr_assert_str_neq(co.ref, co2.ref);
	pay_free(p);
}

Test(pay_sandbox, complete_marks_paid_once)
{
	struct pay *p = sandbox();
	struct pay_result r;
	int64_t appt = pf_appointment("optional", 4500);
	struct pay_checkout co = start(p, appt);
	cr_assert_eq(pay_sandbox_complete(p, fx_conn, co.ref, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_PAID);
	cr_assert_eq(r.payment_id, co.payment_id);
	cr_assert_eq(r.appointment_id, appt);
	cr_assert_str_eq(pf_state(co.payment_id), "succeeded");
	int64_t paid = pf_paid_at(appt);
	cr_assert_neq(paid, 0);
	/* the page submitted twice */
	cr_assert_eq(pay_sandbox_complete(p, fx_conn, co.ref, now_utc() + 5, &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_DUPLICATE);
	cr_assert_eq(pf_paid_at(appt), paid);
	/* changing one's mind afterwards */
	cr_assert_eq(pay_sandbox_fail(p, fx_conn, co.ref, now_utc(), &r), PAY_STATE);
	cr_assert_str_eq(pf_state(co.payment_id), "succeeded");
	pay_free(p);
}

Test(pay_sandbox, fail_marks_failed_and_nothing_paid)
{
	struct pay *p = sandbox();
	struct pay_result r;
	int64_t appt = pf_appointment("mandatory", 4500);
	struct pay_checkout co = start(p, appt);
	cr_assert_eq(pay_sandbox_fail(p, fx_conn, co.ref, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_FAILED);
	cr_assert_str_eq(pf_state(co.payment_id), "failed");
	cr_assert_eq(pf_paid_at(appt), 0);
	cr_assert_eq(pay_sandbox_fail(p, fx_conn, co.ref, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_DUPLICATE);
	cr_assert_eq(pay_sandbox_complete(p, fx_conn, co.ref, now_utc(), &r), PAY_STATE);
	cr_assert_eq(pf_paid_at(appt), 0);
	/* a new attempt after a failure can succeed */
	struct pay_checkout co2 = start(p, appt);
	cr_assert_eq(pay_sandbox_complete(p, fx_conn, co2.ref, now_utc(), &r), 0);
	cr_assert_eq(r.outcome, PAY_OUT_PAID);
	cr_assert_neq(pf_paid_at(appt), 0);
	pay_free(p);
}

Test(pay_sandbox, two_attempts_both_completed_pay_once)
{
	struct pay *p = sandbox();
	struct pay_result r;
	int64_t appt = pf_appointment("mandatory", 4500);
	struct pay_checkout a = start(p, appt), b = start(p, appt);
	cr_assert_eq(pay_sandbox_complete(p, fx_conn, a.ref, 1000, &r), 0);
	cr_assert_eq(pay_sandbox_complete(p, fx_conn, b.ref, 2000, &r), 0);
	/* the second attempt's money is recorded; the appointment keeps its first paid_at */
	cr_assert_eq(r.outcome, PAY_OUT_PAID);
	cr_assert_eq(pf_paid_at(appt), 1000);
	pay_free(p);
}

Test(pay_sandbox, unknown_refs)
{
	struct pay *p = sandbox();
	struct pay_result r;
	struct pay_payment pm;
	const char *refs[] = {NULL,
	                      "",
	                      "sbx_",
	                      "sbx_0123456789abcdef0123456789abcdeg",
	                      "cs_test_a1B2c3D4",
	                      "sbx_0123456789abcdef0123456789abcdef",
	                      "sbx_0123456789abcdef0123456789abcdef' OR '1'='1"};
	for (size_t i = 0; i < ARRAY_LEN(refs); i++) {
		cr_expect_eq(pay_sandbox_complete(p, fx_conn, refs[i], now_utc(), &r),
		             PAY_NOTFOUND);
		cr_expect_eq(pay_sandbox_fail(p, fx_conn, refs[i], now_utc(), &r), PAY_NOTFOUND);
		cr_expect_eq(pay_sandbox_get(p, fx_conn, refs[i], &pm, fx_arena), PAY_NOTFOUND);
	}
	pay_free(p);
}

Test(pay_sandbox, disabled_when_stripe_is_configured)
{
	struct pay *sb = sandbox(), *st = NULL;
	struct pay_result r;
	struct pay_payment pm;
	int64_t appt = pf_appointment("mandatory", 4500);
	struct pay_checkout co = start(sb, appt);
	cr_assert_eq(pay_create(&st, pf_config("stripe", NULL)), 0);
	cr_assert_eq(pay_is_test_mode(st), 0);
	cr_assert_eq(pay_sandbox_complete(st, fx_conn, co.ref, now_utc(), &r), PAY_DISABLED);
	cr_assert_eq(pay_sandbox_fail(st, fx_conn, co.ref, now_utc(), &r), PAY_DISABLED);
	cr_assert_eq(pay_sandbox_get(st, fx_conn, co.ref, &pm, fx_arena), PAY_DISABLED);
	cr_assert_str_eq(pf_state(co.payment_id), "pending");
	cr_assert_eq(pf_paid_at(appt), 0);
	pay_free(st);
	pay_free(sb);
}
