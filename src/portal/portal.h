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

/* Home, appointment and booking pages (portal/home.c, appointments.c, search.c), issue 5. */
#include <stdint.h>
struct arena;
struct booking_actor;
struct booking_slot;
struct booking_appointment;
int portal_appointment(struct http_req *req, struct http_resp *resp);
/* Cancel and reschedule, each with a confirmation page, up to the organisation's cut-off. */
int portal_appointment_cancel_form(struct http_req *req, struct http_resp *resp);
int portal_appointment_cancel(struct http_req *req, struct http_resp *resp);
int portal_appointment_reschedule_form(struct http_req *req, struct http_resp *resp);
int portal_appointment_reschedule(struct http_req *req, struct http_resp *resp);
/* /search?service=&place=&from=&to=: free slots soonest first; /book/{slot}: confirm, book. */
int portal_search(struct http_req *req, struct http_resp *resp);
int portal_book_form(struct http_req *req, struct http_resp *resp);
int portal_book(struct http_req *req, struct http_resp *resp);
/* The signed-in patient as a booking actor (portal of their organisation). 0 or -1. */
int portal_booking_actor(struct http_req *req, struct booking_actor *who);
/* utc as "Monday 16 March 2026, 09:30" in lang and zone (arena). */
const char *portal_when(const char *lang, const char *zone, int64_t utc, struct arena *a);
/* Cents as "€ 60,00" (it) or "€60.00" (en) (arena). */
const char *portal_money(const char *lang, int64_t cents, struct arena *a);
/* One free-or-not slot on the actor's portal (service active and online): 0, or a booking_err. */
int portal_slot_get(struct http_req *req, const struct booking_actor *who, int64_t slot_id,
                    struct booking_slot *out);
/* Queues a short message about ap ("confirmation", "reschedule", "cancellation") to the
 * signed-in account holder's e-mail (else mobile). 0, or negative (logged; the change stands). */
int portal_booking_notice(struct http_req *req, const char *kind,
                          const struct booking_appointment *ap);

/* GET/POST /policy (portal/login.c): a new privacy policy version to accept after sign-in;
 * POST records the consent (version, time, address) and goes on to ?next= (portal paths). */
int portal_policy_form(struct http_req *req, struct http_resp *resp);
int portal_policy_accept(struct http_req *req, struct http_resp *resp);

#endif
