-- 010_outbox_checks: the two tables a bulk invite writes, made cheaper to
-- write, SQLite flavour (migrations/pg/010_outbox_checks.sql does the part
-- that applies there).
--
-- * CHECK (x IN ('a', 'b', 'c')) costs SQLite a temporary b-tree built and
--   thrown away for every row written: inside a CHECK constraint the IN list
--   is not built once per statement (3.40 codes it without OP_Once), so each
--   INSERT or UPDATE of an invitation built two and each message one. With
--   100,000 invitations that was half of the time of a bare INSERT (bench/
--   bulk_invite: 2.2 s before, 1.1 s after). The same rules are written here
--   as chains of '=' (two values stay IN: SQLite compares those inline).
--   A CHECK cannot be altered in SQLite, so both tables are rebuilt (same
--   columns in the same order, same ids); messages first, because
--   invitations.created_by_message refers to it, and the old invitations are
--   dropped before the old messages so that no row refers to a dropped table.
-- * invitations_org_created (org_id, created_at) and messages_patient
--   (patient_id) are dropped: no query reads invitations by organisation and
--   time or messages by patient (patients are never deleted either), and
--   every invitation and message written paid for them.
-- * dedupe_key was a UNIQUE column, so its index held an entry for every
--   message, NULL keys included; only trigger messages (reminders, recalls,
--   payment requests) have a key, and a bulk invite of 100,000 patients wrote
--   133,334 NULL entries into it. The partial index messages_dedupe holds the
--   keyed rows only and enforces the same rule (any number of NULLs, each key
--   once). An upsert names it by its predicate: ON CONFLICT (dedupe_key)
--   WHERE dedupe_key IS NOT NULL (comms/outbox.c); a lookup "dedupe_key = ?"
--   implies IS NOT NULL, so it still uses the index.
CREATE TABLE messages_new (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	patient_id      INTEGER REFERENCES patients (id),
	kind            TEXT    NOT NULL,
	channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
	recipient       TEXT    NOT NULL,
	subject         TEXT,
	body            TEXT    NOT NULL,
	state           TEXT    NOT NULL DEFAULT 'queued'
			CHECK (state = 'queued' OR state = 'sending' OR state = 'sent' OR
			       state = 'failed' OR state = 'dead'),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT,
	dedupe_key      TEXT,
	appointment_id  INTEGER REFERENCES appointments (id),
	recall_id       INTEGER REFERENCES recalls (id),
	provider_ref    TEXT,                          -- gateway/SMTP id of the sent message
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	sent_at         INTEGER,
	claimed_by      TEXT,                          -- dispatcher id (host:pid)
	claimed_at      INTEGER
);
INSERT INTO messages_new SELECT * FROM messages;

CREATE TABLE invitations_new (
	id              INTEGER PRIMARY KEY,
	patient_id      INTEGER NOT NULL REFERENCES patients (id),
	portal_id       INTEGER NOT NULL REFERENCES portals (id),
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	token_hash      BLOB    NOT NULL UNIQUE,
	created_by_staff INTEGER REFERENCES staff_users (id),
	created_by_message INTEGER REFERENCES messages_new (id), -- "messages" after the rename
	channel         TEXT    CHECK (channel = 'sms' OR channel = 'email' OR channel = 'both'),
	target          TEXT,                          -- portal path to land on, e.g. /appointments/7/pay
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	opened_at       INTEGER,
	accepted_at     INTEGER,
	revoked_at      INTEGER,
	locked_at       INTEGER,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	state           TEXT    NOT NULL DEFAULT 'pending'
			CHECK (state = 'pending' OR state = 'accepted' OR state = 'expired' OR
			       state = 'revoked' OR state = 'locked'),
	account_id      INTEGER REFERENCES accounts (id) -- set when accepted
);
INSERT INTO invitations_new SELECT * FROM invitations;

DROP TABLE invitations;
DROP TABLE messages;
-- RENAME also rewrites invitations_new's reference to messages_new.
ALTER TABLE messages_new RENAME TO messages;
ALTER TABLE invitations_new RENAME TO invitations;

CREATE INDEX messages_due ON messages (state, next_attempt_at);
CREATE INDEX messages_org ON messages (org_id, id);
CREATE INDEX invitations_patient ON invitations (patient_id, state, expires_at);
CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key IS NOT NULL;
