-- 002_invite_batches: one row per bulk-invite form submission, SQLite flavour.
--
-- The staff form carries a one-time batch key; invite_bulk() inserts this row
-- first (ON CONFLICT DO NOTHING) in the same transaction as the invitations,
-- so the same form submitted twice invites nobody twice and the second
-- submission reports the first run's numbers. Keys are per organisation.
CREATE TABLE invite_batches (
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	batch_key       TEXT    NOT NULL,
	staff_id        INTEGER REFERENCES staff_users (id),
	invited         INTEGER NOT NULL DEFAULT 0,
	has_account     INTEGER NOT NULL DEFAULT 0,
	family          INTEGER NOT NULL DEFAULT 0,
	no_contact      INTEGER NOT NULL DEFAULT 0,
	recent          INTEGER NOT NULL DEFAULT 0,
	not_found       INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (org_id, batch_key)
);
