-- 010_outbox_checks: the two tables a bulk invite writes, made cheaper to
-- write, PostgreSQL flavour. The SQLite file migrations/sqlite/010_outbox_checks.sql
-- also rewrites the CHECK constraints of invitations and messages (an IN list
-- in a CHECK costs SQLite a temporary b-tree per row); PostgreSQL evaluates
-- an IN list inline, so its constraints stay as they are.
--
-- * invitations_org_created (org_id, created_at) and messages_patient
--   (patient_id) are dropped: no query reads invitations by organisation and
--   time or messages by patient (patients are never deleted either), and
--   every invitation and message written paid for them.
-- * messages.dedupe_key is unique only where it is set: the UNIQUE
--   constraint's index held an entry for every message, NULL keys included,
--   though only trigger messages have a key. The partial index enforces the
--   same rule on the keyed rows only; an upsert names it by its predicate:
--   ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL.
DROP INDEX invitations_org_created;
DROP INDEX messages_patient;
ALTER TABLE messages DROP CONSTRAINT messages_dedupe_key_key;
CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key IS NOT NULL;
