-- Webhooks: URLs a station registers to hear of events ("render.done",
-- "render.failed", "bulletin.delivered", "check.flagged") without polling,
-- and every call owed to them. A delivery row is written before any attempt,
-- so an event is never lost while a receiver is down; the dispatcher retries
-- it with back-off.
--
-- The secret signs each body (HMAC-SHA256); it must be kept in clear to sign,
-- and is shown to staff only once, when the webhook is made.

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    -- Event names separated by spaces.
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    removed_at TEXT
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
    event TEXT NOT NULL,
    -- The exact bytes sent (and signed), JSON.
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- pending (to be tried at next_attempt_ms), delivered, failed (gave up).
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds: compared as numbers, never as text.
    next_attempt_ms INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    last_attempt_at TEXT,
    delivered_at TEXT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
