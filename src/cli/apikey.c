/*
 * apikey: `invito apikey add --org ID --name NAME`, `invito apikey list
 * [--org ID]`, `invito apikey revoke ID`: the organisation keys of the HTTP
 * API (POST /api/v1/appointments). `add` prints the new key once on standard
 * output; only its hash is stored, so a lost key is revoked and replaced,
 * never shown again. Each change is an audit event.
 * It must never print a key other than the one it has just made.
 */
#include "cli/cli.h"
#include "config.h"
#include "http/http.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CMD_NAME "apikey"
#define USAGE    "usage: invito apikey add --org ID --name NAME | list [--org ID] | revoke ID"

/* Reads "--org ID" / "--name NAME" pairs from argv[2..]. 0, or a usage error's exit code. */
static int options(int argc, char **argv, int64_t *org, const char **name)
{
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];
		if (i + 1 >= argc)
			return cli_usage_error(CMD_NAME, "%s needs a value (%s)", opt, USAGE);
		const char *val = argv[++i];
		if (strcmp(opt, "--org") == 0 && org != NULL) {
			if (parse_i64(val, 1, INT64_MAX, org) < 0)
				return cli_usage_error(
				    CMD_NAME, "--org needs an organisation id, not \"%s\"", val);
		} else if (strcmp(opt, "--name") == 0 && name != NULL) {
			*name = val;
		} else {
			return cli_usage_error(CMD_NAME, "unknown option %s (%s)", opt, USAGE);
		}
	}
	return 0;
}

static int key_add(struct store_conn *c, int64_t org, const char *name)
{
	struct arena *a = arena_create();
	struct store_org o;
	char key[HTTP_APIKEY_CHARS + 1];
	unsigned char hash[32];
	int64_t id = 0;
	int ret = 1, rc;

	if (store_org_get(c, org, &o, a) != 0) {
		fprintf(stderr, "invito apikey: no organisation with id %" PRId64 "\n", org);
		goto out;
	}
	http_apikey_new(key, hash);
	if ((rc = store_begin(c)) == 0 &&
	    (rc = store_apikey_add(c, org, name, hash, now_utc(), &id)) == 0 &&
	    (rc = store_audit(c, org, "system", 0, "apikey.create", "api_key", id, NULL, NULL)) ==
	        0)
		rc = store_commit(c);
	if (rc != 0) {
		store_rollback(c);
		fprintf(stderr, "invito apikey: %s\n",
		        rc == STORE_INVALID ? "the name must be 1 to 100 bytes"
		                            : store_strerror(rc));
		goto out;
	}
	/* the key alone on stdout, for scripts; the explanation on stderr */
	printf("%s\n", key);
	fprintf(stderr,
	        "invito apikey: key %" PRId64 " \"%s\" for organisation %" PRId64
	        " (%s). It is shown only now: keep it in the clinic system's secret store.\n",
	        id, name, org, o.name);
	ret = 0;
out:
	sodium_memzero(key, sizeof(key));
	arena_free(a);
	return ret;
}

static const char *when(int64_t t, char buf[32])
{
	if (t == 0)
		return "-";
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%MZ", &tm);
	return buf;
}

static int key_list(struct store_conn *c, int64_t org)
{
	struct arena *a = arena_create();
	struct store_apikey *rows = NULL;
	int n = 0;
	int rc = store_apikey_list(c, org, &rows, &n, a);
	if (rc != 0) {
		fprintf(stderr, "invito apikey: %s\n", store_strerror(rc));
		arena_free(a);
		return 1;
	}
	printf("%-6s %-6s %-17s %-17s %-17s %s\n", "id", "org", "created", "last used", "revoked",
	       "name");
	for (int i = 0; i < n; i++) {
		char b1[32], b2[32], b3[32];
		printf("%-6" PRId64 " %-6" PRId64 " %-17s %-17s %-17s %s\n", rows[i].id,
		       rows[i].org_id, when(rows[i].created_at, b1), when(rows[i].last_used_at, b2),
		       when(rows[i].revoked_at, b3), rows[i].name);
	}
	arena_free(a);
	return 0;
}

static int key_revoke(struct store_conn *c, const char *arg)
{
	int64_t id = 0, org = 0;
	if (parse_i64(arg, 1, INT64_MAX, &id) < 0)
		return cli_usage_error(CMD_NAME, "revoke needs a key id, not \"%s\"", arg);
	int rc = store_scalar(c, &org, "SELECT org_id FROM api_keys WHERE id = ?", "i", id);
	if (rc == 0 && (rc = store_begin(c)) == 0) {
		rc = store_apikey_revoke(c, id, now_utc());
		if (rc == 0)
			rc = store_audit(c, org, "system", 0, "apikey.revoke", "api_key", id, NULL,
			                 NULL);
		if (rc == 0)
			rc = store_commit(c);
		if (rc != 0)
			store_rollback(c);
	}
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "invito apikey: no key with id %" PRId64 "\n", id);
		return 1;
	}
	if (rc == STORE_CONFLICT) {
		printf("key %" PRId64 " was already revoked\n", id);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "invito apikey: %s\n", store_strerror(rc));
		return 1;
	}
	printf("key %" PRId64 " revoked\n", id);
	return 0;
}

int cli_apikey(int argc, char **argv, struct config *cfg)
{
	struct store *st = NULL;
	struct store_conn *c = NULL;
	const char *name = NULL;
	int64_t org = 0;
	int ret = 1;

	if (argc < 2)
		return cli_usage_error(CMD_NAME, USAGE);
	int add = strcmp(argv[1], "add") == 0, list = strcmp(argv[1], "list") == 0;
	int revoke = strcmp(argv[1], "revoke") == 0;
	if (!add && !list && !revoke)
		return cli_usage_error(CMD_NAME, "unknown subcommand %s (%s)", argv[1], USAGE);
	if (revoke && argc != 3)
		return cli_usage_error(CMD_NAME, "usage: invito apikey revoke ID");
	if (!revoke && (ret = options(argc, argv, &org, add ? &name : NULL)) != 0)
		return ret;
	if (add && (org == 0 || name == NULL))
		return cli_usage_error(CMD_NAME, "--org and --name are required (%s)", USAGE);

	int rc = store_open(&st, cfg->database, 1);
	if (rc < 0) {
		fprintf(stderr, "invito apikey: cannot open database %s: %s\n", cfg->database,
		        store_strerror(rc));
		return 1;
	}
	c = store_acquire(st);
	ret = add ? key_add(c, org, name) : list ? key_list(c, org) : key_revoke(c, argv[2]);
	store_release(c);
	store_free(st);
	return ret;
}
