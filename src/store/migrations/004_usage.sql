-- What cloud voices cost: the characters each voice was billed per station
-- day (in the bulletin time zone, YYYY-MM-DD), counted only when a render
-- really called the vendor (speech-cache hits are free), and each render
-- job's bill as estimated when it was asked for and as it turned out.

CREATE TABLE voice_usage (
    voice TEXT NOT NULL,
    day TEXT NOT NULL,
    chars INTEGER NOT NULL CHECK (chars >= 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (voice, day)
);

CREATE TABLE job_costs (
    job_id INTEGER PRIMARY KEY REFERENCES render_jobs (id) ON DELETE CASCADE,
    billable_chars INTEGER NOT NULL,
    cached_chars INTEGER NOT NULL,
    to_bill_chars INTEGER NOT NULL,
    breath_groups INTEGER NOT NULL,
    cached_breath_groups INTEGER NOT NULL,
    -- What the vendor really received; NULL until the render spoke.
    billed_chars INTEGER
);
