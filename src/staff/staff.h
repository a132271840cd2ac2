/*
 * staff: the pages clinic staff use (sign-in, manage patients, patient
 * profile, add and edit). Every query is confined to the signed-in staff
 * user's organisation (req->session->org_id): another organisation's patient
 * is a 404, never a 403, so ids cannot be probed.
 */
#ifndef INVITO_STAFF_H
#define INVITO_STAFF_H

struct http_req;
struct http_resp;

int staff_home(struct http_req *req, struct http_resp *resp);
int staff_login_form(struct http_req *req, struct http_resp *resp);
int staff_login(struct http_req *req, struct http_resp *resp);
int staff_logout(struct http_req *req, struct http_resp *resp);
int staff_patients(struct http_req *req, struct http_resp *resp);
int staff_patients_action(struct http_req *req, struct http_resp *resp);
int staff_patient_new(struct http_req *req, struct http_resp *resp);
int staff_patient_create(struct http_req *req, struct http_resp *resp);
int staff_patient_show(struct http_req *req, struct http_resp *resp);
int staff_patient_edit(struct http_req *req, struct http_resp *resp);
int staff_patient_update(struct http_req *req, struct http_resp *resp);
/* Bulk invite, after the confirmation page the Actions menu shows. */
int staff_bulk_invite(struct http_req *req, struct http_resp *resp);
/* Profile buttons: "Invite to patient portal" / "Reset password", and "Revoke". */
int staff_patient_invite(struct http_req *req, struct http_resp *resp);
int staff_patient_reset(struct http_req *req, struct http_resp *resp);
int staff_invitation_revoke(struct http_req *req, struct http_resp *resp);

/* The admins' "Activity" page (activity.c): the organisation's audit trail. */
int staff_activity(struct http_req *req, struct http_resp *resp);

/* The "Patient portal" page (adoption.c): how many patients are online, invited, not yet. */
int staff_portal_overview(struct http_req *req, struct http_resp *resp);

/* The "Messages" page (messages.c): the organisation's outbox, and an admin's retry of a
 * dead message. */
int staff_messages(struct http_req *req, struct http_resp *resp);
int staff_message_retry(struct http_req *req, struct http_resp *resp);

/* Services and opening hours (services.c): list, add / edit (admins), the hours of one
 * place and "generate slots" (admins); the day view of appointments and the "new
 * appointment" form, offline booking (schedule.c). */
int staff_services(struct http_req *req, struct http_resp *resp);
int staff_service_new(struct http_req *req, struct http_resp *resp);
int staff_service_create(struct http_req *req, struct http_resp *resp);
int staff_service_show(struct http_req *req, struct http_resp *resp);
int staff_service_edit(struct http_req *req, struct http_resp *resp);
int staff_service_update(struct http_req *req, struct http_resp *resp);
int staff_service_hours(struct http_req *req, struct http_resp *resp);
int staff_service_hours_save(struct http_req *req, struct http_resp *resp);
int staff_service_generate(struct http_req *req, struct http_resp *resp);
int staff_appointments(struct http_req *req, struct http_resp *resp);
int staff_appointment_new(struct http_req *req, struct http_resp *resp);
int staff_appointment_create(struct http_req *req, struct http_resp *resp);

/* Message templates and the invitation appendix (templates.c): list, edit, save, reset to
 * the default, preview for a patient (a dry run: writes nothing). Saving is for admins. */
int staff_templates(struct http_req *req, struct http_resp *resp);
int staff_templates_appendix(struct http_req *req, struct http_resp *resp);
int staff_template_edit(struct http_req *req, struct http_resp *resp);
int staff_template_save(struct http_req *req, struct http_resp *resp);
int staff_template_preview(struct http_req *req, struct http_resp *resp);
int staff_template_reset(struct http_req *req, struct http_resp *resp);

/* The Settings page of an organisation's admins (settings.c): the organisation's name,
 * phone and SMS sender name; each owned portal's address, colour, logo, privacy policy,
 * invitation limits and shortest patient password. Anyone else: 403. */
int staff_settings(struct http_req *req, struct http_resp *resp);
int staff_settings_organisation(struct http_req *req, struct http_resp *resp);
int staff_settings_portal(struct http_req *req, struct http_resp *resp);
int staff_settings_times(struct http_req *req, struct http_resp *resp);
int staff_settings_times_save(struct http_req *req, struct http_resp *resp);

/* Recalls (recalls.c): the list, the form (a patient search first), create from the list
 * or from the profile, cancel one not sent yet; and the profile's "New recall" form, put
 * under v's child "recall_form" (0, or negative on a store failure). */
struct store_patient;
struct view;
int staff_recalls(struct http_req *req, struct http_resp *resp);
int staff_recall_new(struct http_req *req, struct http_resp *resp);
int staff_recall_create(struct http_req *req, struct http_resp *resp);
int staff_patient_recall_create(struct http_req *req, struct http_resp *resp);
int staff_recall_cancel(struct http_req *req, struct http_resp *resp);
int staff_recall_profile(struct http_req *req, struct view *v, const struct store_patient *p);

#endif
