/*
 * user: `invito user add --org ID --email E --name N [--role admin|reception]`.
 * The password comes from INVITO_PASSWORD or standard input (asked twice,
 * without echo, when that is a terminal); it is checked with
 * password_acceptable(), hashed with Argon2id and never printed, logged or
 * kept after the hash is made.
 */
#include "cli/cli.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/password.h"
#include "lib/util.h"
#include "lib/validate.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CMD_NAME "user"

#define USAGE "usage: invito user add --org ID --email E --name N [--role admin|reception]"

/* Reads one line from stdin into buf without its newline; no echo on a terminal.
 * 0 on success, -1 at end of input or when the line is too long. */
static int read_secret(const char *prompt, char *buf, size_t n)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO);
	int restore = 0, rc = -1;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			quiet.c_lflag |= ECHONL;
			restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	if (fgets(buf, (int)n, stdin) == NULL)
		goto out;
	size_t len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin))
		goto out; /* longer than the buffer */
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	rc = 0;
out:
	if (restore)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (rc < 0)
		explicit_bzero(buf, n);
	return rc;
}

static int role_from(const char *s, enum store_staff_role *role)
{
	if (strcmp(s, "admin") == 0)
		*role = STORE_ROLE_ADMIN;
	else if (strcmp(s, "reception") == 0)
		*role = STORE_ROLE_RECEPTION;
	else
		return -1;
	return 0;
}

static int user_add(int argc, char **argv, struct config *cfg)
{
	const char *org_arg = NULL, *email = NULL, *name = NULL, *why = NULL;
	enum store_staff_role role = STORE_ROLE_RECEPTION;
	char pw[PASSWORD_MAX_BYTES + 2], again[PASSWORD_MAX_BYTES + 2];
	char hash[PASSWORD_HASH_MAX], lower[256];
	struct store *st = NULL;
	struct store_conn *c = NULL;
	struct arena *a = NULL;
	int64_t org = 0, id = 0;
	int ret = 1;

	pw[0] = again[0] = '\0';
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];
		if (i + 1 >= argc || strncmp(opt, "--", 2) != 0) {
			ret = cli_usage_error(CMD_NAME, "%s needs a value (%s)", opt, USAGE);
			goto out;
		}
		const char *val = argv[++i];
		if (strcmp(opt, "--org") == 0)
			org_arg = val;
		else if (strcmp(opt, "--email") == 0)
			email = val;
		else if (strcmp(opt, "--name") == 0)
			name = val;
		else if (strcmp(opt, "--role") == 0) {
			if (role_from(val, &role) < 0) {
				ret =
				    cli_usage_error(CMD_NAME, "--role must be admin or reception");
				goto out;
			}
		} else {
			ret = cli_usage_error(CMD_NAME, "unknown option %s (%s)", opt, USAGE);
			goto out;
		}
	}
	if (org_arg == NULL || email == NULL || name == NULL) {
		ret =
		    cli_usage_error(CMD_NAME, "--org, --email and --name are required (%s)", USAGE);
		goto out;
	}
	if (parse_i64(org_arg, 1, INT64_MAX, &org) < 0) {
		ret = cli_usage_error(CMD_NAME, "--org needs an organisation id, not \"%s\"",
		                      org_arg);
		goto out;
	}
	size_t elen = strlen(email);
	if (elen >= sizeof(lower)) {
		ret = cli_usage_error(CMD_NAME, "--email: E-mail address is not valid.");
		goto out;
	}
	for (size_t i = 0; i <= elen; i++)
		lower[i] =
		    (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] - 'A' + 'a') : email[i];
	email = lower;
	if (validate_email(email, &why) < 0) {
		ret = cli_usage_error(CMD_NAME, "--email: %s", why);
		goto out;
	}
	if (validate_name(name, &why) < 0) {
		ret = cli_usage_error(CMD_NAME, "--name: %s", why);
		goto out;
	}

	const char *env = getenv("INVITO_PASSWORD");
	if (env != NULL) {
		if (strlen(env) > PASSWORD_MAX_BYTES) {
			fprintf(stderr, "invito user: %s\n", password_strerror(PASSWORD_TOO_LONG));
			goto out;
		}
		memcpy(pw, env, strlen(env) + 1);
	} else {
		if (read_secret("Password: ", pw, sizeof(pw)) < 0) {
			fprintf(stderr, "invito user: no password on standard input (or set "
			                "INVITO_PASSWORD)\n");
			goto out;
		}
		if (isatty(STDIN_FILENO)) {
			if (read_secret("Repeat password: ", again, sizeof(again)) < 0 ||
			    strcmp(pw, again) != 0) {
				fprintf(stderr, "invito user: the passwords do not match\n");
				goto out;
			}
		}
	}
	/* staff passwords: the default minimum (a portal's setting is for its patients) */
	int prc = password_acceptable(pw, PASSWORD_MIN_CHARS_DEFAULT);
	if (prc < 0) {
		char msg[256];
		fprintf(stderr, "invito user: %s\n",
		        password_message(prc, PASSWORD_MIN_CHARS_DEFAULT, "en", msg, sizeof(msg)));
		goto out;
	}

	int rc = store_open(&st, cfg->database, 1);
	if (rc < 0) {
		fprintf(stderr, "invito user: cannot open database %s: %s\n", cfg->database,
		        store_strerror(rc));
		goto out;
	}
	c = store_acquire(st);
	a = arena_create();
	struct store_org o;
	if (store_org_get(c, org, &o, a) < 0) {
		fprintf(stderr, "invito user: no organisation with id %lld\n", (long long)org);
		goto out;
	}
	struct store_staff existing;
	if (store_staff_by_email(c, email, &existing, a) == 0) {
		fprintf(stderr, "invito user: a staff user with that e-mail already exists\n");
		goto out;
	}
	if (password_hash(pw, hash) < 0) {
		fprintf(stderr, "invito user: %s\n", password_strerror(PASSWORD_FAILED));
		goto out;
	}
	rc = store_staff_add(c, org, email, name, hash, role, &id);
	if (rc == STORE_CONFLICT) {
		fprintf(stderr, "invito user: a staff user with that e-mail already exists\n");
		goto out;
	} else if (rc < 0) {
		fprintf(stderr, "invito user: %s\n", store_strerror(rc));
		goto out;
	}
	store_audit(c, org, "system", 0, "staff.create", "staff", id, NULL,
	            role == STORE_ROLE_ADMIN ? "role=admin (cli)" : "role=reception (cli)");
	printf("added staff user %lld (%s, %s) to %s\n", (long long)id, email,
	       role == STORE_ROLE_ADMIN ? "admin" : "reception", o.name);
	ret = 0;
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(again, sizeof(again));
	if (c != NULL)
		store_release(c);
	arena_free(a);
	store_free(st);
	return ret;
}

int cli_user(int argc, char **argv, struct config *cfg)
{
	if (argc < 2)
		return cli_usage_error(CMD_NAME, USAGE);
	if (strcmp(argv[1], "add") == 0)
		return user_add(argc, argv, cfg);
	return cli_usage_error(CMD_NAME, "unknown action %s (%s)", argv[1], USAGE);
}
