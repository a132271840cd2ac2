/* pending: handlers declared and routed but not written yet. Each moves out of this file when its
 * page is built; the file goes when empty. */
#include "http/http.h"
#include "portal/portal.h"

int portal_invite_form(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_invite_submit(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_invite_resend(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_reset_form(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_reset_submit(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_login_form(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_login(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_logout(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_forgot_form(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_forgot(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_signup_form(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_signup(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}

int portal_dev_outbox(struct http_req *req, struct http_resp *resp)
{
	http_error(req, resp, 404);
	return 0;
}
