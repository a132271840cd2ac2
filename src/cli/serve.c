/*
 * serve: `invito serve [--port N] [--listen ADDR]`: opens the store (applying
 * migrations), starts the HTTP server and runs until SIGINT or SIGTERM, then
 * stops accepting, lets in-flight requests finish and exits 0. The signals
 * are taken with sigwait() on the main thread (blocked everywhere else), so
 * no work happens inside a signal handler.
 */
#include "cli/cli.h"

#include "app.h"
#include "config.h"
#include "http/http.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pay/pay.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_args(int argc, char **argv, struct config *cfg)
{
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--port") == 0 || strcmp(opt, "--listen") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error("serve", "%s needs a value", opt);
			const char *v = argv[++i];
			if (strcmp(opt, "--port") == 0) {
				int64_t port;
				if (parse_i64(v, 0, 65535, &port) < 0)
					return cli_usage_error(
					    "serve",
					    "--port must be a number from 0 to 65535, not \"%s\"",
					    v);
				cfg->port = (int)port;
			} else {
				unsigned char addr[sizeof(struct in6_addr)];
				if (inet_pton(AF_INET, v, addr) != 1 &&
				    inet_pton(AF_INET6, v, addr) != 1)
					return cli_usage_error(
					    "serve",
					    "--listen must be an IPv4 or IPv6 address, not \"%s\"",
					    v);
				free(cfg->listen);
				cfg->listen = xstrdup(v);
			}
		} else {
			return cli_usage_error("serve",
			                       "unknown option %s (try invito serve --help)", opt);
		}
	}
	return 0;
}

int cli_serve(int argc, char **argv, struct config *cfg)
{
	struct store *st = NULL;
	struct http_server *srv = NULL;
	struct cli_background bg = {0};
	struct app app = {0};
	int rc = 1;
	sigset_t sigs;

	if (parse_args(argc, argv, cfg) != 0)
		return 2;
	/* Blocked before any thread starts, so every thread inherits the mask. */
	cli_block_stop_signals(&sigs);

	if (i18n_init(cfg->locale_dir) < 0)
		log_warn("serve: translations not loaded from %s; pages will be in English",
		         cfg->locale_dir);
	int err = store_open(&st, cfg->database, cfg->db_pool);
	if (err < 0) {
		fprintf(stderr, "invito serve: cannot open the database %s: %s\n", cfg->database,
		        store_strerror(err));
		goto out;
	}
	app.cfg = cfg;
	app.store = st;
	/* pay_create logs the missing setting by name (never its value) */
	if (pay_create(&app.pay, cfg) < 0) {
		fprintf(stderr, "invito serve: the payment provider \"%s\" is not configured\n",
		        cfg->payment_provider ? cfg->payment_provider : "");
		goto out;
	}
	if (http_server_start(&srv, &app) < 0) {
		fprintf(stderr, "invito serve: cannot listen on %s port %d\n", cfg->listen,
		        cfg->port);
		goto out;
	}
	/* The outbox dispatcher and the scheduler of due work (reminders, recalls, payment
	 * requests), each on a thread of its own (dispatcher = false: `invito worker` on another
	 * node, or cron's `invito run-due`, does both instead). Both are safe on several nodes at
	 * once. */
	if (cfg->dispatcher && cli_background_start(&bg, st, cfg, "serve") < 0)
		goto out;
	int v6 = strchr(cfg->listen, ':') != NULL;
	printf("invito listening on http://%s%s%s:%d\n", v6 ? "[" : "", cfg->listen, v6 ? "]" : "",
	       http_server_port(srv));
	fflush(stdout);

	int sig = cli_wait_stop_signal(&sigs);
	log_info("serve: %s received, finishing in-flight requests",
	         sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	cli_background_stop(&bg);
	http_server_stop(srv);
	pay_free(app.pay);
	store_free(st);
	i18n_free();
	return rc;
}
