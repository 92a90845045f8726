-- Bulletins: the articles editors approved for a (date, slot), in order, and
-- every run of the bulletin scheduler. Articles become soft-deletable: an
-- approved article that is deleted keeps its revisions, and a bulletin run
-- can name it in its failure.

ALTER TABLE articles ADD COLUMN deleted_at TEXT;

CREATE TABLE bulletin_items (
    date TEXT NOT NULL,             -- YYYY-MM-DD in the station's time zone
    slot TEXT NOT NULL,
    position INTEGER NOT NULL,      -- 1 = the top story
    article_id INTEGER NOT NULL REFERENCES articles (id),
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (date, slot, position)
);

CREATE INDEX bulletin_items_article ON bulletin_items (article_id);

CREATE TABLE bulletin_runs (
    id INTEGER PRIMARY KEY,
    date TEXT NOT NULL,
    slot TEXT NOT NULL,
    run_trigger TEXT NOT NULL CHECK (run_trigger IN ('schedule', 'catch_up', 'manual')),
    attempt INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('built', 'reused', 'failed')),
    -- The summary of a built run, the reason of a failed one.
    detail TEXT
);

CREATE INDEX bulletin_runs_key ON bulletin_runs (date, slot, id);
