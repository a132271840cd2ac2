-- 004_booking: indexes the booking core (src/booking) relies on, SQLite flavour.
-- The PostgreSQL file migrations/pg/004_booking.sql is the same.
--
-- * appointments_slot: regeneration keeps a slot that any appointment (even a
--   cancelled one) refers to; cancel and reschedule find seats by slot.
-- * slots_service_start: the portal's search by service across every place
--   of a portal, soonest first (the unique (service_id, org_id, start_at)
--   index serves one place only).
CREATE INDEX appointments_slot ON appointments (slot_id);
CREATE INDEX slots_service_start ON slots (service_id, start_at);
