-- 003_payment_events: webhook events a payment provider has delivered and we
-- have processed, SQLite flavour.
--
-- Providers deliver an event at least once and sometimes twice at the same
-- moment to two nodes. The handler inserts the event's id here first
-- (ON CONFLICT DO NOTHING) in the same transaction as the change it causes,
-- so a replay finds the row and changes nothing. Ids are per provider.
CREATE TABLE payment_events (
	provider        TEXT    NOT NULL,              -- 'stripe'
	event_id        TEXT    NOT NULL,              -- e.g. 'evt_1N...'
	type            TEXT    NOT NULL,              -- 'checkout.session.completed'
	payment_id      INTEGER REFERENCES payments (id),
	received_at     INTEGER NOT NULL,
	PRIMARY KEY (provider, event_id)
);
