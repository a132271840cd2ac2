/*
 * api/appointments: POST /api/v1/appointments imports one appointment from
 * the clinic's system, with the fields of `invito import appointments`
 * (booking_import does every check for both). Answers:
 *   201 {"id", "external_ref", "status": "created", "payment_request": bool}
 *   200 {"id", "external_ref", "status": "present" | "cancelled"} for a known external_ref
 *   400 {"error", "field"} naming the field at fault (unknown patient, bad date, ...)
 *   415 for a body that is not application/json; 401 and 413 come from the server.
 * A new video consultation with mandatory payment gets its payment request
 * queued right after it committed (dedupe key payreq:ID, as the run-due
 * catch-up uses, so never twice).
 * It must never echo a value it was sent into a response (a field's name at
 * most), nor log one.
 */
#include "api/api.h"

#include "booking/booking.h"
#include "comms/triggers.h"
#include "http/http.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The JSON fields, each bound to its place in struct booking_import_row. */
static const struct {
	const char *name;
	size_t off;
	int number; /* a JSON number is accepted too (read back as text) */
} fields[] = {
    {"external_ref", offsetof(struct booking_import_row, external_ref), 0},
    {"patient", offsetof(struct booking_import_row, patient), 0},
    {"service", offsetof(struct booking_import_row, service), 1},
    {"start", offsetof(struct booking_import_row, start), 0},
    {"duration_min", offsetof(struct booking_import_row, duration_min), 1},
    {"end", offsetof(struct booking_import_row, end), 0},
    {"kind", offsetof(struct booking_import_row, kind), 0},
    {"payment", offsetof(struct booking_import_row, payment), 0},
    {"amount", offsetof(struct booking_import_row, amount), 1},
    {"member", offsetof(struct booking_import_row, member), 1},
    {"status", offsetof(struct booking_import_row, status), 0},
};

/* Sets resp to status with the JSON object o (taken: freed here). */
static int answer(struct http_resp *resp, int status, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return -1;
	resp->status = status;
	resp->content_type = "application/json";
	buf_puts(&resp->body, text);
	buf_puts(&resp->body, "\n");
	free(text);
	return 0;
}

static int invalid(struct http_resp *resp, const char *field, const char *reason)
{
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(reason));
	if (field != NULL)
		json_object_set_new(o, "field", json_string(field));
	return answer(resp, 400, o);
}

/* A field's value as text into the arena; NULL for null. -1 when of the wrong type. */
static int field_text(json_t *v, int number, const char **out, struct arena *a)
{
	*out = NULL;
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		/* a NUL inside would cut the value short: refuse it rather than read half */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return -1;
		*out = arena_strdup(a, json_string_value(v));
		return 0;
	}
	if (number && json_is_integer(v)) {
		*out = arena_printf(a, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	}
	if (number && json_is_real(v)) {
		/* 45.5 reads "45.5"; a third decimal stays visible and money_parse refuses it */
		*out = arena_printf(a, "%.15g", json_real_value(v));
		return 0;
	}
	return -1;
}

static int json_type_ok(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;
	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int api_appointment_create(struct http_req *req, struct http_resp *resp)
{
	struct booking_import_row row;
	struct booking_import_result res;
	json_error_t jerr;
	memset(&row, 0, sizeof(row));

	if (!json_type_ok(http_header(req, "Content-Type"))) {
		json_t *o = json_pack("{s:s}", "error", "send application/json");
		return answer(resp, 415, o);
	}
	json_t *doc = json_loadb(req->body != NULL ? req->body : "", req->body_len,
	                         JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return invalid(resp, NULL, "the body is not valid JSON");
	if (!json_is_object(doc)) {
		json_decref(doc);
		return invalid(resp, NULL, "the body must be one JSON object");
	}
	const char *key;
	json_t *v;
	json_object_foreach(doc, key, v)
	{
		size_t i = 0;
		while (i < ARRAY_LEN(fields) && strcmp(fields[i].name, key) != 0)
			i++;
		if (i == ARRAY_LEN(fields)) {
			/* the key is valid UTF-8 (jansson checked) and goes back JSON-escaped */
			json_t *o = json_pack("{s:s, s:s}", "error", "unknown field", "field", key);
			json_decref(doc);
			return answer(resp, 400, o);
		}
		const char **slot = (const char **)((char *)&row + fields[i].off);
		if (field_text(v, fields[i].number, slot, req->arena) != 0) {
			json_decref(doc);
			return invalid(resp, fields[i].name,
			               fields[i].number ? "must be a string or a number"
			                                : "must be a string");
		}
	}
	json_decref(doc);

	struct booking_import_source src = {
	    .via = "api", .api_key_id = req->api_key_id, .ip = req->ip};
	int64_t now = now_utc();
	int rc = booking_import(req->db, req->api_org, &row, &src, now, &res, req->arena);
	if (rc == BOOKING_INVALID)
		return invalid(resp, res.field, res.reason);
	if (rc != 0)
		return -1; /* 503 when the database was busy, else 500 */

	int queued = 0;
	if (res.outcome == BOOKING_IMPORT_CREATED && booking_needs_payment_request(&res.appt) &&
	    comms_trigger_payment_request(req->db, res.appt.id, now, &queued) != 0)
		log_warn("api: payment request for appointment %" PRId64 " left to run-due",
		         res.appt.id);
	const char *status = res.outcome == BOOKING_IMPORT_CREATED     ? "created"
	                     : res.outcome == BOOKING_IMPORT_CANCELLED ? "cancelled"
	                                                               : "present";
	json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)res.appt.id, "external_ref",
	                      row.external_ref, "status", status);
	if (res.outcome == BOOKING_IMPORT_CREATED)
		json_object_set_new(o, "payment_request", json_boolean(queued));
	return answer(resp, res.outcome == BOOKING_IMPORT_CREATED ? 201 : 200, o);
}
