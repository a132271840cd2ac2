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
DROP INDEX invitations_org_created;
DROP INDEX messages_patient;
