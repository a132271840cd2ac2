/*
 * HTTP security tests of abuse (issue 6): oversized requests (body, header, URL, many
 * fields, many headers) answered 413/414/431/400 without a crash; slow requests
 * (slowloris: raw sockets sending a header one byte a second) while others keep being
 * answered within a bound; brute force on an invitation link (locked at 5, while the real
 * patient gets a fresh link), on one account's password (growing delays, then the daily
 * cap of account.h) and from one address across accounts. Every loop is bounded; the
 * network is 127.0.0.1 only.
 */
#include "harness.h"

#include "comms/outbox.h"
#include "invite/account.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

TestSuite(security_abuse, .init = h_start, .fini = h_stop, .timeout = 120);

#define PW     "the patient's own password"
#define WRONG  "not the password at all"
#define FAMILY "Rinaldi"

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct h_client *client_en(void)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	return c;
}

static int64_t count(const char *sql, int64_t a)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int rc = store_scalar(db, &n, sql, "i", a);
	store_release(db);
	cr_assert_eq(rc, 0, "%s: %s", sql, store_strerror(rc));
	return n;
}

/* The server answers /healthz. */
static void alive(const char *after)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/healthz", &r), 200, "not answering after %s", after);
	h_resp_free(&r);
}

static int64_t add_patient(const char *given, const char *family, const char *mobile,
                           const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[0].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.birth_date = "1980-01-01";
	p.mobile = (char *)mobile;
	p.email = (char *)email;
	p.lang = "en";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

/* A patient with an account signing in with login and PW; returns the account id. */
static int64_t add_account(const char *login)
{
	int64_t p = add_patient("Lia", FAMILY, NULL, login);
	char hash[crypto_pwhash_STRBYTES];
	cr_assert_eq(crypto_pwhash_str(hash, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
	                               crypto_pwhash_MEMLIMIT_MIN),
	             0);
	struct store_conn *db = h_db();
	int64_t id = 0;
	int rc = store_insert(db, &id,
	                      "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, "
	                      "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
	                      "iitti", p, H.org[0].portal_id, login, hash, now_utc());
	store_release(db);
	cr_assert_eq(rc, 0);
	return id;
}

/* The token of the newest invitation link in the outbox (malloc'd), or NULL. */
static char *newest_invite_token(void)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	char needle[128];
	snprintf(needle, sizeof(needle), "%s/i/", H.base);
	char *tok = NULL;
	for (int i = 0; i < n && tok == NULL; i++) {
		const char *p = rows[i].body ? strstr(rows[i].body, needle) : NULL;
		if (p != NULL)
			tok = strndup(p + strlen(needle), INVITE_TOKEN_CHARS);
	}
	arena_free(a);
	store_release(db);
	return tok;
}

/* GETs page and POSTs its form (with the page's CSRF token) and the pairs given. */
static long submit(struct h_client *c, const char *page, struct h_resp *r, const char *k1,
                   const char *v1, const char *k2, const char *v2, const char *k3, const char *v3,
                   const char *k4, const char *v4)
{
	h_get(c, page, r);
	const char *t = h_csrf(r);
	char *csrf = strdup(t ? t : h_client_csrf(c));
	h_resp_free(r);
	long st = h_post_form(c, page, r, "csrf", csrf, k1, v1, k2, v2, k3, v3, k4, v4, NULL);
	free(csrf);
	return st;
}

static long login(struct h_client *c, const char *who, const char *pw, struct h_resp *r)
{
	return submit(c, "/login", r, "login", who, "password", pw, "x", "", "y", "");
}

/* --- oversized ------------------------------------------------------------- */

/* Sends raw bytes to the server and returns the status of the answer (0: closed without
 * one). Bounded by a 10 s receive timeout. */
static int raw_status(const char *head, size_t head_len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)H.port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	size_t off = 0;
	while (off < head_len) {
		ssize_t n = send(fd, head + off, head_len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may hang up mid-way: read what it said */
		off += (size_t)n;
	}
	char buf[256] = "";
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	int status = 0;
	if (n > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
		status = atoi(buf + 9);
	return status;
}

Test(security_abuse, oversized_requests_are_refused_without_a_crash)
{
	struct h_client *c = client_en();
	struct h_resp r;
	/* a body past max_body, announced and not announced (chunked) */
	size_t big = (size_t)H.cfg.max_body + 4096;
	char *body = malloc(big + 1);
	memset(body, 'a', big);
	memcpy(body, "csrf=x&q=", 9);
	body[big] = '\0';
	static const char *const posts[] = {"/login", "/staff/login", "/forgot", "/signup",
	                                    "/staff/patients/new"};
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		h_request(c, "POST", posts[i], "application/x-www-form-urlencoded", body, big, NULL,
		          &r);
		cr_expect_eq(r.status, 413, "%s: %ld", posts[i], r.status);
		h_resp_free(&r);
	}
	static const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};
	h_request(c, "POST", "/login", "application/x-www-form-urlencoded", body, big, chunked, &r);
	cr_expect(r.status == 413 || r.status == 0, "chunked: %ld", r.status);
	h_resp_free(&r);
	/* a multipart upload past the limit */
	h_request(c, "POST", "/staff/patients/new", "multipart/form-data; boundary=XyZ", body, big,
	          NULL, &r);
	cr_expect_eq(r.status, 413);
	h_resp_free(&r);
	free(body);
	alive("large bodies");

	/* one header of 200 KB (the connection's memory is 128 KB) */
	size_t hlen = 200 * 1024;
	char *head = malloc(hlen + 256);
	int n = snprintf(head, 256, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
	memset(head + n, 'b', hlen);
	memcpy(head + n + hlen, "\r\n\r\n", 5);
	int st = raw_status(head, strlen(head));
	cr_expect(st == 431 || st == 413 || st == 400 || st == 0, "huge header: %d", st);
	alive("a huge header");
	/* a URL of 200 KB */
	n = snprintf(head, 256, "GET /?q=");
	memset(head + n, 'u', hlen);
	static const char tail[] = " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	memcpy(head + n + hlen, tail, sizeof(tail));
	st = raw_status(head, strlen(head));
	cr_expect(st == 414 || st == 431 || st == 413 || st == 400 || st == 0, "huge URL: %d", st);
	alive("a huge URL");
	/* 5,000 small headers */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "X-H%d: v\r\n", i);
	buf_puts(&b, "\r\n");
	st = raw_status(b.data, b.len);
	cr_expect(st == 431 || st == 413 || st == 400 || st == 200 || st == 0, "headers: %d", st);
	buf_free(&b);
	alive("many headers");
	/* a cookie header of 60 KB of cookies */
	buf_init(&b, 0);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ");
	for (int i = 0; i < 6000; i++)
		buf_printf(&b, "c%d=vvvv; ", i);
	buf_puts(&b, "\r\n\r\n");
	st = raw_status(b.data, b.len);
	cr_expect(st == 431 || st == 413 || st == 400 || st == 200 || st == 0, "cookies: %d", st);
	buf_free(&b);
	alive("many cookies");
	free(head);

	/* many fields inside the limit: answered, and quickly */
	buf_init(&b, 0);
	buf_puts(&b, "csrf=x");
	while (b.len + 16 < (size_t)H.cfg.max_body - 16)
		buf_puts(&b, "&ids=1&a=b");
	double t0 = now_s();
	h_post(c, "/staff/patients/actions", b.data, &r);
	cr_expect(r.status == 303 || r.status == 403, "many fields: %ld", r.status);
	cr_expect_lt(now_s() - t0, 10.0);
	h_resp_free(&r);
	h_staff_signin(c, 0);
	buf_reset(&b);
	buf_printf(&b, "csrf=%s&action=export_csv", h_client_csrf(c));
	while (b.len + 16 < (size_t)H.cfg.max_body - 16)
		buf_puts(&b, "&ids=1");
	t0 = now_s();
	h_post(c, "/staff/patients/actions", b.data, &r);
	cr_expect(r.status > 0 && r.status < 500, "many ids: %ld", r.status);
	cr_expect_lt(now_s() - t0, 10.0);
	h_resp_free(&r);
	buf_free(&b);
	alive("many fields");
}

/* --- slow requests ------------------------------------------------------------ */

#define SLOW_SOCKETS 16
#define SLOW_SECONDS 6

Test(security_abuse, slow_requests_do_not_hold_up_others)
{
	int fds[SLOW_SOCKETS];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)H.port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < SLOW_SOCKETS; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_geq(fds[i], 0);
		cr_assert_eq(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		/* half a request: the server waits for the rest */
		const char *start = i % 2 ? "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
		                          : "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		                            "Content-Length: 100000\r\n\r\ncsrf=";
		cr_assert_gt(send(fds[i], start, strlen(start), MSG_NOSIGNAL), 0);
	}
	struct h_client *c = client_en();
	struct h_resp r;
	double worst = 0;
	int answered = 0;
	for (int sec = 0; sec < SLOW_SECONDS; sec++) {
		/* one byte a second on every slow socket */
		for (int i = 0; i < SLOW_SOCKETS; i++)
			if (fds[i] >= 0 && send(fds[i], "a", 1, MSG_NOSIGNAL) != 1) {
				close(fds[i]);
				fds[i] = -1;
			}
		for (int k = 0; k < 3; k++) {
			double t0 = now_s();
			long st = h_get(c, k == 0 ? "/login" : k == 1 ? "/healthz" : "/", &r);
			double dt = now_s() - t0;
			h_resp_free(&r);
			cr_expect(st == 200, "request %d.%d: %ld", sec, k, st);
			answered += st == 200;
			if (dt > worst)
				worst = dt;
		}
		usleep(1000 * 1000);
	}
	cr_assert_eq(answered, SLOW_SECONDS * 3);
	cr_assert_lt(worst, 2.0, "the slowest normal request took %.2f s", worst);
	/* fresh connections too, not only a kept-alive one */
	for (int k = 0; k < 5; k++) {
		struct h_client *d = h_client();
		double t0 = now_s();
		cr_assert_eq(h_get(d, "/healthz", &r), 200);
		cr_assert_lt(now_s() - t0, 2.0);
		h_resp_free(&r);
	}
	for (int i = 0; i < SLOW_SOCKETS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	alive("slow clients");
}

/* --- brute force: an invitation link ------------------------------------------ */

static long try_name(const char *token, const char *family, struct h_resp *r)
{
	struct h_client *c = client_en(); /* each try from a "new browser": no cookie helps */
	char *path = NULL;
	cr_assert(asprintf(&path, "/i/%s", token) > 0);
	long st = submit(c, path, r, "family_name", family, "password", PW, "password2", PW,
	                 "consent", "1");
	free(path);
	return st;
}

Test(security_abuse, family_name_guesses_lock_the_link_at_five_the_patient_gets_a_new_one)
{
	int64_t p = add_patient("Lia", FAMILY, "+393331234000", "lia@example.test");
	struct store_conn *db = h_db();
	struct invite_request ir = {.org_id = H.org[0].org_id,
	                            .patient_id = p,
	                            .staff_id = H.org[0].staff_id,
	                            .ignore_recent = 1};
	int64_t inv = 0;
	cr_assert_eq(invite_send(db, &H.cfg, &ir, now_utc(), &inv), 0);
	store_release(db);
	char *tok = newest_invite_token();
	cr_assert_not_null(tok);
	static const char *const guesses[] = {"Rossi",   "Russo",  "Ferrari", "Esposito",
	                                      "Bianchi", "Romano", "Colombo", "Ricci"};
	struct h_resp r;
	int locked_at = 0;
	for (int i = 0; i < 8; i++) {
		long st = try_name(tok, guesses[i], &r);
		if (i < 4) {
			cr_expect_eq(st, 200, "guess %d: %ld", i + 1, st);
		} else {
			cr_expect_eq(st, 403, "guess %d: %ld", i + 1, st);
			cr_expect(has(&r, "locked"), "guess %d", i + 1);
			if (locked_at == 0)
				locked_at = i + 1;
		}
		h_resp_free(&r);
	}
	cr_assert_eq(locked_at, 5, "the fifth wrong name locks the link");
	cr_assert_eq(count("SELECT failed_attempts FROM invitations WHERE id = ?", inv), 5,
	             "tries after the lock are not even counted");
	cr_assert_eq(
	    count("SELECT COUNT(*) FROM invitations WHERE id = ? AND state = 'locked'", inv), 1);
	/* the real name on the locked link: refused too */
	cr_assert_eq(try_name(tok, FAMILY, &r), 403);
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM accounts WHERE patient_id = ?", p), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events WHERE action = 'invite.locked' AND "
	                   "subject_id = ?",
	                   inv),
	             1);

	/* the real patient asks for a new link (after the 15-minute gap between links) */
	struct store_conn *d = h_db();
	cr_assert_eq(
	    store_exec(d, NULL,
	               "UPDATE invitations SET created_at = created_at - 1000 WHERE id = ?", "i",
	               inv),
	    0);
	store_release(d);
	struct h_client *c = client_en();
	char *path = NULL;
	cr_assert(asprintf(&path, "/i/%s/resend", tok) > 0);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 200);
	h_resp_free(&r);
	free(path);
	char *fresh = newest_invite_token();
	cr_assert_not_null(fresh);
	cr_assert_str_neq(fresh, tok, "a new link");
	cr_assert_eq(try_name(fresh, FAMILY, &r), 303, "the patient's own name: %ld", r.status);
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM accounts WHERE patient_id = ?", p), 1);
	free(fresh);
	free(tok);
}

Test(security_abuse, a_locked_link_does_not_stop_a_new_invitation_from_staff)
{
	int64_t p = add_patient("Lia", FAMILY, "+393331234001", NULL);
	struct store_conn *db = h_db();
	struct invite_request ir = {.org_id = H.org[0].org_id,
	                            .patient_id = p,
	                            .staff_id = H.org[0].staff_id,
	                            .ignore_recent = 1};
	int64_t inv = 0;
	cr_assert_eq(invite_send(db, &H.cfg, &ir, now_utc(), &inv), 0);
	store_release(db);
	char *tok = newest_invite_token();
	struct h_resp r;
	for (int i = 0; i < 5; i++) {
		try_name(tok, "Wrong", &r);
		h_resp_free(&r);
	}
	cr_assert_eq(
	    count("SELECT COUNT(*) FROM invitations WHERE id = ? AND state = 'locked'", inv), 1);
	/* staff, on the phone with the patient, sends a new one at once */
	struct h_client *s = client_en();
	h_staff_signin(s, 0);
	char *path = NULL;
	cr_assert(asprintf(&path, "/staff/patients/%lld/invite", (long long)p) > 0);
	cr_assert_eq(h_post_form(s, path, &r, "csrf", h_client_csrf(s), "channel", "sms", NULL),
	             303);
	h_resp_free(&r);
	free(path);
	char *fresh = newest_invite_token();
	cr_assert_str_neq(fresh, tok);
	cr_assert_eq(try_name(fresh, FAMILY, &r), 303);
	h_resp_free(&r);
	free(fresh);
	free(tok);
}

/* --- brute force: passwords ----------------------------------------------------- */

/* Tries a wrong password until the answer is 429 (at most max tries); returns the number
 * of tries answered 200 (failures counted) before it. */
static int fail_until_throttled(struct h_client *c, const char *who, int max, long *retry_after)
{
	struct h_resp r;
	for (int i = 0; i < max; i++) {
		long st = login(c, who, WRONG, &r);
		if (st == 429) {
			const char *ra = h_header(&r, "Retry-After");
			*retry_after = ra ? atol(ra) : -1;
			h_resp_free(&r);
			return i;
		}
		cr_assert_eq(st, 200, "try %d: %ld", i + 1, st);
		h_resp_free(&r);
	}
	return max;
}

Test(security_abuse, password_guesses_meet_growing_delays_then_the_daily_cap)
{
	int64_t acct = add_account("lia@example.test");
	struct h_client *c = client_en();
	struct h_resp r;
	long ra = 0;
	/* 4 free failures, the fifth sets a 1 s delay: a 429 by the sixth or seventh try (the
	 * clock's second may turn between two requests) */
	int n = fail_until_throttled(c, "lia@example.test", 8, &ra);
	cr_assert(n >= 5 && n <= 6, "throttled after %d failures", n);
	cr_assert(ra >= 1 && ra <= 2, "Retry-After %ld", ra);
	/* even the right password waits */
	cr_assert_eq(login(c, "lia@example.test", PW, &r), 429);
	cr_assert_null(h_cookie(c, "sid"));
	h_resp_free(&r);
	/* wait it out, fail again: the next delay is longer */
	long prev = ra;
	for (int round = 0; round < 2; round++) {
		usleep((useconds_t)(prev * 1000 * 1000 + 200 * 1000));
		int m = fail_until_throttled(c, "lia@example.test", 3, &ra);
		cr_assert_leq(m, 1, "round %d: %d failures before the next wait", round, m);
		cr_assert_geq(ra, prev, "round %d: the delay grows (%ld after %ld)", round, ra,
		              prev);
		prev = ra;
	}
	cr_assert_geq(prev, 2);
	char key[40];
	snprintf(key, sizeof(key), "acct:%lld", (long long)acct);
	int64_t failures = -1;
	struct store_conn *q = h_db();
	cr_assert_eq(store_scalar(q, &failures, "SELECT failures FROM login_throttle WHERE key = ?",
	                          "t", key),
	             0);
	store_release(q);
	cr_assert_geq(failures, 6);

	/* the day's cap: 99 failures already today, the 100th locks the account for the rest
	 * of the 24-hour window, whatever the password */
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL,
	                        "UPDATE login_throttle SET failures = ?, locked_until = 0 WHERE "
	                        "key = ?",
	                        "it", (int64_t)ACCOUNT_DAY_FAILURES - 1, key),
	             0);
	cr_assert_eq(store_exec(db, NULL, "DELETE FROM login_throttle WHERE key LIKE 'ip:%'", ""),
	             0);
	store_release(db);
	cr_assert_eq(login(c, "lia@example.test", WRONG, &r), 200);
	h_resp_free(&r);
	cr_assert_eq(login(c, "lia@example.test", PW, &r), 429);
	const char *h = h_header(&r, "Retry-After");
	cr_assert_not_null(h);
	cr_assert_gt(atol(h), 20 * 3600, "locked for the rest of the day: %s", h);
	cr_assert_null(h_cookie(c, "sid"));
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events WHERE action = 'account.locked' AND "
	                   "subject_id = ?",
	                   acct),
	             1);
	/* the lock is the account's, not the address's: another account still signs in */
	add_account("other@example.test");
	struct h_client *o = client_en();
	cr_assert_eq(login(o, "other@example.test", PW, &r), 303);
	h_resp_free(&r);
}

Test(security_abuse, one_address_is_limited_across_accounts)
{
	/* 8 accounts, 3 wrong passwords each (under the 4 free per account): the address
	 * reaches its 20 free failures and waits, whichever account it tries next */
	char logins[9][32];
	for (int i = 0; i < 9; i++) {
		snprintf(logins[i], sizeof(logins[i]), "acct%d@example.test", i);
		add_account(logins[i]);
	}
	struct h_client *c = client_en();
	struct h_resp r;
	int failures = 0, first_429 = 0;
	for (int i = 0; i < 8 && first_429 == 0; i++) {
		for (int k = 0; k < 3 && first_429 == 0; k++) {
			long st = login(c, logins[i], WRONG, &r);
			h_resp_free(&r);
			if (st == 429)
				first_429 = failures + 1;
			else
				failures++;
		}
	}
	/* the 21st failure sets the first delay: a 429 on try 22 or 23 (a second may turn) */
	cr_assert(first_429 >= 22 && first_429 <= 23, "first 429 on try %d", first_429);
	/* the untouched account, right password: the address waits */
	cr_assert_eq(login(c, logins[8], PW, &r), 429);
	cr_assert_not_null(h_header(&r, "Retry-After"));
	cr_assert_null(h_cookie(c, "sid"));
	h_resp_free(&r);
	/* unknown logins count for the address too */
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL, "DELETE FROM login_throttle", ""), 0);
	store_release(db);
	failures = 0;
	first_429 = 0;
	for (int i = 0; i < 30 && first_429 == 0; i++) {
		char who[48];
		snprintf(who, sizeof(who), "nobody%d@example.test", i);
		long st = login(c, who, WRONG, &r);
		h_resp_free(&r);
		if (st == 429)
			first_429 = i + 1;
	}
	cr_assert(first_429 >= 22 && first_429 <= 23, "unknown logins: first 429 on try %d",
	          first_429);
}
