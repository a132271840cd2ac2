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
	/* delivery (src/comms/dispatch.c): passwords and tokens never logged, never shown */
	int dispatcher;      /* `serve` runs the outbox dispatcher thread, on */
	char *smtp_url;      /* "" (e-mail not sent) | "smtp://host:port" | "smtps://host:port" */
	char *smtp_user;     /* "": no AUTH */
	char *smtp_password; /* "" */
	char *smtp_from;     /* envelope and From address, "noreply@invito.invalid" */
	char *smtp_starttls; /* "auto" | "required" | "off" (smtp:// only) */
	char *smtp_cafile;   /* CA bundle for the SMTP server's certificate; "": the system's */
	char *sms_url;       /* "" (SMS not sent) | the gateway's https:// endpoint */
	char *sms_token;     /* sent as "Authorization: Bearer TOKEN"; "" */
	char *sms_sender;    /* default SMS sender, "invito" (an organisation may set its own) */
	int dispatch_batch;  /* messages claimed per pass, 100 */
	int dispatch_interval_ms; /* pause between passes when idle, 1000 */
	/* seconds before a 'sending' claim counts as crashed, 300 */
	int64_t dispatch_claim_timeout;
	int rate_sms_per_sec;   /* per node; 0: unlimited; 20 */
	int rate_email_per_sec; /* per node; 0: unlimited; 100 */
	int max_attempts;       /* sends tried before a message is dead, 6 */
	/* operator: GET /metrics answers only "Authorization: Bearer <metrics_token>"; "" (the
	 * default) turns the route off (404). Never logged, never shown */
	char *metrics_token;
};

/* Loads defaults, then path (NULL: "invito.conf" if it exists; a given path must exist),
 * then the environment. On error prints one line to stderr and returns -1. */
int config_load(struct config *cfg, const char *path);
/* Sets one key from a string; -1 and a message in err (size n) when bad. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, int n);
void config_free(struct config *cfg);

#endif
