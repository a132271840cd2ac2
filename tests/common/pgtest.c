/*
 * pgtest: creates and drops the per-test PostgreSQL schemas (see pgtest.h).
 * Schema names are built from the pid and a counter only, never from input,
 * so pasting them into CREATE/DROP SCHEMA is safe.
 */
#include "pgtest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned seq;

/* DROP SCHEMA ... CASCADE lists every table it drops as a notice: not for test output. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

const char *pgtest_server(void)
{
	const char *u = getenv("INVITO_TEST_PG");
	return u != NULL && *u != '\0' ? u : NULL;
}

int pgtest_admin(const char *sql, char *err, size_t errsz)
{
	int rc = -1;
	PGresult *res = NULL;
	const char *server = pgtest_server();
	if (server == NULL) {
		snprintf(err, errsz, "INVITO_TEST_PG is not set");
		return -1;
	}
	PGconn *pg = PQconnectdb(server);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errsz, "connect: %s", PQerrorMessage(pg));
		goto out;
	}
	PQsetNoticeProcessor(pg, quiet, NULL);
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, errsz, "%s: %s", sql, PQresultErrorMessage(res));
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	PQfinish(pg);
	return rc;
}

int pgtest_schema_create(char *name, char *url, size_t urlsz, char *err, size_t errsz)
{
	const char *server = pgtest_server();
	char sql[PGTEST_NAME_MAX + 32];
	if (server == NULL) {
		snprintf(err, errsz, "INVITO_TEST_PG is not set");
		return -1;
	}
	snprintf(name, PGTEST_NAME_MAX, "invito_t%ld_%u", (long)getpid(), seq++);
	int n = snprintf(url, urlsz, "%s%coptions=-csearch_path%%3D%s", server,
	                 strchr(server, '?') != NULL ? '&' : '?', name);
	if (n < 0 || (size_t)n >= urlsz) {
		snprintf(err, errsz, "URL too long");
		return -1;
	}
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", name);
	return pgtest_admin(sql, err, errsz);
}

int pgtest_schema_drop(const char *name, char *err, size_t errsz)
{
	char sql[PGTEST_NAME_MAX + 48];
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", name);
	return pgtest_admin(sql, err, errsz);
}
