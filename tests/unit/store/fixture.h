/*
 * Shared fixture for the store tests: a fresh SQLite file in its own
 * temporary directory, migrated, with one portal and two customer
 * organisations (ORG_A, ORG_B) so tenant isolation can be checked.
 */
#ifndef INVITO_TEST_STORE_FIXTURE_H
#define INVITO_TEST_STORE_FIXTURE_H

#include "lib/arena.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FX_UNUSED __attribute__((unused))
static char fx_dir[64];
static char fx_path[128];
static FX_UNUSED struct store *fx_store;
static FX_UNUSED struct store_conn *fx_conn;
static FX_UNUSED struct arena *fx_arena;
static FX_UNUSED int64_t ORG_A, ORG_B, PORTAL;

static inline void fx_paths(void)
{
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/invito-store-XXXXXX");
	cr_assert_not_null(mkdtemp(fx_dir));
	snprintf(fx_path, sizeof(fx_path), "%s/t.db", fx_dir);
}

static inline void fx_setup(void)
{
	fx_paths();
	cr_assert_eq(store_open(&fx_store, fx_path, 4), 0);
	fx_conn = store_acquire(fx_store);
	fx_arena = arena_create();
	cr_assert_eq(store_insert(fx_conn, &PORTAL,
	                          "INSERT INTO portals (name, base_url) VALUES (?, ?) RETURNING id",
	                          "tt", "Portal", "https://portal.example"),
	             0);
	cr_assert_eq(store_insert(fx_conn, &ORG_A,
	                          "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                          "('customer', ?, 'Clinic A') RETURNING id",
	                          "i", PORTAL),
	             0);
	cr_assert_eq(store_insert(fx_conn, &ORG_B,
	                          "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                          "('customer', ?, 'Clinic B') RETURNING id",
	                          "i", PORTAL),
	             0);
}

static inline void fx_remove_files(void)
{
	const char *sfx[] = {"", "-wal", "-shm"};
	char p[160];
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", fx_path, sfx[i]);
		unlink(p);
	}
	rmdir(fx_dir);
}

static inline void fx_teardown(void)
{
	store_release(fx_conn);
	fx_conn = NULL;
	store_free(fx_store);
	fx_store = NULL;
	arena_free(fx_arena);
	fx_arena = NULL;
	fx_remove_files();
}

#endif
