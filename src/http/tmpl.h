/*
 * tmpl: HTML templates embedded in the binary, escaped by default.
 *
 * Syntax (a small Mustache):
 *   {{name}}            value, HTML-escaped; dotted names walk into children
 *   {{{name}}}          value unescaped: only for HTML the code built itself
 *   {{#name}}..{{/name}} a list: once per item; a child: once, inside it;
 *                       a value: once when non-empty and not "0"
 *   {{^name}}..{{/name}} when missing, empty, "0" or an empty list
 *   {{>name}}           another template (partial), same view
 *   {{_ Some text}}     "Some text" through gettext in the request's language
 * Names not found in the current view are looked up in its parents.
 * A template with a syntax error fails at load (tests load them all).
 */
#ifndef INVITO_TMPL_H
#define INVITO_TMPL_H

#include "../lib/buf.h"

#include <stdint.h>

struct arena;
struct view;

struct view *view_new(struct arena *a);
/* Copies value into the arena. NULL value removes nothing and sets "". */
void view_set(struct view *v, const char *key, const char *value);
void view_setf(struct view *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void view_set_int(struct view *v, const char *key, int64_t n);
/* "1" or "" (false), for sections. */
void view_set_bool(struct view *v, const char *key, int b);
/* A nested view under key (created once; later calls return the same). */
struct view *view_child(struct view *v, const char *key);
/* Appends a new item to the list under key and returns it. */
struct view *view_append(struct view *v, const char *key);
const char *view_get(const struct view *v, const char *key);

/* Renders template `name` (path under web/templates/, e.g. "staff/patients.html").
 * lang selects the gettext catalog for {{_ }}. 0 on success, -1 when unknown or failing. */
int tmpl_render(struct buf *out, const char *name, const struct view *v, const char *lang);
/* Parses every embedded template; -1 (and a message naming file and line) on the first error. */
int tmpl_check_all(void);

#endif
