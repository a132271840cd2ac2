/*
 * staff/login: staff sign-in and sign-out. Stub for now.
 */
#include "http/http.h"
#include "staff/staff.h"

int staff_home(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_login_form(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_login(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
int staff_logout(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
