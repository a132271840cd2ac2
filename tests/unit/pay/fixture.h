/*
 * Fixture for the payment tests: the store fixture (SQLite, or a PostgreSQL
 * schema when INVITO_TEST_PG is set) plus one patient and one video service
 * of ORG_A, helpers to add appointments and read back what pay/ wrote, a
 * struct config for either provider, and Stripe-Signature headers made the
 * way Stripe makes them.
 */
#ifndef INVITO_TEST_PAY_FIXTURE_H
#define INVITO_TEST_PAY_FIXTURE_H

#include "../store/fixture.h"

#include "config.h"
#include "lib/util.h"
#include "pay/pay.h"

#include <inttypes.h>
#include <sodium.h>

#define PF_SECRET     "whsec_test_0123456789abcdef"
#define PF_STRIPE_KEY "sk_test_51Invito000SecretKey"

static FX_UNUSED int64_t PATIENT, SERVICE;
static FX_UNUSED struct config pf_cfg;

static inline void pf_setup(void)
{
	fx_setup();
	cr_assert_eq(store_insert(fx_conn, &PATIENT,
	                          "INSERT INTO patients (org_id, given_name, family_name, "
	                          "family_key, search_key, search_key_fg) "
	                          "VALUES (?, 'Anna', 'Rossi', 'rossi', 'anna rossi', "
	                          "'rossi anna') RETURNING id",
	                          "i", ORG_A),
	             0);
	cr_assert_eq(store_insert(fx_conn, &SERVICE,
	                          "INSERT INTO services (org_id, name, kind, price_cents, payment) "
	                          "VALUES (?, 'Televisita cardiologica', 'video', 8000, "
	                          "'mandatory') RETURNING id",
	                          "i", ORG_A),
	             0);
}

static inline void pf_teardown(void)
{
	fx_teardown();
}

/* A booked video appointment tomorrow; payment "none", "optional" or "mandatory". */
static inline int64_t pf_appointment(const char *payment, int64_t amount_cents)
{
	int64_t id = 0, start = now_utc() + 86400;
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO appointments (patient_id, org_id, service_id, "
	                          "start_at, end_at, kind, payment, amount_cents) "
	                          "VALUES (?, ?, ?, ?, ?, 'video', ?, ?) RETURNING id",
	                          "iiiiiti", PATIENT, ORG_A, SERVICE, start, start + 1800, payment,
	                          amount_cents),
	             0);
	return id;
}

/* appointments.paid_at, 0 when NULL. */
static inline int64_t pf_paid_at(int64_t appt)
{
	int64_t v = 0;
	cr_assert_eq(store_scalar(fx_conn, &v,
	                          "SELECT COALESCE(paid_at, 0) FROM appointments WHERE id = ?", "i",
	                          appt),
	             0);
	return v;
}

/* payments.state of one row, in the fixture's arena. */
static inline const char *pf_state(int64_t payment)
{
	struct store_stmt *s = NULL;
	cr_assert_eq(
	    store_query(fx_conn, &s, "SELECT state FROM payments WHERE id = ?", "i", payment), 0);
	cr_assert_eq(store_step(s), 1);
	char *v = store_col_dup(s, 0, fx_arena);
	store_done(s);
	return v;
}

static inline int64_t pf_count(const char *sql, int64_t arg)
{
	int64_t v = -1;
	cr_assert_eq(store_scalar(fx_conn, &v, sql, "i", arg), 0, "%s", sql);
	return v;
}

/* Fills cfg for pay_create() (which copies the strings) and returns it. */
static inline struct config *pf_config_fill(struct config *cfg, const char *provider,
                                            const char *api_base)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_url = (char *)"http://127.0.0.1:8080";
	cfg->payment_provider = (char *)provider;
	cfg->stripe_api_base = (char *)(api_base != NULL ? api_base : "https://api.stripe.com");
	cfg->stripe_secret_key = (char *)PF_STRIPE_KEY;
	cfg->stripe_webhook_secret = (char *)PF_SECRET;
	cfg->stripe_tolerance = 300;
	return cfg;
}

/* The same in the fixture's pf_cfg (main thread only). */
static inline struct config *pf_config(const char *provider, const char *api_base)
{
	return pf_config_fill(&pf_cfg, provider, api_base);
}

/* "t=TS,v1=HEX" for body signed with secret at ts, into out (size n). */
static inline void pf_sign(char *out, size_t n, const char *secret, int64_t ts, const char *body)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1], tss[32];
	crypto_auth_hmacsha256_state st;
	cr_assert_geq(sodium_init(), 0);
	snprintf(tss, sizeof(tss), "%" PRId64, ts);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tss, strlen(tss));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, n, "t=%s,v1=%s", tss, hex);
}

#endif
