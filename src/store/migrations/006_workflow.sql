-- The newsroom's workflow: roles and a person's name on every token, who
-- made each revision, approvals of an article's revision for air, and the
-- audit trail (append-only: triggers refuse UPDATE and DELETE).
--
-- SQLite cannot widen a CHECK in place, so api_tokens is copied into a table
-- with the new roles and the person column; existing tokens keep their id,
-- name, scope and secret, with no person yet ('').

CREATE TABLE api_tokens_workflow (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'editor', 'approver', 'admin')),
    person TEXT NOT NULL DEFAULT '',
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
INSERT INTO api_tokens_workflow (id, name, scope, person, secret_sha256, created_at, revoked_at)
    SELECT id, name, scope, '', secret_sha256, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_workflow RENAME TO api_tokens;

-- The person behind the token that made a revision ('' before this migration).
ALTER TABLE article_revisions ADD COLUMN person TEXT NOT NULL DEFAULT '';

-- An approver's approval of one revision for air. An article is approved
-- when its latest revision has a row here; an edit makes a new revision,
-- so it needs approving again.
CREATE TABLE article_approvals (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    revision INTEGER NOT NULL,
    person TEXT NOT NULL,
    token TEXT NOT NULL,
    approved_at TEXT NOT NULL
);
CREATE INDEX article_approvals_by_article ON article_approvals (article_id, revision);

-- What happened, who did it and when. `at` is RFC 3339 UTC with six
-- fractional digits, so text order is time order.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    person TEXT NOT NULL,
    token TEXT NOT NULL,
    action TEXT NOT NULL,
    article_id INTEGER,
    revision INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_by_at ON audit_events (at);
CREATE INDEX audit_events_by_article ON audit_events (article_id, id);

CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER article_approvals_append_only_update BEFORE UPDATE ON article_approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are append-only');
END;
CREATE TRIGGER article_approvals_append_only_delete BEFORE DELETE ON article_approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are append-only');
END;
