/* pending: handlers declared and routed but not written yet. Each moves out of this file when its
 * page is built; the file goes when empty. */
#include "http/http.h"
#include "staff/staff.h"

int staff_bulk_invite(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int staff_patient_invite(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int staff_patient_reset(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int staff_invitation_revoke(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}
