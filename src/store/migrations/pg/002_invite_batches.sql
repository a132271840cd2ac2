-- 002_invite_batches: one row per bulk-invite form submission, PostgreSQL
-- flavour (the same table as migrations/sqlite/002_invite_batches.sql; read
-- its header). Integers are BIGINT as in 001.
CREATE TABLE invite_batches (
	org_id          BIGINT  NOT NULL REFERENCES organisations (id),
	batch_key       TEXT    NOT NULL,
	staff_id        BIGINT  REFERENCES staff_users (id),
	invited         BIGINT  NOT NULL DEFAULT 0,
	has_account     BIGINT  NOT NULL DEFAULT 0,
	family          BIGINT  NOT NULL DEFAULT 0,
	no_contact      BIGINT  NOT NULL DEFAULT 0,
	recent          BIGINT  NOT NULL DEFAULT 0,
	not_found       BIGINT  NOT NULL DEFAULT 0,
	created_at      BIGINT  NOT NULL,
	PRIMARY KEY (org_id, batch_key)
);
