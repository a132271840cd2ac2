-- 007_triggers: indexes the scheduler's due jobs and the recalls list rely on
-- (src/comms/triggers.c), SQLite flavour. The file migrations/pg/007_triggers.sql
-- is the same.
--
-- * appointments_start: reminders and payment reminders read booked
--   appointments by a window of start times, across every organisation.
-- * recalls_org_due: the staff recalls list, one organisation by due date.
--   (The due job reads recalls_due (sent_at, due_date) from 001.)
CREATE INDEX appointments_start ON appointments (start_at);
CREATE INDEX recalls_org_due ON recalls (org_id, due_date, id);
