/*
 * config: settings with defaults that need no file, then invito.conf
 * (key = value lines, # comments), then INVITO_* environment variables
 * (INVITO_PORT overrides "port"). A bad value or unknown key is one clear
 * error line naming where it came from.
 */
#ifndef INVITO_CONFIG_H
#define INVITO_CONFIG_H

#include <stdint.h>

struct config {
	char *listen;     /* "127.0.0.1" */
	int port;         /* 8080 */
	char *database;   /* "invito.db"; "sqlite:PATH" or a path */
	char *base_url;   /* "http://127.0.0.1:8080": links in messages are built from this only */
	char *transport;  /* "log" | "smtp" | "sms-http" */
	char *locale_dir; /* where it/LC_MESSAGES/invito.mo lives */
	int threads;      /* HTTP thread pool size */
	int workers;      /* password hashing pool size */
	int db_pool;      /* connections */
	int64_t session_idle;     /* seconds, 1800 */
	int64_t session_absolute; /* seconds, 43200 */
	int64_t max_body;         /* bytes, 1 MiB */
	int login_limit;          /* failed sign-ins before a lock, 5 */
	int64_t login_lock;       /* seconds, 900 */
	int secure_cookies;       /* set Secure on cookies (behind TLS) */
	char *log_level;          /* "info" */
	/* payments (src/pay): never logged, never shown */
	char *payment_provider;      /* "sandbox" | "stripe" */
	char *stripe_api_base;       /* "https://api.stripe.com" */
	char *stripe_secret_key;     /* "sk_..."; "" until set */
	char *stripe_webhook_secret; /* "whsec_..."; "" until set */
	int64_t stripe_tolerance;    /* seconds a webhook signature stays valid, 300 */
};

/* Loads defaults, then path (NULL: "invito.conf" if it exists; a given path must exist),
 * then the environment. On error prints one line to stderr and returns -1. */
int config_load(struct config *cfg, const char *path);
/* Sets one key from a string; -1 and a message in err (size n) when bad. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, int n);
void config_free(struct config *cfg);

#endif
