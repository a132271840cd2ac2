/*
 * api: the HTTP API for the clinic's own systems, under /api/v1/. Routes
 * carry HTTP_APIKEY: the server has already checked the organisation's key
 * (req->api_org, req->api_key_id) and the body's size; handlers answer JSON
 * only and act only within req->api_org.
 */
#ifndef INVITO_API_H
#define INVITO_API_H

struct http_req;
struct http_resp;

/* POST /api/v1/appointments: one appointment as a JSON object (api/appointments.c). */
int api_appointment_create(struct http_req *req, struct http_resp *resp);

#endif
