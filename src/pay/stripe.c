/*
 * pay/stripe: Checkout Sessions through Stripe's HTTP API with libcurl.
 *
 * POST {api_base}/v1/checkout/sessions, form-encoded, with the secret key as a
 * Bearer token and an Idempotency-Key per attempt (a transport failure is
 * retried once with the same key, so Stripe creates one session at most).
 * The answer's id becomes the payment's provider_ref and its url is where the
 * patient goes. Nothing here marks anything paid: only a verified webhook
 * does (stripe_webhook.c); success_url is a page that shows the state.
 *
 * It must never log the secret key, the Authorization header or the request
 * body, never follow a redirect, and never send the key over plain HTTP to
 * another machine (config.c admits http:// only for 127.0.0.1 and localhost).
 */
#include "pay/internal.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Stripe's answers are a few KiB; anything larger is not an answer we want. */
#define ANSWER_MAX (256u * 1024)
#define TRIES      2

int pay_stripe_check(const struct pay *p)
{
	const char *missing = NULL;
	if (p->secret_key[0] == '\0')
		missing = "stripe_secret_key";
	else if (p->webhook_secret[0] == '\0')
		missing = "stripe_webhook_secret";
	else if (p->api_base[0] == '\0')
		missing = "stripe_api_base";
	if (missing != NULL) {
		log_error("pay: payment_provider is stripe but %s is not set", missing);
		return PAY_CONFIG;
	}
	return PAY_OK;
}

/* key=value&, both percent-encoded. */
static void form_add(struct buf *b, const char *key, const char *value)
{
	if (b->len > 0)
		buf_putc(b, '&');
	buf_urlenc(b, key);
	buf_putc(b, '=');
	buf_urlenc(b, value);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	return buf_append(b, data, size * n) == 0 ? size * n : 0;
}

static int add_header(struct curl_slist **l, const char *s)
{
	struct curl_slist *n = curl_slist_append(*l, s);
	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

/* Wipes the copies curl made of the headers (the Authorization one) and frees them. */
static void free_headers(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i != NULL; i = i->next)
		sodium_memzero(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

/* Copies a JSON string member into a, or NULL. */
static char *json_str(json_t *obj, const char *key, struct arena *a)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? arena_strdup(a, s) : NULL;
}

/* A session id as Stripe makes them: "cs_" and up to 250 letters, digits, underscores. */
static int session_id_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n < 4 || n > 253 || strncmp(s, "cs_", 3) != 0)
		return 0;
	for (size_t i = 3; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Reads {"id": ..., "url": ...} or {"error": {"type", "code", "message"}}. */
static int read_answer(long status, const struct buf *body, struct pay_checkout *out,
                       struct arena *a)
{
	json_error_t jerr;
	json_t *root = json_loadb(body->data != NULL ? body->data : "", body->len, 0, &jerr);
	int rc = PAY_PROVIDER;
	if (!json_is_object(root)) {
		out->error = arena_strdup(a, "unreadable answer");
		goto out;
	}
	if (status != 200) {
		json_t *e = json_object_get(root, "error");
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *code = json_string_value(json_object_get(e, "code"));
		/* type and code only: Stripe's message may quote what we sent. */
		out->error = arena_printf(a, "%s%s%s", type != NULL ? type : "error",
		                          code != NULL ? "/" : "", code != NULL ? code : "");
		goto out;
	}
	char *id = json_str(root, "id", a), *url = json_str(root, "url", a);
	if (!session_id_ok(id) || url == NULL || strncmp(url, "https://", 8) != 0) {
		out->error = arena_strdup(a, "answer without a session id or https url");
		goto out;
	}
	out->ref = id;
	out->url = url;
	rc = PAY_OK;
out:
	json_decref(root);
	return rc;
}

int pay_stripe_start(struct pay *p, const struct pay_due *due, struct pay_checkout *out,
                     struct arena *a)
{
	int rc = PAY_PROVIDER;
	struct buf form, answer, auth;
	struct curl_slist *hdrs = NULL;
	CURL *h = NULL;
	char currency[8] = "";
	buf_init(&form, 64 * 1024);
	buf_init(&answer, ANSWER_MAX);
	buf_init(&auth, 1024);

	for (size_t i = 0; due->currency[i] && i < sizeof(currency) - 1; i++)
		currency[i] = (char)(due->currency[i] | 0x20); /* "EUR" → "eur" */
	char *amount = arena_printf(a, "%lld", (long long)due->amount_cents);
	char *appt = arena_printf(a, "%lld", (long long)due->appointment_id);
	char *payment = arena_printf(a, "%lld", (long long)due->payment_id);
	form_add(&form, "mode", "payment");
	form_add(&form, "line_items[0][price_data][currency]", currency);
	form_add(&form, "line_items[0][price_data][unit_amount]", amount);
	form_add(&form, "line_items[0][price_data][product_data][name]",
	         due->description != NULL && *due->description ? due->description : "Appointment");
	form_add(&form, "line_items[0][quantity]", "1");
	/* {CHECKOUT_SESSION_ID} is filled in by Stripe; the page only shows the state. */
	form_add(&form, "success_url",
	         arena_printf(a,
	                      "%s/appointments/%s/pay?result=success&session_id="
	                      "{CHECKOUT_SESSION_ID}",
	                      due->portal_base, appt));
	form_add(&form, "cancel_url",
	         arena_printf(a, "%s/appointments/%s/pay?result=cancel", due->portal_base, appt));
	form_add(&form, "client_reference_id", payment);
	form_add(&form, "metadata[appointment_id]", appt);
	form_add(&form, "metadata[payment_id]", payment);
	/* One key per attempt: a retry of this request can never open a second session. */
	char *idem =
	    arena_printf(a, "Idempotency-Key: invito-payment-%s-%s", payment, pay_random_hex(a));
	buf_printf(&auth, "Authorization: Bearer %s", p->secret_key);
	if (form.overflow || auth.overflow) {
		out->error = arena_strdup(a, "request too large");
		goto out;
	}
	char *url = arena_printf(a, "%s/v1/checkout/sessions", p->api_base);
	if (add_header(&hdrs, auth.data) < 0 || add_header(&hdrs, idem) < 0 ||
	    add_header(&hdrs, "Content-Type: application/x-www-form-urlencoded") < 0 ||
	    add_header(&hdrs, "Expect:") < 0 || (h = curl_easy_init()) == NULL) {
		rc = PAY_ERR;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, p->timeout_s);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)form.len);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "invito/" INVITO_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);

	CURLcode cc = CURLE_OK;
	long status = 0;
	for (int t = 0; t < TRIES; t++) {
		buf_reset(&answer);
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			break;
		log_warn("pay: stripe checkout for payment %lld: %s%s", (long long)due->payment_id,
		         curl_easy_strerror(cc), t + 1 < TRIES ? " (retrying)" : "");
	}
	if (cc != CURLE_OK) {
		out->error = arena_strdup(a, "provider unreachable");
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	rc = read_answer(status, &answer, out, a);
	if (rc != 0)
		log_warn("pay: stripe refused the checkout for payment %lld: HTTP %ld %s",
		         (long long)due->payment_id, status, out->error);
out:
	curl_easy_cleanup(h);
	free_headers(hdrs);
	buf_free(&form);
	buf_free(&answer);
	if (auth.data != NULL)
		sodium_memzero(auth.data, auth.len);
	buf_free(&auth);
	return rc;
}
