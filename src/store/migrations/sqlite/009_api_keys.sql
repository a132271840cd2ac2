-- 009_api_keys: organisation API keys for POST /api/v1/appointments, SQLite
-- flavour. The PostgreSQL file migrations/pg/009_api_keys.sql is the same but
-- for types.
--
-- * key_hash: BLAKE2b-256 of the key's text (src/http/apikey.c), like session
--   and invitation tokens: the key itself is printed once by
--   `invito apikey add` and never stored. UNIQUE: the lookup by hash.
-- * revoked_at: set by `invito apikey revoke`; a revoked key is refused
--   exactly like an unknown one. Rows are kept for the audit trail.
-- * last_used_at: written at most once a minute per key, so that a busy
--   client does not turn every request into a write.
CREATE TABLE api_keys (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	name            TEXT    NOT NULL,
	key_hash        BLOB    NOT NULL UNIQUE,
	created_at      INTEGER NOT NULL,
	last_used_at    INTEGER,
	revoked_at      INTEGER
);
CREATE INDEX api_keys_org ON api_keys (org_id, id);
