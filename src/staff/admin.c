/*
 * staff/admin: who may change the organisation's settings, templates, services
 * and messages. The role is read from the database on every request, not from
 * the session, so a demoted admin loses the rights at the next click.
 */
#include "http/http.h"
#include "staff/staff_int.h"
#include "store/store.h"

int staff_is_admin(struct http_req *req)
{
	struct store_staff s;
	if (store_staff_get(req->db, req->session->user_id, &s, req->arena) != 0)
		return 0;
	return s.org_id == req->session->org_id && s.role == STORE_ROLE_ADMIN;
}
