/*
 * store/backend: the seam between the neutral store API (store.c, migrate.c
 * and the domain files) and one database engine (sqlite.c, pg.c).
 *
 * Every backend fills one `struct store_backend` table and lays out its own
 * store, connection and statement structs with the neutral headers below as
 * their first member, so store.c can dispatch without knowing the engine.
 * Backends keep their symbols static: several are linked into one binary and
 * the URL scheme picks one at store_open().
 * Nothing here may be used outside src/store/.
 */
#ifndef INVITO_STORE_BACKEND_H
#define INVITO_STORE_BACKEND_H

#include "store.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct store_backend {
	const char *name; /* "sqlite", "pg": also the migrations folder name */
	/* target is the URL without its scheme; pool is already checked (1..64). */
	int (*open)(struct store **out, const char *target, int pool);
	void (*free)(struct store *st);
	struct store_conn *(*acquire)(struct store *st);
	void (*release)(struct store_conn *c);
	/* Runs a script of several statements without parameters (migrations). */
	int (*script)(struct store_conn *c, const char *sql);
	/*
	 * Takes (lock 1) or gives back (lock 0) a lock that serialises migrations
	 * across processes, held around the whole run. NULL when the engine needs
	 * none (SQLite: each migration's BEGIN IMMEDIATE already excludes others).
	 */
	int (*migrate_lock)(struct store_conn *c, int lock);
	int (*begin)(struct store_conn *c);
	/* store_begin_bulk: NULL when the engine has nothing to skip (begin is used). */
	int (*begin_bulk)(struct store_conn *c);
	int (*commit)(struct store_conn *c);
	void (*rollback)(struct store_conn *c);
	int (*prepare)(struct store_conn *c, struct store_stmt **out, const char *sql);
	/* Binds the next parameters, continuing where the last call stopped. */
	int (*bind)(struct store_stmt *s, const char *types, va_list ap);
	int (*step)(struct store_stmt *s);
	int64_t (*changes)(struct store_stmt *s);
	int64_t (*col_int)(struct store_stmt *s, int col);
	const char *(*col_text)(struct store_stmt *s, int col);
	const void *(*col_blob)(struct store_stmt *s, int col, size_t *len);
	int (*col_is_null)(struct store_stmt *s, int col);
	void (*done)(struct store_stmt *s);
	/* Writes a consistent copy of the database to path while others keep writing
	 * (store_backup in backup.c). NULL when the engine has its own tools (pg_dump). */
	int (*backup)(struct store_conn *c, const char *path);
};

/* The neutral heads: each backend's structs start with these. */
struct store {
	const struct store_backend *be;
	int last_applied; /* migrations applied by the last store_open/store_migrate */
};
struct store_conn {
	const struct store_backend *be;
	struct store *st;
	int busy; /* a statement hit the lock timeout since store_acquire (store_conn_busy) */
	int full; /* a statement found the disk full since store_acquire (store_conn_full) */
};
struct store_stmt {
	const struct store_backend *be;
	struct store_conn *conn; /* set by store_prepare() */
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

/* migrate.c: applies the embedded migrations of st's backend. */
int store_migrate_conn(struct store_conn *c, int *applied);
int store_schema_version_conn(struct store_conn *c, int *version);

#endif
