/*
 * staff/patients: manage patients list and bulk actions. Stub for now.
 */
#include "http/http.h"
#include "staff/staff.h"

int staff_patients(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_patients_action(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
