/*
 * handlers: the server's own routes (health, metrics, static files, language switch).
 */
#ifndef INVITO_HTTP_HANDLERS_H
#define INVITO_HTTP_HANDLERS_H

struct http_req;
struct http_resp;

/* 200 "ok" when the database answers, 503 otherwise. */
int http_healthz(struct http_req *req, struct http_resp *resp);
/* The Prometheus text exposition (metrics.c): request counters and durations, the hashing
 * queue, the outbox counted per state. Aggregates only, nothing of any organisation. */
int http_metrics_scrape(struct http_req *req, struct http_resp *resp);
/* Files under web/static/ from the embedded set, with a long cache lifetime. */
int http_static(struct http_req *req, struct http_resp *resp);
/* Sets the "lang" cookie from form field "lang" and goes back to form field "back"
 * (a local path only). */
int http_lang_switch(struct http_req *req, struct http_resp *resp);

#endif
