-- Stations, and render workers that share one queue.
--
-- A station owns its articles, render jobs, lexicon entries, bulletins,
-- tokens, webhooks, voice usage and audit trail: each of those tables gains
-- station_id. Station 1 ('default') is the single-station install; every row
-- that existed before this migration belongs to it. Rows reached only
-- through a parent (revisions, approvals, job costs, deliveries) belong to
-- their parent's station.
--
-- Uniqueness that was per install becomes per station; SQLite cannot change
-- a key in place, so those tables are copied.
--
-- Workers: a running job carries the worker that holds it and when that
-- lease ends (milliseconds since the epoch); a worker renews it while
-- working, and a job whose lease ran out is taken up by another worker.
-- Scheduled bulletins are claimed by one row per (station, date, slot).

CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The station's own settings (bantin.toml sections), '' for the default
    -- station, whose settings are the install's bantin.toml.
    settings TEXT NOT NULL DEFAULT '',
    lexicon_version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
INSERT INTO stations (id, slug, name, lexicon_version, created_at)
    SELECT 1, 'default', 'Đài mặc định',
        COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE name = 'lexicon_version'), 0),
        strftime('%Y-%m-%dT%H:%M:%SZ', 'now');
DELETE FROM meta WHERE name = 'lexicon_version';

ALTER TABLE articles ADD COLUMN station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id);
CREATE INDEX articles_by_station ON articles (station_id, id);

ALTER TABLE render_jobs ADD COLUMN station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id);
ALTER TABLE render_jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE render_jobs ADD COLUMN lease_until_ms INTEGER;
CREATE INDEX render_jobs_by_station ON render_jobs (station_id, state, id);

ALTER TABLE bulletin_runs ADD COLUMN station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id);
DROP INDEX bulletin_runs_key;
CREATE INDEX bulletin_runs_key ON bulletin_runs (station_id, date, slot, id);

ALTER TABLE webhooks ADD COLUMN station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id);

ALTER TABLE audit_events ADD COLUMN station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id);
CREATE INDEX audit_events_by_station ON audit_events (station_id, at);

CREATE TABLE lexicon_entries_stations (
    id INTEGER PRIMARY KEY,
    station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id),
    key TEXT NOT NULL,
    spoken TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (station_id, key, context)
);
INSERT INTO lexicon_entries_stations (id, station_id, key, spoken, context, comment, author, created_at)
    SELECT id, 1, key, spoken, context, comment, author, created_at FROM lexicon_entries;
DROP TABLE lexicon_entries;
ALTER TABLE lexicon_entries_stations RENAME TO lexicon_entries;

-- A token belongs to one station, except a platform token (scope
-- 'platform', station_id NULL), which creates stations and their first token.
CREATE TABLE api_tokens_stations (
    id INTEGER PRIMARY KEY,
    station_id INTEGER REFERENCES stations (id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'editor', 'approver', 'admin', 'platform')),
    person TEXT NOT NULL DEFAULT '',
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((scope = 'platform') = (station_id IS NULL))
);
CREATE UNIQUE INDEX api_tokens_name ON api_tokens_stations (COALESCE(station_id, 0), name);
INSERT INTO api_tokens_stations (id, station_id, name, scope, person, secret_sha256, created_at, revoked_at)
    SELECT id, 1, name, scope, person, secret_sha256, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_stations RENAME TO api_tokens;

CREATE TABLE bulletin_items_stations (
    station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id),
    date TEXT NOT NULL,
    slot TEXT NOT NULL,
    position INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (station_id, date, slot, position)
);
INSERT INTO bulletin_items_stations (station_id, date, slot, position, article_id, approved_by, approved_at)
    SELECT 1, date, slot, position, article_id, approved_by, approved_at FROM bulletin_items;
DROP TABLE bulletin_items;
ALTER TABLE bulletin_items_stations RENAME TO bulletin_items;
CREATE INDEX bulletin_items_article ON bulletin_items (article_id);

CREATE TABLE voice_usage_stations (
    station_id INTEGER NOT NULL DEFAULT 1 REFERENCES stations (id),
    voice TEXT NOT NULL,
    day TEXT NOT NULL,
    chars INTEGER NOT NULL CHECK (chars >= 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (station_id, voice, day)
);
INSERT INTO voice_usage_stations (station_id, voice, day, chars, updated_at)
    SELECT 1, voice, day, chars, updated_at FROM voice_usage;
DROP TABLE voice_usage;
ALTER TABLE voice_usage_stations RENAME TO voice_usage;

-- Render workers seen by the queue: the worker count per station on
-- /metrics, and who holds a lease.
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    seen_at_ms INTEGER NOT NULL,
    draining INTEGER NOT NULL DEFAULT 0
);

-- One row per scheduled bulletin: whoever inserts it builds the bulletin,
-- so a slot runs once however many nodes are up. A node that dies while
-- building leaves a lease that runs out, and another node takes it up.
CREATE TABLE bulletin_slots (
    station_id INTEGER NOT NULL REFERENCES stations (id),
    date TEXT NOT NULL,
    slot TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until_ms INTEGER NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (station_id, date, slot)
);
