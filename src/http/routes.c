/*
 * routes: the one route table. Auth and CSRF are flags here, never code in
 * handlers. Order matters only where two patterns could match one path: the
 * first match wins, so literal segments come before {params}.
 */
#include "api/api.h"
#include "http/http.h"
#include "http/handlers.h"
#include "portal/portal.h"
#include "staff/staff.h"

const struct http_route http_routes[] = {
    {"GET", "/healthz", http_healthz, 0},
    {"GET", "/metrics", http_metrics_scrape, HTTP_METRICS},
    {"GET", "/static/{file}", http_static, 0},
    {"POST", "/lang", http_lang_switch, HTTP_CSRF},
    {"GET", "/", portal_home, 0},
    {"GET", "/i/{token}", portal_invite_form, HTTP_TOKEN},
    {"POST", "/i/{token}", portal_invite_submit, HTTP_TOKEN | HTTP_CSRF},
    {"POST", "/i/{token}/resend", portal_invite_resend, HTTP_TOKEN | HTTP_CSRF},
    {"GET", "/r/{token}", portal_reset_form, HTTP_TOKEN},
    {"POST", "/r/{token}", portal_reset_submit, HTTP_TOKEN | HTTP_CSRF},
    {"GET", "/login", portal_login_form, 0},
    {"POST", "/login", portal_login, HTTP_CSRF},
    {"POST", "/logout", portal_logout, HTTP_PATIENT | HTTP_CSRF},
    {"GET", "/forgot", portal_forgot_form, 0},
    {"POST", "/forgot", portal_forgot, HTTP_CSRF},
    {"GET", "/signup", portal_signup_form, 0},
    {"POST", "/signup", portal_signup, HTTP_CSRF},
    {"GET", "/dev/outbox", portal_dev_outbox, HTTP_DEV},
    /* home, appointments and booking (portal/home.c, appointments.c, search.c) */
    {"GET", "/appointments/{id}", portal_appointment, HTTP_PATIENT},
    {"GET", "/appointments/{id}/cancel", portal_appointment_cancel_form, HTTP_PATIENT},
    {"POST", "/appointments/{id}/cancel", portal_appointment_cancel, HTTP_PATIENT | HTTP_CSRF},
    {"GET", "/appointments/{id}/reschedule", portal_appointment_reschedule_form, HTTP_PATIENT},
    {"POST", "/appointments/{id}/reschedule", portal_appointment_reschedule,
     HTTP_PATIENT | HTTP_CSRF},
    {"GET", "/search", portal_search, HTTP_PATIENT},
    {"GET", "/book/{slot}", portal_book_form, HTTP_PATIENT},
    {"POST", "/book/{slot}", portal_book, HTTP_PATIENT | HTTP_CSRF},

    {"GET", "/staff", staff_home, HTTP_STAFF},
    {"GET", "/staff/login", staff_login_form, 0},
    {"POST", "/staff/login", staff_login, HTTP_CSRF},
    {"POST", "/staff/logout", staff_logout, HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/patients", staff_patients, HTTP_STAFF},
    {"POST", "/staff/patients/actions", staff_patients_action, HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/patients/new", staff_patient_new, HTTP_STAFF},
    {"POST", "/staff/patients/new", staff_patient_create, HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/patients/{id}", staff_patient_show, HTTP_STAFF},
    {"GET", "/staff/patients/{id}/edit", staff_patient_edit, HTTP_STAFF},
    {"POST", "/staff/patients/{id}/edit", staff_patient_update, HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/patients/invite", staff_bulk_invite, HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/patients/{id}/invite", staff_patient_invite, HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/patients/{id}/reset", staff_patient_reset, HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/patients/{id}/invitations/{inv}/revoke", staff_invitation_revoke,
     HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/portal", staff_portal_overview, HTTP_STAFF},
    {"GET", "/staff/activity", staff_activity, HTTP_STAFF},
    {"GET", "/staff/messages", staff_messages, HTTP_STAFF},
    {"POST", "/staff/messages/{id}/retry", staff_message_retry, HTTP_STAFF | HTTP_CSRF},
    /* services, opening hours, slots; day view and new appointment (staff/services.c,
     * staff/schedule.c) */
    {"GET", "/staff/services", staff_services, HTTP_STAFF},
    {"GET", "/staff/services/new", staff_service_new, HTTP_STAFF},
    {"POST", "/staff/services/new", staff_service_create, HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/services/{id}", staff_service_show, HTTP_STAFF},
    {"GET", "/staff/services/{id}/edit", staff_service_edit, HTTP_STAFF},
    {"POST", "/staff/services/{id}/edit", staff_service_update, HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/services/{id}/places/{place}", staff_service_hours, HTTP_STAFF},
    {"POST", "/staff/services/{id}/places/{place}/hours", staff_service_hours_save,
     HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/services/{id}/places/{place}/generate", staff_service_generate,
     HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/appointments", staff_appointments, HTTP_STAFF},
    {"GET", "/staff/appointments/new", staff_appointment_new, HTTP_STAFF},
    {"POST", "/staff/appointments/new", staff_appointment_create, HTTP_STAFF | HTTP_CSRF},
    /* message templates and the invitation appendix (staff/templates.c) */
    {"GET", "/staff/templates", staff_templates, HTTP_STAFF},
    {"POST", "/staff/templates/appendix", staff_templates_appendix, HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/templates/{kind}/{channel}/{lang}", staff_template_edit, HTTP_STAFF},
    {"POST", "/staff/templates/{kind}/{channel}/{lang}", staff_template_save,
     HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/templates/{kind}/{channel}/{lang}/preview", staff_template_preview,
     HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/templates/{kind}/{channel}/{lang}/reset", staff_template_reset,
     HTTP_STAFF | HTTP_CSRF},
    /* payment and profile (portal/pay.c, portal/account.c) */
    {"GET", "/appointments/{id}/pay", portal_pay_page, HTTP_PATIENT},
    {"POST", "/appointments/{id}/pay", portal_pay_start, HTTP_PATIENT | HTTP_CSRF},
    {"GET", "/pay/sandbox/{ref}", portal_pay_sandbox, HTTP_PATIENT | HTTP_TOKEN},
    {"POST", "/pay/sandbox/{ref}", portal_pay_sandbox_submit,
     HTTP_PATIENT | HTTP_CSRF | HTTP_TOKEN},
    {"POST", "/pay/webhook/stripe", portal_pay_webhook_stripe, 0},
    {"GET", "/account", portal_account, HTTP_PATIENT},
    {"POST", "/account/contact", portal_account_contact, HTTP_PATIENT | HTTP_CSRF},
    {"POST", "/account/lang", portal_account_lang, HTTP_PATIENT | HTTP_CSRF},
    {"POST", "/account/consents/{id}/withdraw", portal_account_consent_withdraw,
     HTTP_PATIENT | HTTP_CSRF},
    {"GET", "/account/confirm/{token}", portal_account_confirm, HTTP_TOKEN},
    /* portals: each portal's look; a new privacy policy version after sign-in
     * (http/portal_host.c, portal/login.c) */
    {"GET", "/portal/{id}/theme.css", http_portal_theme, 0},
    {"GET", "/portal/{id}/logo", http_portal_logo, 0},
    {"GET", "/policy", portal_policy_form, HTTP_PATIENT},
    {"POST", "/policy", portal_policy_accept, HTTP_PATIENT | HTTP_CSRF},
    /* the admins' Settings page: organisation and portals (staff/settings.c) */
    {"GET", "/staff/settings", staff_settings, HTTP_STAFF},
    {"POST", "/staff/settings/organisation", staff_settings_organisation, HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/settings/portals/{id}", staff_settings_portal, HTTP_STAFF | HTTP_CSRF},
    {"GET", "/staff/settings/times", staff_settings_times, HTTP_STAFF},
    {"POST", "/staff/settings/times", staff_settings_times_save, HTTP_STAFF | HTTP_CSRF},
    /* recalls (staff/recalls.c) */
    {"GET", "/staff/recalls", staff_recalls, HTTP_STAFF},
    {"GET", "/staff/recalls/new", staff_recall_new, HTTP_STAFF},
    {"POST", "/staff/recalls/new", staff_recall_create, HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/recalls/{id}/cancel", staff_recall_cancel, HTTP_STAFF | HTTP_CSRF},
    {"POST", "/staff/patients/{id}/recalls", staff_patient_recall_create, HTTP_STAFF | HTTP_CSRF},
    /* the API for the clinic's own systems: an organisation key, JSON (api/) */
    {"POST", "/api/v1/appointments", api_appointment_create, HTTP_APIKEY},
};

const int http_nroutes = (int)(sizeof(http_routes) / sizeof(http_routes[0]));
