/*
 * staff/profile: patient profile, add and edit. Stub for now.
 */
#include "http/http.h"
#include "staff/staff.h"

int staff_patient_new(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_patient_create(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_patient_show(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_patient_edit(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_patient_update(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
