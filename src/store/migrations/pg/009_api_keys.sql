-- 009_api_keys: organisation API keys for POST /api/v1/appointments,
-- PostgreSQL flavour (the same table as migrations/sqlite/009_api_keys.sql;
-- read its header). Integers are BIGINT as in 001, the hash BYTEA.
CREATE TABLE api_keys (
	id              BIGSERIAL PRIMARY KEY,
	org_id          BIGINT  NOT NULL REFERENCES organisations (id),
	name            TEXT    NOT NULL,
	key_hash        BYTEA   NOT NULL UNIQUE,
	created_at      BIGINT  NOT NULL,
	last_used_at    BIGINT,
	revoked_at      BIGINT
);
CREATE INDEX api_keys_org ON api_keys (org_id, id);
