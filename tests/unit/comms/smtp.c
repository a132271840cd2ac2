/*
 * Tests of src/comms/transport_smtp.c and mime.c against a REAL SMTP server:
 * tests/smtp/sink.py (Debian's python3-aiosmtpd) on 127.0.0.1, started per
 * test. They check what arrives (headers, the RFC 2047 subject, the UTF-8
 * text and HTML, the link, the Message-ID), that one connection carries many
 * messages, that nothing arrives twice, and the faults: a 550 (dead with the
 * reason, the rest still sent), the server down then up (every message once),
 * STARTTLS with AUTH (a throwaway self-signed certificate), header injection,
 * and `invito run-due` killed with SIGKILL mid-batch then run again.
 */
#include "dispatch_fixture.h"

#include "../../smtp/sink.h"
#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/util.h"

#include <fcntl.h>
#include <time.h>

static struct sink S;

/* A failed assertion skips the test's own sink_stop(): stop it here in any case. */
static void smtp_teardown(void)
{
	if (S.dir[0] != '\0')
		sink_stop(&S);
	dq_teardown();
}

TestSuite(smtp, .init = dq_setup, .fini = smtp_teardown, .timeout = 60);

static void use_sink(const char *const *extra)
{
	sink_start(&S, extra);
	dq_set("transport", "smtp");
	dq_set("smtp_url", S.url);
	dq_set("smtp_starttls", "off");
}

/* text with CRLF turned into LF, in fx_arena */
static const char *lf(const char *s)
{
	char *o = arena_strdup(fx_arena, s), *w = o;
	for (const char *p = s; *p; p++)
		if (*p != '\r')
			*w++ = *p;
	*w = '\0';
	return o;
}

#define SUBJECT "Invito al portale – Clinica Città: attiva l'account di Nicolò D'Amico oggi stesso"
#define BODY                                                                                       \
	"Gentile Nicolò,\n"                                                                       \
	"attiva il tuo account: https://portal.example/i/AbC_123-x?next=/appointments/7/pay.\n"    \
	".una riga che comincia con un punto\n"                                                    \
	"Prezzo: 50 € = cinquanta euro; <b>non</b> è HTML.   \n"                                \
	"Una riga molto lunga che supera di gran lunga i settantasei caratteri del "               \
	"quoted-printable "                                                                        \
	"e va spezzata.\n"

Test(smtp, what_arrives)
{
	use_sink(NULL);
	int64_t id = dq_add(ORG_A, "email", "paziente@example.it", SUBJECT, BODY);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE organisations SET sender_name = ? WHERE id = ?", "ti",
	                        "Studio Città, \"Centro\"", ORG_A),
	             0);
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	json_t *got = sink_messages(&S);
	cr_assert_eq(json_array_size(got), 1);
	char mid[128];
	snprintf(mid, sizeof(mid), "<invito-%lld-%lld@clinic.example>", (long long)id,
	         (long long)(DQ_NOW - 10));
	cr_assert_str_eq(sink_str(got, 0, "message_id"), mid);
	cr_assert_str_eq(dq_text(id, "provider_ref"), mid);
	cr_assert_str_eq(dq_text(id, "state"), "sent");
	cr_assert_str_eq(sink_str(got, 0, "subject"), SUBJECT);
	cr_assert(strncmp(sink_str(got, 0, "raw_subject"), "Subject: =?UTF-8?B?", 19) == 0);
	cr_assert_str_eq(sink_str(got, 0, "mail_from"), "noreply@clinic.example");
	cr_assert_str_eq(sink_str(got, 0, "from"),
	                 "\"Studio Città, \\\"Centro\\\"\" <noreply@clinic.example>");
	cr_assert_str_eq(sink_str(got, 0, "to"), "paziente@example.it");
	cr_assert_neq(strlen(sink_str(got, 0, "date")), 0);
	cr_assert_str_eq(lf(sink_str(got, 0, "text")), BODY);
	const char *html = sink_str(got, 0, "html");
	cr_assert(strstr(html, "<a href=\"https://portal.example/i/AbC_123-x?next=/appointments/7/"
	                       "pay\">") != NULL,
	          "%s", html);
	cr_assert(strstr(html, "&lt;b&gt;non&lt;/b&gt; è HTML") != NULL, "%s", html);
	cr_assert(strstr(html, "<b>") == NULL);
	/* every line of the raw message is 7-bit and at most 78 characters + CRLF */
	char path[128], line[1024];
	snprintf(path, sizeof(path), "%s/00001.eml", S.dir);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		cr_assert_leq(strlen(line), 80, "%s", line);
		for (char *p = line; *p; p++)
			cr_assert_lt((unsigned char)*p, 0x80, "%s", line);
	}
	fclose(f);
	json_decref(got);
	sink_stop(&S);
}

Test(smtp, one_connection_many_messages_none_twice)
{
	use_sink(NULL);
	for (int i = 0; i < 60; i++)
		dq_add(ORG_A, "email", "p@example.it", "S", "B");
	dq_set("dispatch_batch", "25");
	struct comms_dispatcher *d = dq_dispatcher();
	struct comms_dispatch_stats st = {0};
	while (comms_dispatch_pass(d, DQ_NOW, &st) > 0)
		;
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 86400, &st), 0);
	comms_dispatcher_free(d);
	json_t *got = sink_messages(&S);
	cr_assert_eq(json_array_size(got), 60);
	cr_assert_eq(st.sent, 60);
	cr_assert_eq(sink_connections(got), 1, "one connection for every message and pass");
	for (size_t i = 0; i < 60; i++)
		for (size_t j = i + 1; j < 60; j++)
			cr_assert_str_neq(sink_str(got, i, "message_id"),
			                  sink_str(got, j, "message_id"));
	json_decref(got);
	sink_stop(&S);
}

Test(smtp, permanent_550_is_dead_and_the_rest_still_go)
{
	const char *const args[] = {"--reject", "nobody", NULL};
	use_sink(args);
	int64_t a = dq_add(ORG_A, "email", "first@example.it", "S", "B");
	int64_t bad = dq_add(ORG_A, "email", "nobody@example.it", "S", "secret body");
	int64_t c = dq_add(ORG_A, "email", "last@example.it", "S", "B");
	int64_t inval = dq_add(ORG_A, "email", "x@y@z", "S", "B");
	struct comms_dispatcher *d = dq_dispatcher();
	struct comms_dispatch_stats st = {0};
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, &st), 4);
	comms_dispatcher_free(d);
	cr_assert_str_eq(dq_text(bad, "state"), "dead");
	const char *err = dq_text(bad, "last_error");
	cr_assert(strstr(err, "550") != NULL, "%s", err);
	cr_assert(strstr(err, "secret") == NULL);
	cr_assert_str_eq(dq_text(inval, "state"), "dead");
	cr_assert_str_eq(dq_text(inval, "last_error"), "not a valid e-mail address");
	cr_assert_str_eq(dq_text(a, "state"), "sent");
	cr_assert_str_eq(dq_text(c, "state"), "sent");
	json_t *got = sink_messages(&S);
	cr_assert_eq(json_array_size(got), 2);
	cr_assert_str_eq(sink_str(got, 1, "to"), "last@example.it");
	json_decref(got);
	sink_stop(&S);
}

Test(smtp, server_down_then_up_every_message_once)
{
	char url[64];
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", sink_dead_port());
	dq_set("transport", "smtp");
	dq_set("smtp_url", url);
	dq_set("smtp_starttls", "off");
	for (int i = 0; i < 20; i++)
		dq_add(ORG_A, "email", "p@example.it", "S", "B");
	struct comms_dispatcher *d = dq_dispatcher();
	struct comms_dispatch_stats st = {0};
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, &st), 20);
	cr_assert_eq(st.sent, 0);
	cr_assert_eq(st.retried, 1);
	cr_assert_eq(st.released, 19);
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 30, NULL), 0); /* everything waits */
	comms_dispatcher_free(d);
	/* the server comes up where the configuration says */
	use_sink(NULL);
	d = dq_dispatcher();
	memset(&st, 0, sizeof(st));
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 63, &st), 20);
	cr_assert_eq(st.sent, 20);
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW + 86400, NULL), 0);
	comms_dispatcher_free(d);
	json_t *got = sink_messages(&S);
	cr_assert_eq(json_array_size(got), 20);
	cr_assert_eq(dq_count("sent"), 20);
	json_decref(got);
	sink_stop(&S);
}

Test(smtp, starttls_and_auth)
{
	char dir[64] = "/tmp/invito-cert-XXXXXX", cmd[512], cert[96], key[96];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
	         "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
	         key, cert);
	cr_assert_eq(system(cmd), 0);
	const char *const args[] = {"--tls", cert, key, "--auth", "clinic:s3cret pw", NULL};
	use_sink(args);
	dq_set("smtp_starttls", "required");
	dq_set("smtp_cafile", cert);
	dq_set("smtp_user", "clinic");
	dq_set("smtp_password", "s3cret pw");
	dq_add(ORG_A, "email", "p@example.it", "S", "B");
	dq_add(ORG_A, "email", "q@example.it", "S", "B");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 2);
	comms_dispatcher_free(d);
	json_t *got = sink_messages(&S);
	cr_assert_eq(json_array_size(got), 2);
	cr_assert(json_is_true(json_object_get(json_array_get(got, 0), "tls")));
	cr_assert_str_eq(sink_str(got, 0, "auth"), "clinic");
	json_decref(got);
	/* a wrong password: nothing sent, retried later, the password never in last_error */
	dq_set("smtp_password", "wrong");
	int64_t x = dq_add(ORG_A, "email", "r@example.it", "S", "B");
	d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 1);
	comms_dispatcher_free(d);
	cr_assert_str_eq(dq_text(x, "state"), "failed");
	cr_assert(strstr(dq_text(x, "last_error"), "wrong") == NULL);
	sink_stop(&S);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(smtp, no_header_injection)
{
	use_sink(NULL);
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE organisations SET sender_name = ? WHERE id = ?", "ti",
	                        "Clinic\r\nBcc: evil@example.org", ORG_A),
	             0);
	int64_t a = dq_add(ORG_A, "email", "p@example.it", "Hi\r\nBcc: evil@example.org", "B");
	int64_t b = dq_add(ORG_A, "email", "p@example.it\r\nRCPT TO:<evil@example.org>", "S", "B");
	struct comms_dispatcher *d = dq_dispatcher();
	cr_assert_eq(comms_dispatch_pass(d, DQ_NOW, NULL), 2);
	comms_dispatcher_free(d);
	cr_assert_str_eq(dq_text(a, "state"), "sent");
	cr_assert_str_eq(dq_text(b, "state"), "dead");
	json_t *got = sink_messages(&S);
	cr_assert_eq(json_array_size(got), 1);
	cr_assert_str_eq(sink_str(got, 0, "bcc"), "");
	cr_assert_eq(json_array_size(json_object_get(json_array_get(got, 0), "rcpt")), 1);
	cr_assert_str_eq(sink_str(got, 0, "subject"), "Hi  Bcc: evil@example.org");
	json_decref(got);
	sink_stop(&S);
}

/* --- SIGKILL mid-batch ---------------------------------------------------------------- */

/* `invito run-due` in a child process on the test's database and sink: the binary named by
 * INVITO_BIN when set (make sets it), else the same code (cli_run_due) in a forked child. */
static pid_t run_due_child(const char *claim_timeout)
{
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid != 0)
		return pid;
	setenv("INVITO_DATABASE", fx_url, 1);
	setenv("INVITO_TRANSPORT", "smtp", 1);
	setenv("INVITO_SMTP_URL", S.url, 1);
	setenv("INVITO_SMTP_STARTTLS", "off", 1);
	setenv("INVITO_SMTP_FROM", "noreply@clinic.example", 1);
	setenv("INVITO_DISPATCH_BATCH", "10", 1);
	setenv("INVITO_RATE_EMAIL_PER_SEC", "0", 1);
	setenv("INVITO_DISPATCH_CLAIM_TIMEOUT", claim_timeout, 1);
	setenv("INVITO_LOG_LEVEL", "warn", 1);
	int null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	const char *bin = getenv("INVITO_BIN");
	if (bin != NULL && *bin) {
		execl(bin, bin, "run-due", (char *)NULL);
		_exit(127);
	}
	struct config cfg;
	if (config_load(&cfg, "/dev/null") < 0)
		_exit(2);
	char *argv[] = {"run-due", NULL};
	_exit(cli_run_due(1, argv, &cfg));
}

Test(smtp, sigkill_mid_batch_loses_nothing, .timeout = 120)
{
	enum { N = 40 };
	const char *const args[] = {"--delay", "0.05", NULL};
	use_sink(args);
	for (int i = 0; i < N; i++)
		dq_add(ORG_A, "email", "p@example.it", "S", "B");
	pid_t pid = run_due_child("300");
	json_t *got = NULL;
	for (int i = 0; i < 400; i++) { /* until a few have arrived */
		json_decref(got);
		got = sink_messages(&S);
		if (json_array_size(got) >= 8)
			break;
		usleep(10000);
	}
	cr_assert_geq(json_array_size(got), 8);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFSIGNALED(status));
	json_decref(got);
	int64_t stuck = dq_count("sending");
	cr_assert_gt(stuck, 0, "the kill left claimed rows behind");
	/* restarted with the same claim timeout: the crashed claims are not yet stale */
	pid = run_due_child("300");
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(dq_count("sending"), stuck);
	/* once the claims are stale they are sent again, with the same Message-ID */
	sleep(2);
	pid = run_due_child("1");
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(dq_count("sent"), N);
	got = sink_messages(&S);
	size_t total = json_array_size(got);
	/* nothing lost: every message's id arrived; a copy only for the one in flight at the kill
	 */
	int distinct = 0;
	for (size_t i = 0; i < total; i++) {
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(sink_str(got, i, "message_id"),
			               sink_str(got, j, "message_id")) == 0;
		distinct += !seen;
	}
	cr_assert_eq(distinct, N);
	/* copies only of rows the kill left 'sending' (sent, not yet recorded: the in-flight
	 * message and at most one group commit), all with their first Message-ID */
	cr_assert_leq(total, (size_t)(N + stuck), "%zu deliveries for %d messages", total, N);
	json_decref(got);
	sink_stop(&S);
}
