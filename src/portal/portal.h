/*
 * portal: the pages patients see: the public home, the invitation landing
 * page, sign-in, password reset and self sign-up. Appointment, payment and
 * booking pages arrive with their issue.
 */
#ifndef INVITO_PORTAL_H
#define INVITO_PORTAL_H

struct http_req;
struct http_resp;

/* Public page when signed out; the patient's home when signed in. */
int portal_home(struct http_req *req, struct http_resp *resp);
/* Invitation landing page /i/{token}: family name, password twice, privacy policy. */
int portal_invite_form(struct http_req *req, struct http_resp *resp);
int portal_invite_submit(struct http_req *req, struct http_resp *resp);
/* "Send me a new link" from an expired, used or locked link. */
int portal_invite_resend(struct http_req *req, struct http_resp *resp);
/* Password reset page /r/{token}. */
int portal_reset_form(struct http_req *req, struct http_resp *resp);
int portal_reset_submit(struct http_req *req, struct http_resp *resp);
int portal_login_form(struct http_req *req, struct http_resp *resp);
int portal_login(struct http_req *req, struct http_resp *resp);
int portal_logout(struct http_req *req, struct http_resp *resp);
int portal_forgot_form(struct http_req *req, struct http_resp *resp);
int portal_forgot(struct http_req *req, struct http_resp *resp);
/* Self sign-up: a match with an existing record sends an invitation instead. */
int portal_signup_form(struct http_req *req, struct http_resp *resp);
int portal_signup(struct http_req *req, struct http_resp *resp);
/* Messages kept by the "log" transport (only when it is the transport). */
int portal_dev_outbox(struct http_req *req, struct http_resp *resp);

/* Payment (portal/pay.c) and profile (portal/account.c) pages, issue 5. */
int portal_pay_page(struct http_req *req, struct http_resp *resp);
int portal_pay_start(struct http_req *req, struct http_resp *resp);
/* The sandbox provider's checkout page: complete or fail, test mode only. */
int portal_pay_sandbox(struct http_req *req, struct http_resp *resp);
int portal_pay_sandbox_submit(struct http_req *req, struct http_resp *resp);
/* Stripe's webhook: no session, no CSRF; the signature is checked by pay_webhook(). */
int portal_pay_webhook_stripe(struct http_req *req, struct http_resp *resp);
int portal_account(struct http_req *req, struct http_resp *resp);
int portal_account_contact(struct http_req *req, struct http_resp *resp);
int portal_account_lang(struct http_req *req, struct http_resp *resp);
int portal_account_consent_withdraw(struct http_req *req, struct http_resp *resp);
/* The link sent to a new e-mail or mobile: applies the change. */
int portal_account_confirm(struct http_req *req, struct http_resp *resp);

#endif
