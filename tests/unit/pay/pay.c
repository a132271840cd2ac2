/*
 * Tests of src/pay/pay.c and the payment settings in src/config.c: the
 * provider table, what pay_create() demands of each provider, and the values
 * config_set() accepts for the new keys. No database.
 */
#include "fixture.h"

TestSuite(pay_config);

Test(pay_config, providers_by_name)
{
	struct pay *p = NULL;
	cr_assert_eq(pay_create(&p, pf_config("sandbox", NULL)), 0);
	cr_assert_str_eq(pay_provider_name(p), "sandbox");
	pay_free(p);
	cr_assert_eq(pay_create(&p, pf_config("stripe", NULL)), 0);
	cr_assert_str_eq(pay_provider_name(p), "stripe");
	pay_free(p);
	cr_assert_eq(pay_create(&p, pf_config("paypal", NULL)), PAY_CONFIG);
	cr_assert_null(p);
	pay_free(NULL);
}

Test(pay_config, stripe_needs_both_secrets)
{
	struct pay *p = NULL;
	struct config *cfg = pf_config("stripe", NULL);
	cfg->stripe_secret_key = (char *)"";
	cr_assert_eq(pay_create(&p, cfg), PAY_CONFIG);
	cfg = pf_config("stripe", NULL);
	cfg->stripe_webhook_secret = NULL;
	cr_assert_eq(pay_create(&p, cfg), PAY_CONFIG);
	/* the sandbox needs neither */
	cfg = pf_config("sandbox", NULL);
	cfg->stripe_secret_key = NULL;
	cfg->stripe_webhook_secret = NULL;
	cr_assert_eq(pay_create(&p, cfg), 0);
	pay_free(p);
}

Test(pay_config, error_texts)
{
	for (int e = PAY_OK; e >= PAY_CONFIG; e--)
		cr_assert_str_neq(pay_strerror(e), "unknown error", "%d", e);
	cr_assert_str_eq(pay_strerror(-99), "unknown error");
	cr_assert_eq(pay_webhook_status(PAY_ERR), 500);
	cr_assert_eq(pay_webhook_status(PAY_INVALID), 400);
}

static int set(struct config *cfg, const char *k, const char *v)
{
	char err[256];
	return config_set(cfg, k, v, err, sizeof(err));
}

Test(pay_config, settings)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cr_assert_eq(set(&cfg, "payment_provider", "sandbox"), 0);
	cr_assert_eq(set(&cfg, "payment_provider", "stripe"), 0);
	cr_assert_eq(set(&cfg, "payment_provider", "paypal"), -1);
	cr_assert_str_eq(cfg.payment_provider, "stripe");
	cr_assert_eq(set(&cfg, "stripe_api_base", "https://api.stripe.com"), 0);
	cr_assert_eq(set(&cfg, "stripe_api_base", "http://127.0.0.1:12111"), 0);
	cr_assert_eq(set(&cfg, "stripe_api_base", "http://localhost:12111"), 0);
	cr_assert_eq(set(&cfg, "stripe_api_base", "http://api.stripe.com"), -1);
	cr_assert_eq(set(&cfg, "stripe_api_base", "http://127.0.0.1.evil.example"), -1);
	cr_assert_eq(set(&cfg, "stripe_api_base", "https://api.stripe.com/"), -1);
	cr_assert_eq(set(&cfg, "stripe_secret_key", ""), 0);
	cr_assert_eq(set(&cfg, "stripe_secret_key", "sk_live_x"), 0);
	cr_assert_eq(set(&cfg, "stripe_webhook_secret", "whsec_x"), 0);
	cr_assert_eq(set(&cfg, "stripe_tolerance", "600"), 0);
	cr_assert_eq(cfg.stripe_tolerance, 600);
	cr_assert_eq(set(&cfg, "stripe_tolerance", "0"), -1);
	config_free(&cfg);
}

Test(pay_config, defaults)
{
	struct config cfg;
	unsetenv("INVITO_PAYMENT_PROVIDER");
	cr_assert_eq(config_load(&cfg, "/dev/null"), 0);
	cr_assert_str_eq(cfg.payment_provider, "sandbox");
	cr_assert_str_eq(cfg.stripe_api_base, "https://api.stripe.com");
	cr_assert_str_eq(cfg.stripe_secret_key, "");
	cr_assert_eq(cfg.stripe_tolerance, 300);
	config_free(&cfg);
}
