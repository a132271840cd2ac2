/*
 * portal: the pages patients see. For now the public home page; the
 * invitation landing, sign-in and appointment pages arrive with their issues.
 */
#ifndef INVITO_PORTAL_H
#define INVITO_PORTAL_H

struct http_req;
struct http_resp;

int portal_home(struct http_req *req, struct http_resp *resp);

#endif
