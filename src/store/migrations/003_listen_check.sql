-- The listen check of a render job: whether it was asked for, and its
-- outcome once the render is done ('checked' with the number of flagged
-- cues, or 'unavailable' when the recognizer failed; the render is kept
-- either way). The report (JSON, every cue) is kept for the review page.

ALTER TABLE render_jobs ADD COLUMN check_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE render_jobs ADD COLUMN check_state TEXT
    CHECK (check_state IS NULL OR check_state IN ('checked', 'unavailable'));
ALTER TABLE render_jobs ADD COLUMN check_flagged INTEGER;
-- "checked, 2 cues flagged", or the reason the check is unavailable.
ALTER TABLE render_jobs ADD COLUMN check_summary TEXT;
ALTER TABLE render_jobs ADD COLUMN check_report TEXT;
