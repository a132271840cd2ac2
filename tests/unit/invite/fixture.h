/*
 * Fixture for the invite and comms tests: the store fixture's fresh migrated
 * database (SQLite, or PostgreSQL under scripts/pg-test.sh), with one portal (PORTAL) and two
 * customer organisations (ORG_A, ORG_B), plus helpers to add patients, read the outbox, pull the
 * link token out of the newest message, and count rows. Every test runs at a fixed clock, NOW.
 */
#ifndef INVITO_TEST_INVITE_FIXTURE_H
#define INVITO_TEST_INVITE_FIXTURE_H

#include "invite/account.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The store fixture: SQLite, or a schema of its own on PostgreSQL with INVITO_TEST_PG. */
#include "../store/fixture.h"

#define NOW     ((int64_t)1800000000)
#define PW_HASH "$argon2id$v=19$m=19456,t=2,p=1$fake$fake" /* never verified here */

/* A patient of org; mobile/email may be NULL. Returns its id. */
static FX_UNUSED int64_t ix_patient(int64_t org, const char *given, const char *family,
                                    const char *birth, const char *mobile, const char *email,
                                    const char *lang)
{
	struct store_patient p = {.org_id = org,
	                          .given_name = (char *)given,
	                          .family_name = (char *)family,
	                          .birth_date = (char *)birth,
	                          .mobile = (char *)mobile,
	                          .email = (char *)email,
	                          .lang = (char *)lang};
	cr_assert_eq(store_patient_add(fx_conn, &p), 0);
	return p.id;
}

/* The usual test patient: Giulia D'Amico, mobile and e-mail, Italian. */
static FX_UNUSED int64_t ix_damico(void)
{
	return ix_patient(ORG_A, "Giulia", "D'Amico", "1980-05-17", "+393331234567",
	                  "giulia@example.org", "it");
}

static FX_UNUSED int64_t ix_count(const char *sql, int64_t id)
{
	int64_t n = -1;
	int rc = strchr(sql, '?') ? store_scalar(fx_conn, &n, sql, "i", id)
	                          : store_scalar(fx_conn, &n, sql, "");
	cr_assert_eq(rc, 0, "%s", sql);
	return n;
}

/*
 * The token of the newest message whose body holds `marker` ("/i/" or "/r/"),
 * copied into tok (23 bytes). Fails the test when there is none.
 */
static FX_UNUSED void ix_last_token(const char *marker, char tok[INVITE_TOKEN_CHARS + 1])
{
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s, "SELECT body FROM messages ORDER BY id DESC", ""), 0);
	tok[0] = '\0';
	while (store_step(s) == 1) {
		const char *b = store_col_text(s, 0);
		const char *p = strstr(b, marker);
		if (p == NULL)
			continue;
		memcpy(tok, p + strlen(marker), INVITE_TOKEN_CHARS);
		tok[INVITE_TOKEN_CHARS] = '\0';
		break;
	}
	store_done(s);
	cr_assert_neq(tok[0], '\0', "no message with %s", marker);
}

/* Invites patient id of ORG_A by staff 0 and returns the link's token. */
static FX_UNUSED void ix_invite(int64_t id, int64_t now, char tok[INVITE_TOKEN_CHARS + 1])
{
	struct invite_request r = {.org_id = ORG_A, .patient_id = id, .ignore_recent = 1};
	int64_t inv = 0;
	cr_assert_eq(invite_send(fx_conn, NULL, &r, now, &inv), 0);
	ix_last_token("/i/", tok);
}

#endif
