-- 001_schema: the whole invito domain, SQLite flavour.
--
-- Conventions (the PostgreSQL file migrations/pg/001_schema.sql keeps the same
-- tables, columns and names; only types and defaults differ):
--  * ids: INTEGER PRIMARY KEY here, BIGSERIAL in pg. Ids are never reused for
--    anything security-relevant (tokens are hashes, not ids).
--  * time: integer seconds UTC (BIGINT in pg); dates a clinic thinks of as
--    calendar days (birth_date, recall due_date) are TEXT 'YYYY-MM-DD'.
--  * booleans: INTEGER 0/1 (portable; no BOOLEAN type in queries).
--  * enumerations: short lowercase TEXT guarded by CHECK, so a row reads well
--    in a shell and both engines agree.
--  * token and session secrets: only their 32-byte hash is stored, as BLOB
--    (BYTEA in pg), UNIQUE.
--  * e-mail addresses that are looked up (staff_users.email, accounts.login)
--    are stored already lower-cased by the application, so a plain UNIQUE index
--    is case-insensitive in effect on both engines.
--  * name search keys (patients.family_key, search_key, search_key_fg) are
--    names_key() values computed in C (src/lib/names.h); queries match a prefix
--    with `key >= ? AND key < ?` (index range on both engines; pg declares
--    these columns COLLATE "C" so the byte order matches).
--  * created_at defaults exist for convenience in hand-written data; the C
--    code always binds its own clock.
--  * Queries written in C use only portable SQL; nothing here relies on
--    SQLite-only functions except the DEFAULT expressions, which pg replaces.

-- A patient portal: the public site patients sign in to.
CREATE TABLE portals (
	id              INTEGER PRIMARY KEY,
	name            TEXT    NOT NULL,
	base_url        TEXT    NOT NULL,              -- public URL; links are built from it
	policy_text     TEXT    NOT NULL DEFAULT '',   -- privacy policy shown on the landing page
	policy_version  TEXT    NOT NULL DEFAULT '1',  -- recorded in consents.version
	languages       TEXT    NOT NULL DEFAULT 'it,en', -- comma list, first is the default
	invite_ttl_days INTEGER NOT NULL DEFAULT 30 CHECK (invite_ttl_days BETWEEN 1 AND 365),
	invite_max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (invite_max_attempts >= 1),
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

-- A customer owns its portal (portal_id is its own); a member is a practice
-- connected to a portal it does not own (portal_id is the customer's).
CREATE TABLE organisations (
	id              INTEGER PRIMARY KEY,
	kind            TEXT    NOT NULL CHECK (kind IN ('customer', 'member')),
	portal_id       INTEGER NOT NULL REFERENCES portals (id),
	parent_id       INTEGER REFERENCES organisations (id), -- member: the customer it belongs to
	name            TEXT    NOT NULL,
	phone           TEXT,
	email           TEXT,
	address         TEXT,
	timezone        TEXT    NOT NULL DEFAULT 'Europe/Rome',
	-- The invitation appendix ("Manage your bookings online: {{TRD92}}") and the
	-- message kinds that carry it (comma list, e.g. 'reminder,recall').
	appendix_text   TEXT,
	appendix_kinds  TEXT    NOT NULL DEFAULT '',
	sender_name     TEXT,                          -- SMS sender / e-mail From name
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX organisations_portal ON organisations (portal_id);

-- Settings that do not deserve a column yet: one row per (org, key).
CREATE TABLE org_settings (
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	key             TEXT    NOT NULL,
	value           TEXT    NOT NULL,
	updated_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	PRIMARY KEY (org_id, key)
);

CREATE TABLE staff_users (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	email           TEXT    NOT NULL,              -- lower-cased by the application
	name            TEXT    NOT NULL,
	pw_hash         TEXT    NOT NULL,              -- Argon2id encoded string
	role            TEXT    NOT NULL DEFAULT 'reception' CHECK (role IN ('reception', 'admin')),
	failed_logins   INTEGER NOT NULL DEFAULT 0,
	locked_until    INTEGER NOT NULL DEFAULT 0,
	last_login_at   INTEGER,
	disabled_at     INTEGER,
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE UNIQUE INDEX staff_users_email ON staff_users (email);
CREATE INDEX staff_users_org ON staff_users (org_id);

-- A patient record kept by an organisation. family_key = names_key(family_name)
-- (identity check, duplicate detection); search_key = names_key("given family")
-- and search_key_fg = names_key("family given") serve prefix search in either order.
CREATE TABLE patients (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	given_name      TEXT    NOT NULL,
	family_name     TEXT    NOT NULL,
	family_key      TEXT    NOT NULL,
	search_key      TEXT    NOT NULL,
	search_key_fg   TEXT    NOT NULL,
	birth_date      TEXT,                          -- YYYY-MM-DD
	mobile          TEXT,                          -- E.164, e.g. +393331234567
	email           TEXT,                          -- lower-cased by the application
	lang            TEXT    NOT NULL DEFAULT 'it',
	external_ref    TEXT,                          -- id in the clinic's own system
	managed_by      INTEGER REFERENCES patients (id), -- family member of that patient
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	updated_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	UNIQUE (org_id, external_ref)
);
-- Keyset pagination (org_id, id > ?) is served by this index.
CREATE INDEX patients_org_id ON patients (org_id, id);
CREATE INDEX patients_family_key ON patients (org_id, family_key, birth_date);
CREATE INDEX patients_search_key ON patients (org_id, search_key);
CREATE INDEX patients_search_key_fg ON patients (org_id, search_key_fg);
CREATE INDEX patients_mobile ON patients (org_id, mobile);
CREATE INDEX patients_email ON patients (org_id, email);
CREATE INDEX patients_managed_by ON patients (managed_by);

-- A patient's credentials on a portal; "has an account" means pw_hash IS NOT NULL.
CREATE TABLE accounts (
	id              INTEGER PRIMARY KEY,
	patient_id      INTEGER NOT NULL UNIQUE REFERENCES patients (id),
	portal_id       INTEGER NOT NULL REFERENCES portals (id),
	login           TEXT    NOT NULL,              -- e-mail (lower-cased) or E.164 mobile
	pw_hash         TEXT,                          -- Argon2id encoded string
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	password_changed_at INTEGER,
	failed_logins   INTEGER NOT NULL DEFAULT 0,
	locked_until    INTEGER NOT NULL DEFAULT 0,
	last_login_at   INTEGER,
	UNIQUE (portal_id, login)
);

CREATE TABLE consents (
	id              INTEGER PRIMARY KEY,
	account_id      INTEGER NOT NULL REFERENCES accounts (id),
	kind            TEXT    NOT NULL,              -- 'privacy', 'marketing', ...
	version         TEXT    NOT NULL,              -- portals.policy_version accepted
	accepted_at     INTEGER NOT NULL,
	ip              TEXT,
	withdrawn_at    INTEGER
);
CREATE INDEX consents_account ON consents (account_id, kind);

CREATE TABLE services (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	name            TEXT    NOT NULL,
	duration_min    INTEGER NOT NULL DEFAULT 30 CHECK (duration_min > 0),
	kind            TEXT    NOT NULL DEFAULT 'in_person' CHECK (kind IN ('in_person', 'video')),
	price_cents     INTEGER NOT NULL DEFAULT 0,
	payment         TEXT    NOT NULL DEFAULT 'none'
			CHECK (payment IN ('none', 'optional', 'mandatory')),
	online_booking  INTEGER NOT NULL DEFAULT 1,    -- bookable from the portal
	active          INTEGER NOT NULL DEFAULT 1,
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX services_org ON services (org_id);

-- Weekly pattern from which slots are generated; minutes from local midnight.
CREATE TABLE opening_hours (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	service_id      INTEGER NOT NULL REFERENCES services (id),
	weekday         INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6), -- 0 = Monday
	start_min       INTEGER NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
	end_min         INTEGER NOT NULL CHECK (end_min BETWEEN 1 AND 1440),
	slot_min        INTEGER NOT NULL DEFAULT 30 CHECK (slot_min > 0),
	capacity        INTEGER NOT NULL DEFAULT 1 CHECK (capacity > 0),
	CHECK (start_min < end_min)
);
CREATE INDEX opening_hours_service ON opening_hours (service_id, org_id);

-- Bookable slots; booking is `UPDATE slots SET booked = booked + 1 WHERE id = ?
-- AND booked < capacity` (the CHECK makes overbooking impossible on both engines).
CREATE TABLE slots (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	service_id      INTEGER NOT NULL REFERENCES services (id),
	start_at        INTEGER NOT NULL,
	end_at          INTEGER NOT NULL,
	capacity        INTEGER NOT NULL DEFAULT 1,
	booked          INTEGER NOT NULL DEFAULT 0,
	CHECK (booked >= 0 AND booked <= capacity),
	CHECK (start_at < end_at),
	UNIQUE (service_id, org_id, start_at)
);
CREATE INDEX slots_org_start ON slots (org_id, start_at);

-- org_id is where the appointment takes place: the customer or one of its members.
CREATE TABLE appointments (
	id              INTEGER PRIMARY KEY,
	patient_id      INTEGER NOT NULL REFERENCES patients (id),
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	service_id      INTEGER NOT NULL REFERENCES services (id),
	slot_id         INTEGER REFERENCES slots (id),
	start_at        INTEGER NOT NULL,
	end_at          INTEGER NOT NULL,
	kind            TEXT    NOT NULL DEFAULT 'in_person' CHECK (kind IN ('in_person', 'video')),
	booked_via      TEXT    NOT NULL DEFAULT 'offline'
			CHECK (booked_via IN ('offline', 'online', 'import')),
	payment         TEXT    NOT NULL DEFAULT 'none'
			CHECK (payment IN ('none', 'optional', 'mandatory')),
	amount_cents    INTEGER NOT NULL DEFAULT 0,
	paid_at         INTEGER,
	status          TEXT    NOT NULL DEFAULT 'booked'
			CHECK (status IN ('booked', 'cancelled', 'done')),
	video_url       TEXT,
	created_by_staff INTEGER REFERENCES staff_users (id),
	external_ref    TEXT,                          -- id in the clinic's system (imports)
	reminder_sent_at INTEGER,                      -- scheduler: reminder queued
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	updated_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	UNIQUE (org_id, external_ref)
);
CREATE INDEX appointments_patient ON appointments (patient_id, start_at);
CREATE INDEX appointments_org_start ON appointments (org_id, start_at);
CREATE INDEX appointments_reminder ON appointments (status, reminder_sent_at, start_at);

CREATE TABLE payments (
	id              INTEGER PRIMARY KEY,
	appointment_id  INTEGER NOT NULL REFERENCES appointments (id),
	provider        TEXT    NOT NULL,              -- 'fake', 'stripe', ...
	provider_ref    TEXT    UNIQUE,                -- the provider's id for idempotent callbacks
	state           TEXT    NOT NULL DEFAULT 'pending'
			CHECK (state IN ('pending', 'succeeded', 'failed', 'cancelled', 'refunded')),
	amount_cents    INTEGER NOT NULL,
	currency        TEXT    NOT NULL DEFAULT 'EUR',
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	updated_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX payments_appointment ON payments (appointment_id);

CREATE TABLE recalls (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	patient_id      INTEGER NOT NULL REFERENCES patients (id),
	service_id      INTEGER NOT NULL REFERENCES services (id),
	due_date        TEXT    NOT NULL,              -- YYYY-MM-DD, in the organisation's timezone
	channel         TEXT    NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'email', 'both')),
	sent_at         INTEGER,
	cancelled_at    INTEGER,
	created_by      INTEGER REFERENCES staff_users (id),
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX recalls_due ON recalls (sent_at, due_date);
CREATE INDEX recalls_patient ON recalls (patient_id);

CREATE TABLE templates (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	kind            TEXT    NOT NULL,              -- invitation, reset, reminder, recall, payment_request, ...
	channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
	lang            TEXT    NOT NULL,
	subject         TEXT,                          -- e-mail only
	body            TEXT    NOT NULL,
	updated_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	updated_by      INTEGER REFERENCES staff_users (id),
	UNIQUE (org_id, kind, channel, lang)
);

-- The outbox. A row is written in the same transaction as the change that
-- causes it; the dispatcher claims due rows (claimed_by/claimed_at), sends,
-- and records the result. dedupe_key makes triggers idempotent
-- (e.g. 'reminder:APPT_ID', 'recall:RECALL_ID:sms').
CREATE TABLE messages (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	patient_id      INTEGER REFERENCES patients (id),
	kind            TEXT    NOT NULL,
	channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
	recipient       TEXT    NOT NULL,
	subject         TEXT,
	body            TEXT    NOT NULL,
	state           TEXT    NOT NULL DEFAULT 'queued'
			CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dead')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT,
	dedupe_key      TEXT    UNIQUE,
	appointment_id  INTEGER REFERENCES appointments (id),
	recall_id       INTEGER REFERENCES recalls (id),
	provider_ref    TEXT,                          -- gateway/SMTP id of the sent message
	created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	sent_at         INTEGER,
	claimed_by      TEXT,                          -- dispatcher id (host:pid)
	claimed_at      INTEGER
);
CREATE INDEX messages_due ON messages (state, next_attempt_at);
CREATE INDEX messages_org ON messages (org_id, id);
CREATE INDEX messages_patient ON messages (patient_id);

-- A single-use link for one patient on one portal. org_id is the organisation
-- whose action created it (a member for member-portal invitations).
CREATE TABLE invitations (
	id              INTEGER PRIMARY KEY,
	patient_id      INTEGER NOT NULL REFERENCES patients (id),
	portal_id       INTEGER NOT NULL REFERENCES portals (id),
	org_id          INTEGER NOT NULL REFERENCES organisations (id),
	token_hash      BLOB    NOT NULL UNIQUE,
	created_by_staff INTEGER REFERENCES staff_users (id),
	created_by_message INTEGER REFERENCES messages (id),
	channel         TEXT    CHECK (channel IN ('sms', 'email', 'both')),
	target          TEXT,                          -- portal path to land on, e.g. /appointments/7/pay
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	opened_at       INTEGER,
	accepted_at     INTEGER,
	revoked_at      INTEGER,
	locked_at       INTEGER,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	state           TEXT    NOT NULL DEFAULT 'pending'
			CHECK (state IN ('pending', 'accepted', 'expired', 'revoked', 'locked')),
	account_id      INTEGER REFERENCES accounts (id) -- set when accepted
);
CREATE INDEX invitations_patient ON invitations (patient_id, state, expires_at);
CREATE INDEX invitations_org_created ON invitations (org_id, created_at);

CREATE TABLE resets (
	id              INTEGER PRIMARY KEY,
	patient_id      INTEGER NOT NULL REFERENCES patients (id),
	account_id      INTEGER NOT NULL REFERENCES accounts (id),
	token_hash      BLOB    NOT NULL UNIQUE,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	used_at         INTEGER,
	revoked_at      INTEGER
);
CREATE INDEX resets_account ON resets (account_id);

-- user_id is staff_users.id for kind 'staff', patients.id for kind 'patient'.
CREATE TABLE sessions (
	id              INTEGER PRIMARY KEY,
	token_hash      BLOB    NOT NULL UNIQUE,
	kind            TEXT    NOT NULL CHECK (kind IN ('staff', 'patient')),
	user_id         INTEGER NOT NULL,
	org_id          INTEGER NOT NULL,              -- staff: their org; patient: the portal's customer
	csrf            TEXT    NOT NULL,
	lang            TEXT,
	created_at      INTEGER NOT NULL,
	last_seen       INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (kind, user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen);

-- Sign-in and link-guessing throttle; key is e.g. 'ip:203.0.113.7' or
-- 'login:staff:a@b.it'. A fixed window of failures, then a lock.
CREATE TABLE login_throttle (
	key             TEXT    PRIMARY KEY,
	failures        INTEGER NOT NULL DEFAULT 0,
	window_start    INTEGER NOT NULL,
	locked_until    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_events (
	id              INTEGER PRIMARY KEY,
	org_id          INTEGER,                       -- NULL for system-wide events
	actor_kind      TEXT    NOT NULL CHECK (actor_kind IN ('staff', 'patient', 'system')),
	actor_id        INTEGER,
	action          TEXT    NOT NULL,              -- 'invite.create', 'patient.update', ...
	subject_kind    TEXT,
	subject_id      INTEGER,
	ip              TEXT,
	detail          TEXT,                          -- never a token, password or message body
	created_at      INTEGER NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, created_at);
CREATE INDEX audit_events_subject ON audit_events (subject_kind, subject_id);

-- Scheduler leases: one row per periodic job, so that on several nodes only
-- the holder of an unexpired lease runs it (UPDATE ... WHERE locked_until < now).
CREATE TABLE jobs (
	name            TEXT    PRIMARY KEY,           -- 'reminders', 'recalls', 'purge', ...
	last_run_at     INTEGER NOT NULL DEFAULT 0,
	next_run_at     INTEGER NOT NULL DEFAULT 0,
	locked_by       TEXT,
	locked_until    INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT
);
