-- 006_portals: several portals in one installation (issue 5, "Portals and
-- members"), PostgreSQL flavour of migrations/sqlite/006_portals.sql,
-- the same but for types.
--
-- * portals.host: the authority (host[:port], lower-case) of the portal's
--   base_url. A request's Host header only PICKS the portal whose host it is
--   (src/http/portal_host.c); links are always built from base_url. NULL: the
--   portal is reached only as the default (lowest id). UNIQUE: one portal per
--   host (several NULLs are allowed on both engines).
-- * portals.primary_colour: '#rrggbb' (checked in C, store_portal_colour_ok(),
--   before it is stored and again before it reaches CSS); NULL: the stylesheet's.
-- * portals.logo / logo_type: a small image (PNG, JPEG or WebP, at most 256 KiB,
--   checked in C) served from /portal/{id}/logo, so CSP stays 'self'.
-- * portal_policies: the privacy policy's text per language for the CURRENT
--   portals.policy_version (one version for every language: a new version is
--   a new policy_version and new texts). A language without a row falls back
--   to portals.policy_text.
ALTER TABLE portals ADD COLUMN host TEXT;
ALTER TABLE portals ADD COLUMN primary_colour TEXT
	CHECK (primary_colour IS NULL OR primary_colour LIKE '#______');
ALTER TABLE portals ADD COLUMN logo BYTEA;
ALTER TABLE portals ADD COLUMN logo_type TEXT
	CHECK (logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg', 'image/webp'));
CREATE UNIQUE INDEX portals_host ON portals (host);

CREATE TABLE portal_policies (
	portal_id       BIGINT  NOT NULL REFERENCES portals (id),
	lang            TEXT    NOT NULL,
	text            TEXT    NOT NULL,
	updated_at      BIGINT  NOT NULL,
	PRIMARY KEY (portal_id, lang)
);
