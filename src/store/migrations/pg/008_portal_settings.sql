-- 008_portal_settings: the settings an organisation's admin edits on the staff
-- Settings page (src/staff/settings.c), PostgreSQL flavour of
-- migrations/sqlite/008_portal_settings.sql, the same but for types.
--
-- * portals.password_min_chars: the shortest new password a patient of this
--   portal may choose, in characters (issue 3: "at least 10 characters by
--   default (a portal setting), at most 256"). The bounds are also
--   PASSWORD_MIN_CHARS_LOW / _HIGH in src/lib/password.h, which clamps any value
--   it is given to them; the longest password stays 256 characters everywhere.
--   Existing portals get the default, 10: nothing changes for them.
ALTER TABLE portals ADD COLUMN password_min_chars BIGINT NOT NULL DEFAULT 10
	CHECK (password_min_chars BETWEEN 8 AND 64);
