-- 005_contact_changes: a patient's own change of e-mail or mobile, pending until
-- confirmed through a link sent to the NEW address (src/portal/account.c),
-- SQLite flavour. The PostgreSQL file migrations/pg/005_contact_changes.sql is
-- the same but for types.
--
-- Until used_at is set the record keeps the old contact. The token is 16
-- random bytes; only its BLAKE2b-256 hash is stored (UNIQUE). A link is valid
-- 24 hours and once; a newer request for the same field revokes older ones.
CREATE TABLE contact_changes (
	id              INTEGER PRIMARY KEY,
	patient_id      INTEGER NOT NULL REFERENCES patients (id),
	account_id      INTEGER NOT NULL REFERENCES accounts (id),
	field           TEXT    NOT NULL CHECK (field IN ('email', 'mobile')),
	new_value       TEXT    NOT NULL,              -- normalised: lower-cased e-mail or E.164
	token_hash      BLOB    NOT NULL UNIQUE,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	used_at         INTEGER,
	revoked_at      INTEGER
);
CREATE INDEX contact_changes_patient ON contact_changes (patient_id, field);
