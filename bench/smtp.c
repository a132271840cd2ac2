/*
 * bench/smtp: delivery rate to a local SMTP sink over reused connections.
 *
 *   make B=build all && cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/smtp.c build/libinvito.a \
 *       $(pkg-config --cflags --libs libmicrohttpd sqlite3 libsodium libutf8proc libcurl \
 *       jansson libpq) -lcsv -lzxcvbn -lpthread -o build/bench-smtp && build/bench-smtp [N]
 *
 * Starts tests/smtp/sink.py (python3-aiosmtpd) on 127.0.0.1 and, in the same
 * run, measures N messages three ways:
 *   bare       a tight libcurl loop on one easy handle (the sink's own ceiling)
 *   transport  invito's smtp transport: MIME building + the same connection reuse
 *   dispatcher the whole path: claim from a fresh SQLite outbox, send, record
 * The target is at least 500 messages a second for the dispatcher.
 */
#include "comms/dispatch.h"
#include "comms/outbox.h"
#include "comms/transport.h"
#include "config.h"
#include "lib/log.h"
#include "lib/util.h"
#include "store/store.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char bare_msg[] = "From: <b@bench.test>\r\nTo: <p@example.it>\r\nSubject: bench\r\n"
                               "Message-ID: <x@bench.test>\r\n\r\nHello.\r\n";
static size_t bare_pos;

static size_t bare_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	(void)arg;
	size_t left = sizeof(bare_msg) - 1 - bare_pos,
	       n = size * nmemb < left ? size * nmemb : left;
	memcpy(dst, bare_msg + bare_pos, n);
	bare_pos += n;
	return n;
}

static double bare(const char *url, int n)
{
	CURL *h = curl_easy_init();
	struct curl_slist *rcpt = curl_slist_append(NULL, "<p@example.it>");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, "<b@bench.test>");
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, bare_read);
	int64_t t0 = now_ms();
	for (int i = 0; i < n; i++) {
		bare_pos = 0;
		if (curl_easy_perform(h) != CURLE_OK)
			die("bare: send %d failed", i);
	}
	int64_t ms = now_ms() - t0;
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	return n * 1000.0 / (double)(ms > 0 ? ms : 1);
}

static double transport(const struct config *cfg, int n)
{
	void *st = NULL;
	if (comms_transport_smtp.open(&st, cfg) < 0)
		die("transport: open failed");
	struct comms_msg m = {.kind = "invitation",
	                      .channel = "email",
	                      .recipient = "p@example.it",
	                      .subject = "Invito al portale – Clinica Città",
	                      .body = "Gentile paziente, attivi il suo account: "
	                              "https://portal.example/i/AbCdEf0123456789xyz\nGrazie.",
	                      .sender_name = "Clinica Città",
	                      .created_at = 1};
	struct comms_result r;
	int64_t t0 = now_ms();
	for (int i = 0; i < n; i++) {
		m.id = i + 1;
		if (comms_transport_smtp.send(st, &m, &r) != COMMS_SEND_OK)
			die("transport: send %d failed: %s", i, r.error);
	}
	int64_t ms = now_ms() - t0;
	comms_transport_smtp.close(st);
	return n * 1000.0 / (double)(ms > 0 ? ms : 1);
}

static double dispatcher(struct config *cfg, int n, const char *db)
{
	struct store *st = NULL;
	if (store_open(&st, db, 2) < 0)
		die("dispatcher: cannot open %s", db);
	struct store_conn *c = store_acquire(st);
	int64_t portal, org;
	store_insert(c, &portal,
	             "INSERT INTO portals (name, base_url) VALUES ('P', 'https://p') "
	             "RETURNING id",
	             "");
	store_insert(c, &org,
	             "INSERT INTO organisations (kind, portal_id, name) VALUES "
	             "('customer', ?, 'Clinica Città') RETURNING id",
	             "i", portal);
	store_begin(c);
	for (int i = 0; i < n; i++)
		comms_outbox_add(c, org, 0, "invitation", "email", "p@example.it",
		                 "Invito al portale – Clinica Città",
		                 "Gentile paziente, attivi il suo account: "
		                 "https://portal.example/i/AbCdEf0123456789xyz\nGrazie.",
		                 NULL, 1, NULL);
	store_commit(c);
	store_release(c);
	struct comms_dispatcher *d = NULL;
	if (comms_dispatcher_create(&d, st, cfg) < 0)
		die("dispatcher: create failed");
	struct comms_dispatch_stats stats = {0};
	int64_t t0 = now_ms();
	if (comms_dispatch_drain(d, &stats) < 0 || stats.sent != n)
		die("dispatcher: sent %d of %d", stats.sent, n);
	int64_t ms = now_ms() - t0;
	comms_dispatcher_free(d);
	store_free(st);
	return n * 1000.0 / (double)(ms > 0 ? ms : 1);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3000;
	char dir[] = "/tmp/invito-bench-smtp-XXXXXX", port_file[96], url[64], db[128], cmd[160];
	if (n < 1 || mkdtemp(dir) == NULL)
		die("usage: bench-smtp [N]");
	log_set_level(LOG_WARN);
	snprintf(port_file, sizeof(port_file), "%s/port", dir);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/python3", "python3", "tests/smtp/sink.py", "--dir", dir,
		      "--port-file", port_file, "--count-only", (char *)NULL);
		_exit(127);
	}
	int port = 0;
	for (int i = 0; i < 200 && port == 0; i++) {
		FILE *f = fopen(port_file, "r");
		if (f != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		usleep(50000);
	}
	if (port == 0)
		die("the sink did not start (python3-aiosmtpd?)");
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	snprintf(db, sizeof(db), "%s/bench.db", dir);
	struct config cfg;
	char err[128];
	if (config_load(&cfg, "/dev/null") < 0)
		die("config");
	config_set(&cfg, "transport", "smtp", err, sizeof(err));
	config_set(&cfg, "smtp_url", url, err, sizeof(err));
	config_set(&cfg, "smtp_starttls", "off", err, sizeof(err));
	config_set(&cfg, "smtp_from", "noreply@clinic.example", err, sizeof(err));
	config_set(&cfg, "rate_email_per_sec", "0", err, sizeof(err));
	config_set(&cfg, "dispatch_batch", "500", err, sizeof(err));
	curl_global_init(CURL_GLOBAL_DEFAULT);

	double b = bare(url, n);
	double t = transport(&cfg, n);
	double dsp = dispatcher(&cfg, n, db);
	printf("smtp delivery to a local aiosmtpd sink, %d messages each, one connection:\n", n);
	printf("  bare libcurl loop (sink ceiling)  %8.0f msg/s\n", b);
	printf("  invito smtp transport (MIME)      %8.0f msg/s  (%.0f%% of bare)\n", t,
	       100.0 * t / b);
	printf("  invito dispatcher (SQLite outbox) %8.0f msg/s  (%.0f%% of bare)  target >= 500: "
	       "%s\n",
	       dsp, 100.0 * dsp / b, dsp >= 500 ? "ok" : "MISSED");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return dsp >= 500 ? 0 : 1;
}
