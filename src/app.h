/*
 * app: the long-lived state every handler sees. Created by `invito serve`
 * (and by tests), freed at exit.
 */
#ifndef INVITO_APP_H
#define INVITO_APP_H

struct config;
struct pay;
struct store;

struct app {
	struct config *cfg;
	struct store *store;
	struct pay *pay; /* the configured payment provider (pay/pay.h), created with the store */
};

#endif
