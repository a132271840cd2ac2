/*
 * portal/home: the public home page of the patient portal. Stub for now.
 */
#include "http/http.h"
#include "portal/portal.h"

int portal_home(struct http_req *req, struct http_resp *resp) { http_error(req, resp, 404); return 0; }
