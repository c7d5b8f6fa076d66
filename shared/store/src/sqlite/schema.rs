//! The SQLite schema: JSON documents plus the columns the indexes need.

/// Creates every table and index (idempotent).
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS conversations (
    workspace_id     TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    closed           INTEGER NOT NULL,
    assignee_id      TEXT,
    team_id          TEXT,
    channel_id       TEXT,
    contact_id       TEXT    NOT NULL,
    human_handoff    INTEGER NOT NULL,
    responder_kind   TEXT,
    responder_id     TEXT,
    has_lead         INTEGER NOT NULL,
    -- Set only while a timer is armed on an open conversation (the sweep's index).
    timer_due        INTEGER,
    timer_generation INTEGER NOT NULL,
    doc              TEXT    NOT NULL,
    UNIQUE (workspace_id, id)
);
-- One index per view, in list order (scanned backwards for newest first).
CREATE INDEX IF NOT EXISTS conv_all ON conversations (workspace_id, last_activity_at, id);
CREATE INDEX IF NOT EXISTS conv_closed ON conversations (workspace_id, closed, last_activity_at, id);
CREATE INDEX IF NOT EXISTS conv_assignee ON conversations (workspace_id, assignee_id, last_activity_at, id);
-- `mine` and `unassigned` (assignee_id IS NULL) among open conversations. Keyed,
-- not partial, so that the planner prefers them to conv_closed without statistics.
CREATE INDEX IF NOT EXISTS conv_open_assignee
    ON conversations (workspace_id, closed, assignee_id, last_activity_at, id);
CREATE INDEX IF NOT EXISTS conv_pending_human
    ON conversations (workspace_id, human_handoff, closed, last_activity_at, id);
CREATE INDEX IF NOT EXISTS conv_has_lead ON conversations (workspace_id, last_activity_at, id)
    WHERE has_lead = 1;
CREATE INDEX IF NOT EXISTS conv_contact ON conversations (workspace_id, contact_id, created_at, id);
CREATE INDEX IF NOT EXISTS conv_timer ON conversations (timer_due, workspace_id, id)
    WHERE timer_due IS NOT NULL;

CREATE TABLE IF NOT EXISTS conversation_labels (
    workspace_id    TEXT NOT NULL,
    label           TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    PRIMARY KEY (workspace_id, label, conversation_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_of_conversation
    ON conversation_labels (workspace_id, conversation_id);

CREATE TABLE IF NOT EXISTS member_flags (
    workspace_id    TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    member_id       TEXT NOT NULL,
    doc             TEXT NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, member_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS messages (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    write_version   INTEGER NOT NULL,
    position        INTEGER NOT NULL,
    doc             TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, write_version, position)
);
-- Messages by the provider's id, for delivery status reports on outgoing messages.
CREATE INDEX IF NOT EXISTS messages_by_provider_id
    ON messages (workspace_id, json_extract(doc, '$.channel_message_id'))
    WHERE json_extract(doc, '$.channel_message_id') IS NOT NULL;

CREATE TABLE IF NOT EXISTS timeline (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    write_version   INTEGER NOT NULL,
    position        INTEGER NOT NULL,
    doc             TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, write_version, position)
);

CREATE TABLE IF NOT EXISTS outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    doc          TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS dedupe (
    workspace_id TEXT    NOT NULL,
    channel_id   TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, channel_id, message_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS settings (
    workspace_id TEXT PRIMARY KEY,
    doc          TEXT NOT NULL
);

-- Members and AI agents share one key space: an id is one or the other.
CREATE TABLE IF NOT EXISTS people (
    workspace_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- Jobs: the rest of a request's work on many conversations, with progress.
CREATE TABLE IF NOT EXISTS jobs (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    doc          TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE IF NOT EXISTS teams (
    workspace_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE IF NOT EXISTS channels (
    workspace_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- API keys by id across workspaces: a secret names its key.
CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS api_keys_workspace ON api_keys (workspace_id, id);

-- Outgoing-webhook endpoints, and their deliveries listed newest first.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    workspace_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    workspace_id TEXT NOT NULL,
    endpoint_id  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, endpoint_id, created_at, event_id)
);

CREATE TABLE IF NOT EXISTS contacts (
    workspace_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- One contact per channel sender: concurrent first messages meet here.
CREATE TABLE IF NOT EXISTS contact_senders (
    workspace_id TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    sender_id    TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, channel_id, sender_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS contact_notes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_of_contact ON contact_notes (workspace_id, contact_id, seq);

-- Reports: what the aggregator folded in of each conversation, and each
-- workspace's per-day counters (one row per counter name).
CREATE TABLE IF NOT EXISTS report_facts (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    rev             INTEGER NOT NULL,
    doc             TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id)
);
-- Keyed by dimension first, as DynamoDB's items are: a report reads one
-- dimension's rows of its range and nothing else.
CREATE TABLE IF NOT EXISTS report_counters (
    workspace_id TEXT    NOT NULL,
    dimension    TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    value        INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, dimension, day, name)
) WITHOUT ROWID;

-- The change feed, as DynamoDB's table stream is for the AWS stack: a row
-- for every stored timeline event and message and every rewrite of a
-- message, in commit order, written in the writing transaction by these
-- triggers whichever code path writes. Drained by the dev server (outgoing
-- webhooks). Each row is a `StoredChange` as JSON.
CREATE TABLE IF NOT EXISTS changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    doc          TEXT NOT NULL
);
-- Dropped first: a file made by an older release gets today's triggers.
DROP TRIGGER IF EXISTS timeline_added;
DROP TRIGGER IF EXISTS message_added;
DROP TRIGGER IF EXISTS message_rewritten;
CREATE TRIGGER timeline_added AFTER INSERT ON timeline BEGIN
    INSERT INTO changes (doc) VALUES (json_object(
        'workspace_id', NEW.workspace_id, 'conversation_id', NEW.conversation_id,
        'version', NEW.write_version, 'record', json_object('timeline_added', json(NEW.doc))));
END;
CREATE TRIGGER message_added AFTER INSERT ON messages BEGIN
    INSERT INTO changes (doc) VALUES (json_object(
        'workspace_id', NEW.workspace_id, 'conversation_id', NEW.conversation_id,
        'version', NEW.write_version, 'record', json_object('message_added', json(NEW.doc))));
END;
CREATE TRIGGER message_rewritten AFTER UPDATE OF doc ON messages BEGIN
    INSERT INTO changes (doc) VALUES (json_object(
        'workspace_id', NEW.workspace_id, 'conversation_id', NEW.conversation_id,
        'version', NEW.write_version, 'record', json_object('message_rewritten', json(NEW.doc))));
END;
"#;
