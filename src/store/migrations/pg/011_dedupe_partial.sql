-- 011_dedupe_partial: messages.dedupe_key unique only where it is set,
-- PostgreSQL flavour (see migrations/sqlite/011_dedupe_partial.sql, which
-- has to rebuild the table for it).
--
-- The UNIQUE constraint's index held an entry for every message, NULL keys
-- included, though only trigger messages have a key: a bulk invite wrote one
-- for each of its messages. The partial index enforces the same rule (any
-- number of NULLs, each key once) on the keyed rows only. An upsert names it
-- by its predicate: ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL.
ALTER TABLE messages DROP CONSTRAINT messages_dedupe_key_key;
CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key IS NOT NULL;
