/*
 * config: one table of keys with their type, default and field, so the file
 * parser, the environment and `config_set` all share one description.
 */
#include "config.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_STR, K_INT, K_I64, K_BOOL };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	const char *def;
	int64_t min, max;
};

#define F(f) offsetof(struct config, f)

static const struct key keys[] = {
    {"listen", K_STR, F(listen), "127.0.0.1", 0, 0},
    {"port", K_INT, F(port), "8080", 0, 65535},
    {"database", K_STR, F(database), "invito.db", 0, 0},
    {"base_url", K_STR, F(base_url), "http://127.0.0.1:8080", 0, 0},
    {"transport", K_STR, F(transport), "log", 0, 0},
    {"locale_dir", K_STR, F(locale_dir), INVITO_LOCALEDIR, 0, 0},
    {"threads", K_INT, F(threads), "4", 1, 256},
    {"workers", K_INT, F(workers), "2", 1, 64},
    {"db_pool", K_INT, F(db_pool), "8", 1, 64},
    {"session_idle", K_I64, F(session_idle), "1800", 60, 86400 * 30},
    {"session_absolute", K_I64, F(session_absolute), "43200", 60, 86400 * 90},
    {"max_body", K_I64, F(max_body), "1048576", 1024, 256 * 1024 * 1024},
    {"login_limit", K_INT, F(login_limit), "5", 1, 1000},
    {"login_lock", K_I64, F(login_lock), "900", 1, 86400 * 30},
    {"secure_cookies", K_BOOL, F(secure_cookies), "0", 0, 1},
    {"log_level", K_STR, F(log_level), "info", 0, 0},
    {"payment_provider", K_STR, F(payment_provider), "sandbox", 0, 0},
    {"stripe_api_base", K_STR, F(stripe_api_base), "https://api.stripe.com", 0, 0},
    {"stripe_secret_key", K_STR, F(stripe_secret_key), "", 0, 0},
    {"stripe_webhook_secret", K_STR, F(stripe_webhook_secret), "", 0, 0},
    {"stripe_tolerance", K_I64, F(stripe_tolerance), "300", 1, 86400},
    {"dispatcher", K_BOOL, F(dispatcher), "1", 0, 1},
    {"smtp_url", K_STR, F(smtp_url), "", 0, 0},
    {"smtp_user", K_STR, F(smtp_user), "", 0, 0},
    {"smtp_password", K_STR, F(smtp_password), "", 0, 0},
    {"smtp_from", K_STR, F(smtp_from), "noreply@invito.invalid", 0, 0},
    {"smtp_starttls", K_STR, F(smtp_starttls), "auto", 0, 0},
    {"smtp_cafile", K_STR, F(smtp_cafile), "", 0, 0},
    {"sms_url", K_STR, F(sms_url), "", 0, 0},
    {"sms_token", K_STR, F(sms_token), "", 0, 0},
    {"sms_sender", K_STR, F(sms_sender), "invito", 0, 0},
    {"dispatch_batch", K_INT, F(dispatch_batch), "100", 1, 10000},
    {"dispatch_interval_ms", K_INT, F(dispatch_interval_ms), "1000", 10, 3600000},
    {"dispatch_claim_timeout", K_I64, F(dispatch_claim_timeout), "300", 1, 86400},
    {"rate_sms_per_sec", K_INT, F(rate_sms_per_sec), "20", 0, 100000},
    {"rate_email_per_sec", K_INT, F(rate_email_per_sec), "100", 0, 100000},
    {"max_attempts", K_INT, F(max_attempts), "6", 1, 100},
    {"metrics_token", K_STR, F(metrics_token), "", 0, 0},
};

static const struct key *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* 1 when v is an http:// URL of this machine (tests' stand-ins), which may skip TLS. */
static int local_http(const char *v)
{
	return strncmp(v, "http://127.0.0.1:", 17) == 0 || strcmp(v, "http://127.0.0.1") == 0 ||
	       strncmp(v, "http://localhost:", 17) == 0 || strcmp(v, "http://localhost") == 0;
}

#define METRICS_TOKEN_MIN 16

/* metrics_token: empty (off) or a bearer token worth guessing against, one that fits an
 * Authorization header as it is. Its value never goes into err. */
static int check_metrics_token(const char *v, char *err, int n)
{
	if (*v == '\0')
		return 0;
	int ok = strlen(v) >= METRICS_TOKEN_MIN;
	for (const char *p = v; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p != 0x7f;
	if (!ok) {
		snprintf(err, (size_t)n,
		         "metrics_token must be empty (no /metrics) or at least %d characters, "
		         "without spaces or control characters",
		         METRICS_TOKEN_MIN);
		return -1;
	}
	return 0;
}

/* The delivery keys (smtp_*, sms_*): schemes and choices; a password or token never goes
 * into err. */
static int check_delivery(const char *key, const char *v, char *err, int n)
{
	if (strcmp(key, "smtp_url") == 0 && *v != '\0' && strncmp(v, "smtp://", 7) != 0 &&
	    strncmp(v, "smtps://", 8) != 0) {
		snprintf(err, (size_t)n, "smtp_url must start with smtp:// or smtps://");
		return -1;
	}
	if (strcmp(key, "smtp_starttls") == 0 && strcmp(v, "auto") != 0 &&
	    strcmp(v, "required") != 0 && strcmp(v, "off") != 0) {
		snprintf(err, (size_t)n, "smtp_starttls must be auto, required or off");
		return -1;
	}
	if (strcmp(key, "sms_url") == 0 && *v != '\0' && strncmp(v, "https://", 8) != 0 &&
	    !local_http(v)) {
		snprintf(
		    err, (size_t)n,
		    "sms_url must start with https:// (http:// only for 127.0.0.1 or localhost)");
		return -1;
	}
	/* An address or a sender name goes into mail and SMS headers: never a line break. */
	if ((strcmp(key, "smtp_from") == 0 || strcmp(key, "sms_sender") == 0 ||
	     strcmp(key, "smtp_user") == 0) &&
	    strpbrk(v, "\r\n") != NULL) {
		snprintf(err, (size_t)n, "%s must be one line", key);
		return -1;
	}
	if (strcmp(key, "smtp_from") == 0 &&
	    (strchr(v, '@') == NULL || strpbrk(v, "<>\" ,;") != NULL)) {
		snprintf(err, (size_t)n, "smtp_from must be a bare e-mail address (name@domain)");
		return -1;
	}
	return 0;
}

static int check_str(const char *key, const char *v, char *err, int n)
{
	if (strcmp(key, "transport") == 0 && strcmp(v, "log") != 0 && strcmp(v, "smtp") != 0 &&
	    strcmp(v, "sms-http") != 0) {
		snprintf(err, (size_t)n, "transport must be log, smtp or sms-http, not \"%s\"", v);
		return -1;
	}
	if (strcmp(key, "log_level") == 0 && strcmp(v, "debug") != 0 && strcmp(v, "info") != 0 &&
	    strcmp(v, "warn") != 0 && strcmp(v, "error") != 0) {
		snprintf(err, (size_t)n, "log_level must be debug, info, warn or error");
		return -1;
	}
	if (strcmp(key, "base_url") == 0 && strncmp(v, "http://", 7) != 0 &&
	    strncmp(v, "https://", 8) != 0) {
		snprintf(err, (size_t)n, "base_url must start with http:// or https://");
		return -1;
	}
	if (strcmp(key, "base_url") == 0 && v[strlen(v) - 1] == '/') {
		snprintf(err, (size_t)n, "base_url must not end with /");
		return -1;
	}
	if (strcmp(key, "payment_provider") == 0 && strcmp(v, "sandbox") != 0 &&
	    strcmp(v, "stripe") != 0) {
		snprintf(err, (size_t)n, "payment_provider must be sandbox or stripe, not \"%s\"",
		         v);
		return -1;
	}
	/* The secret key travels to this URL: TLS unless the server is on this machine (tests). */
	if (strcmp(key, "stripe_api_base") == 0 && strncmp(v, "https://", 8) != 0 &&
	    strncmp(v, "http://127.0.0.1:", 17) != 0 && strcmp(v, "http://127.0.0.1") != 0 &&
	    strncmp(v, "http://localhost:", 17) != 0 && strcmp(v, "http://localhost") != 0) {
		snprintf(err, (size_t)n,
		         "stripe_api_base must start with https:// "
		         "(http:// only for 127.0.0.1 or localhost)");
		return -1;
	}
	if (strcmp(key, "stripe_api_base") == 0 && v[strlen(v) - 1] == '/') {
		snprintf(err, (size_t)n, "stripe_api_base must not end with /");
		return -1;
	}
	/* Secrets may be empty (the sandbox needs none); their values never go into err. */
	if (strcmp(key, "stripe_secret_key") == 0 || strcmp(key, "stripe_webhook_secret") == 0)
		return 0;
	if (strcmp(key, "metrics_token") == 0)
		return check_metrics_token(v, err, n);
	if (check_delivery(key, v, err, n) < 0)
		return -1;
	/* Delivery settings that may stay empty: a channel without a URL is not sent. */
	static const char *const may_be_empty[] = {"smtp_url",    "smtp_user", "smtp_password",
	                                           "smtp_cafile", "sms_url",   "sms_token"};
	for (size_t i = 0; i < ARRAY_LEN(may_be_empty); i++)
		if (strcmp(key, may_be_empty[i]) == 0)
			return 0;
	if (*v == '\0') {
		snprintf(err, (size_t)n, "%s must not be empty", key);
		return -1;
	}
	return 0;
}

int config_set(struct config *cfg, const char *name, const char *value, char *err, int n)
{
	const struct key *k = find(name);
	if (k == NULL) {
		snprintf(err, (size_t)n, "unknown setting \"%s\"", name);
		return -1;
	}
	char *base = (char *)cfg + k->off;
	int64_t v = 0;
	switch (k->kind) {
	case K_STR:
		if (check_str(name, value, err, n) < 0)
			return -1;
		free(*(char **)base);
		*(char **)base = xstrdup(value);
		return 0;
	case K_BOOL:
		if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 ||
		    strcmp(value, "yes") == 0)
			v = 1;
		else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
		         strcmp(value, "no") == 0)
			v = 0;
		else {
			snprintf(err, (size_t)n, "%s must be true or false, not \"%s\"", name,
			         value);
			return -1;
		}
		*(int *)base = (int)v;
		return 0;
	case K_INT:
	case K_I64:
		if (parse_i64(value, k->min, k->max, &v) < 0) {
			snprintf(err, (size_t)n,
			         "%s must be a whole number from %lld to %lld, not \"%s\"", name,
			         (long long)k->min, (long long)k->max, value);
			return -1;
		}
		if (k->kind == K_INT)
			*(int *)base = (int)v;
		else
			*(int64_t *)base = v;
		return 0;
	}
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct config *cfg, const char *path, int must_exist)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "invito: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[4096], err[256];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			fprintf(stderr, "invito: %s:%d: expected key = value\n", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (config_set(cfg, trim(s), trim(eq + 1), err, sizeof(err)) < 0) {
			fprintf(stderr, "invito: %s:%d: %s\n", path, lineno, err);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

int config_load(struct config *cfg, const char *path)
{
	char err[256];
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (config_set(cfg, keys[i].name, keys[i].def, err, sizeof(err)) < 0)
			die("bad default for %s: %s", keys[i].name, err);
	const char *env_path = getenv("INVITO_CONFIG");
	if (path == NULL && env_path != NULL && *env_path)
		path = env_path;
	if (load_file(cfg, path ? path : "invito.conf", path != NULL) < 0) {
		config_free(cfg);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		char var[64] = "INVITO_";
		size_t j = 7;
		for (const char *p = keys[i].name; *p && j < sizeof(var) - 1; p++)
			var[j++] = (char)toupper((unsigned char)*p);
		var[j] = '\0';
		const char *v = getenv(var);
		if (v == NULL)
			continue;
		if (config_set(cfg, keys[i].name, v, err, sizeof(err)) < 0) {
			fprintf(stderr, "invito: %s: %s\n", var, err);
			config_free(cfg);
			return -1;
		}
	}
	return 0;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (keys[i].kind == K_STR) {
			char **p = (char **)((char *)cfg + keys[i].off);
			free(*p);
			*p = NULL;
		}
}
