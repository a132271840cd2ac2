/*
 * harness: black-box HTTP tests against the REAL server, in-process.
 *
 * Each Criterion test runs in its own process; h_start() (use it as the
 * suite's .init) gives that process a fresh temporary database with all
 * migrations applied (an SQLite file; or, when INVITO_TEST_PG is set, as
 * `make http-pg` does through scripts/pg-test.sh, a PostgreSQL schema of its
 * own on that server), seeds two separate customers (portal + organisation +
 * one staff user each, so organisation isolation can be tested), and starts
 * invito's HTTP server on 127.0.0.1, on a free port. h_stop() (.fini) stops
 * it and deletes the database. Requests go through libcurl; each "client" has
 * its own cookie jar, like one browser.
 *
 *     #include "harness.h"
 *     TestSuite(mine, .init = h_start, .fini = h_stop);
 *
 *     Test(mine, profile_needs_sign_in)
 *     {
 *             struct h_client *c = h_client();
 *             struct h_resp r;
 *             h_get(c, "/staff/patients", &r);
 *             cr_assert_eq(r.status, 303);
 *             cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
 *             h_resp_free(&r);
 *
 *             h_staff_signin(c, 0);                  // staff of org 0, no password round
 *             h_get(c, "/staff/patients", &r);
 *             cr_assert_eq(r.status, 200);
 *             h_post_form(c, "/staff/patients/new", &r,
 *                         "csrf", h_client_csrf(c), "given_name", "Anna", NULL);
 *             h_resp_free(&r);
 *     }
 *
 * To change settings before the server starts, write your own .init:
 *     static void tweak(struct config *cfg) { cfg->max_body = 2048; }
 *     static void init(void) { h_start_with(tweak); }
 *
 * Everything a test gets from the harness (clients, strings from h_header,
 * h_csrf, h_cookie, h_client_csrf) is freed by h_resp_free() or h_stop():
 * tests never free them. The server's own log goes to stderr; set
 * INVITO_TEST_LOG=info to see access lines (default: warnings only).
 */
#ifndef INVITO_TEST_HARNESS_H
#define INVITO_TEST_HARNESS_H

#include "app.h"
#include "config.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define H_ORGS 2

/* One seeded customer. Staff sign in with email and H_STAFF_PASSWORD. */
struct h_org {
	int64_t portal_id, org_id, staff_id;
	char staff_email[64]; /* "staff0@clinic0.test", "staff1@clinic1.test" */
	char name[64];        /* "Clinic 0", "Clinic 1" */
};

#define H_STAFF_PASSWORD "correct horse battery staple"

struct harness {
	struct config cfg;
	struct app app;
	struct store *store;
	struct http_server *srv;
	int port;
	char base[64];      /* "http://127.0.0.1:PORT", also cfg.base_url */
	char dir[64];       /* the temporary directory of the SQLite database ("" on PostgreSQL) */
	char pg_schema[64]; /* with INVITO_TEST_PG: this test's PostgreSQL schema, else "" */
	struct h_org org[H_ORGS];
};

/* The running test's server (valid between h_start and h_stop). */
extern struct harness H;

/* Starts a fresh server (see above). Any failure aborts the test. */
void h_start(void);
/* Same, calling tweak(&H.cfg) after the test defaults and before the server starts. */
void h_start_with(void (*tweak)(struct config *cfg));
/* Stops the server (draining requests), frees every client and response, removes the
 * database. Safe to call twice. */
void h_stop(void);
/* Only stops the server, so its last log lines are written (for log assertions); h_stop()
 * still cleans up afterwards. */
void h_stop_server(void);

/* A database connection for seeding and checks; give it back with store_release(). */
struct store_conn *h_db(void);

/* --- clients and requests ------------------------------------------------ */

struct h_client; /* one browser: a curl handle with its own cookie jar */

struct h_resp {
	long status; /* 0 when the request failed at the transport level */
	char *body;  /* NUL-terminated */
	size_t len;
	char *headers; /* the raw header block of the final response */
	void *priv;    /* the harness's */
};

/* A new client, freed by h_stop(). Redirects are never followed (check 303 + Location). */
struct h_client *h_client(void);

/* GET path ("/x?y=1"). Returns r->status (0 on a transport error). */
long h_get(struct h_client *c, const char *path, struct h_resp *r);
/* POST an application/x-www-form-urlencoded body given ready-encoded ("a=1&b=2"). */
long h_post(struct h_client *c, const char *path, const char *body, struct h_resp *r);
/* POST a form from name, value pairs ending with NULL; values are url-encoded for you. */
long h_post_form(struct h_client *c, const char *path, struct h_resp *r, ...)
    __attribute__((sentinel));
/* POST multipart/form-data from name, value pairs ending with NULL. */
long h_post_multipart(struct h_client *c, const char *path, struct h_resp *r, ...)
    __attribute__((sentinel));
/* One part of h_post_parts: a field (filename NULL: value is text) or a file upload. */
struct h_part {
	const char *name;
	const char *value;    /* the text, or the file's bytes */
	size_t len;           /* a file's length in bytes (0: strlen(value)) */
	const char *filename; /* a file: its name ("" for an empty file input); NULL: a field */
	const char *type;     /* a file's Content-Type, or NULL */
};
/* POST multipart/form-data from n parts, files included (a logo upload). */
long h_post_parts(struct h_client *c, const char *path, struct h_resp *r,
                  const struct h_part *parts, int n);
/*
 * Anything else: method ("GET", "POST", "HEAD", "PUT", ...), content_type (NULL: none),
 * body of len bytes (NULL: none), headers a NULL-terminated list of "Name: value" lines
 * (may be NULL; "Name:" removes a header curl would add, e.g. "Expect:"). The path is sent
 * as given (no "../" squashing), so traversal attempts reach the server.
 */
long h_request(struct h_client *c, const char *method, const char *path, const char *content_type,
               const char *body, size_t len, const char *const *headers, struct h_resp *r);
void h_resp_free(struct h_resp *r);

/* The value of the first response header called name (case-insensitive), or NULL. */
const char *h_header(const struct h_resp *r, const char *name);
/* How many response headers are called name (e.g. Set-Cookie). */
int h_header_count(const struct h_resp *r, const char *name);
/* The value of the first <input name="csrf" value="..."> in the body, or NULL. */
const char *h_csrf(const struct h_resp *r);

/* A cookie in the client's jar, or NULL. */
const char *h_cookie(struct h_client *c, const char *name);
/* Puts a cookie into the client's jar (for 127.0.0.1, path /). */
void h_set_cookie(struct h_client *c, const char *name, const char *value);

/* --- signing in -------------------------------------------------------- */

/* Signs the client in as the staff user of org (0 or 1) by creating a session in the store
 * and putting its "sid" cookie in the jar: quick, no password hashing. */
void h_staff_signin(struct h_client *c, int org);
/* Same for any session: kind STORE_SESSION_PATIENT with a patient id and the portal's
 * customer organisation signs a patient in. */
void h_signin(struct h_client *c, enum store_session_kind kind, int64_t user_id, int64_t org_id);
/* Signs in through the real pages: GET /staff/login, POST email, password and csrf.
 * Returns the status of the POST (303 on success). */
long h_staff_login(struct h_client *c, const char *email, const char *password);
/* The CSRF token this client's forms must carry now: derived from its session after
 * h_staff_signin(), else read from a rendered page (a GET of a 404 page, which also gives a
 * signed-out client its "csrf" cookie). Valid until the next call for this client. */
const char *h_client_csrf(struct h_client *c);
/* What the test's redirected stderr (.init = cr_redirect_stderr) holds so far, the
 * server's log included; the caller frees it. */
char *h_read_stderr(void);
/* n new clients (at most H_BURST_MAX) each open /staff/login, then all post a wrong password
 * at the same moment: status[i] and retry_after[i] (the header present) of each answer. */
#define H_BURST_MAX 30
void h_signin_burst(int n, long *status, int *retry_after);

#endif
