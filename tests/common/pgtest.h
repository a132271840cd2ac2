/*
 * pgtest: a throwaway PostgreSQL schema per test, for every suite that runs
 * on PostgreSQL (the store unit tests, the HTTP tests, the migrate-to test).
 *
 * INVITO_TEST_PG (set by scripts/pg-test.sh) is a postgresql:// URL to a
 * database where the tests may create schemas. Each test process creates its
 * own schema "invito_t<pid>_<n>" there and reaches it through a URL whose
 * `options=-csearch_path=...` puts it first on the search path, so every table
 * the migrations create lands in it; a schema costs a millisecond where
 * CREATE DATABASE costs 200. Dropping the schema removes everything.
 * Test code only: it talks to libpq directly and never to a server other
 * than the one INVITO_TEST_PG names.
 */
#ifndef INVITO_TEST_PGTEST_H
#define INVITO_TEST_PGTEST_H

#include <stddef.h>

#define PGTEST_NAME_MAX 64

/* The INVITO_TEST_PG URL, or NULL when it is unset or empty (then tests use SQLite). */
const char *pgtest_server(void);

/*
 * Creates a new, empty schema on pgtest_server(): its name goes to name
 * (PGTEST_NAME_MAX bytes) and a store_open() URL that uses it to url (urlsz bytes).
 * Returns 0, or -1 with a message in err (errsz bytes).
 */
int pgtest_schema_create(char *name, char *url, size_t urlsz, char *err, size_t errsz);

/* Drops the schema and everything in it. Returns 0, or -1 with a message in err. */
int pgtest_schema_drop(const char *name, char *err, size_t errsz);

/* Runs one statement without parameters on pgtest_server() (test setup only).
 * Returns 0, or -1 with a message in err. */
int pgtest_admin(const char *sql, char *err, size_t errsz);

#endif
