/*
 * Tests for store_url_redact() (store.c): database URLs are printed by the
 * commands without the password they may carry.
 */
#include "store/store.h"

#include <criterion/criterion.h>

static const char *redact(const char *url)
{
	static char out[256];
	return store_url_redact(url, out, sizeof(out));
}

Test(store_url, passwords_are_hidden)
{
	cr_expect_str_eq(redact("postgresql://invito:s3cret@db.example:5432/invito"),
	                 "postgresql://invito:***@db.example:5432/invito");
	cr_expect_str_eq(redact("postgres://u:p%40ss@h/db?sslmode=require"),
	                 "postgres://u:***@h/db?sslmode=require");
	cr_expect_str_eq(redact("postgresql://u@h/db?password=x&sslmode=require"),
	                 "postgresql://u@h/db?password=***&sslmode=require");
	cr_expect_str_eq(redact("postgresql://u:a@b@h/db"), "postgresql://u:***@h/db",
	                 "the last @ ends the user info");
}

Test(store_url, everything_else_is_kept)
{
	cr_expect_str_eq(redact("postgresql://invito@127.0.0.1:5432/invito_test"),
	                 "postgresql://invito@127.0.0.1:5432/invito_test");
	cr_expect_str_eq(redact("postgresql:///invito?host=/run/postgresql"),
	                 "postgresql:///invito?host=/run/postgresql");
	cr_expect_str_eq(redact("invito.db"), "invito.db");
	cr_expect_str_eq(redact("sqlite:/var/lib/invito/a:b@c.db"),
	                 "sqlite:/var/lib/invito/a:b@c.db");
	char small[8];
	cr_expect_str_eq(store_url_redact("postgresql://u:p@h/db", small, sizeof(small)), "postgre",
	                 "truncated, still terminated");
}
