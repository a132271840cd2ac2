-- 005_contact_changes: a patient's own change of e-mail or mobile, pending until
-- confirmed through a link sent to the NEW address (src/portal/account.c),
-- PostgreSQL flavour of migrations/sqlite/005_contact_changes.sql.
--
-- Until used_at is set the record keeps the old contact. The token is 16
-- random bytes; only its BLAKE2b-256 hash is stored (UNIQUE). A link is valid
-- 24 hours and once; a newer request for the same field revokes older ones.
CREATE TABLE contact_changes (
	id              BIGSERIAL PRIMARY KEY,
	patient_id      BIGINT  NOT NULL REFERENCES patients (id),
	account_id      BIGINT  NOT NULL REFERENCES accounts (id),
	field           TEXT    NOT NULL CHECK (field IN ('email', 'mobile')),
	new_value       TEXT    NOT NULL,              -- normalised: lower-cased e-mail or E.164
	token_hash      BYTEA   NOT NULL UNIQUE,
	created_at      BIGINT  NOT NULL,
	expires_at      BIGINT  NOT NULL,
	used_at         BIGINT,
	revoked_at      BIGINT
);
CREATE INDEX contact_changes_patient ON contact_changes (patient_id, field);
