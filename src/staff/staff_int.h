/*
 * staff_int: helpers shared by the staff pages (patients.c, profile.c) and
 * by nothing else. Not part of the staff module's public interface.
 */
#ifndef INVITO_STAFF_INT_H
#define INVITO_STAFF_INT_H

#include "store/store.h"

struct arena;
struct http_req;
struct view;

/* The translated badge text and CSS class of a portal status. */
const char *staff_status_label(const char *lang, enum store_portal_status s);
const char *staff_status_class(enum store_portal_status s);
/* "YYYY-MM-DD" as "DD/MM/YYYY" (in the arena); anything else unchanged. */
const char *staff_date(const char *iso, struct arena *a);
/* Sets the patient's fields in v (id, href, names, dates, contacts, status, manager). */
void staff_patient_view(struct http_req *req, struct view *v, const struct store_patient *p);

#endif
