-- +goose Up
-- Times are Unix milliseconds (UTC) so that queue columns sort and compare
-- the same way in SQLite and PostgreSQL.

CREATE TABLE configurations (
    id           INTEGER PRIMARY KEY,
    plugin       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    appliance_id TEXT    NOT NULL,
    disabled     BOOLEAN NOT NULL DEFAULT FALSE,
    -- {"appliance": {...}, "settings": {...}} with every secret left out
    settings     TEXT    NOT NULL,
    -- AES-GCM sealed JSON object of the secret fields
    secrets      BLOB,
    version      INTEGER NOT NULL DEFAULT 1,
    enabled_at   BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX configurations_appliance ON configurations (appliance_id);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    dedupe_key   TEXT    NOT NULL UNIQUE,
    appliance_id TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    lsid         TEXT    NOT NULL DEFAULT '',
    external_key TEXT    NOT NULL DEFAULT '',
    occurred_at  BIGINT  NOT NULL,
    received_at  BIGINT  NOT NULL,
    -- every posted field, form-encoded exactly as received
    fields       TEXT    NOT NULL,
    routing      TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_lsid ON events (lsid);

CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,
    event_id     BIGINT  NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    config_id    BIGINT  NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
    plugin       TEXT    NOT NULL,
    -- the event's lsid, so deliveries of one session run in order
    lsid         TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       BIGINT  NOT NULL,
    lease_owner  TEXT    NOT NULL DEFAULT '',
    lease_until  BIGINT  NOT NULL DEFAULT 0,
    checkpoint   TEXT    NOT NULL DEFAULT '{}',
    last_error   TEXT    NOT NULL DEFAULT '',
    result       TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    finished_at  BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (event_id, config_id)
);
-- the claim query: due deliveries of one plugin, oldest first
CREATE INDEX deliveries_due ON deliveries (plugin, state, run_at);
CREATE INDEX deliveries_config ON deliveries (config_id, id);
CREATE INDEX deliveries_session ON deliveries (config_id, lsid, state);
CREATE INDEX deliveries_finished ON deliveries (finished_at);

CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  BIGINT  NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    started_at   BIGINT  NOT NULL,
    duration_ms  BIGINT  NOT NULL,
    outcome      TEXT    NOT NULL,
    error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);

-- what a configuration created for a session (a ticket, say)
CREATE TABLE links (
    config_id    BIGINT  NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
    lsid         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (config_id, lsid, kind)
);

CREATE TABLE poll_cursors (
    config_id       BIGINT  PRIMARY KEY REFERENCES configurations (id) ON DELETE CASCADE,
    cursor_at       BIGINT  NOT NULL DEFAULT 0,
    last_poll_at    BIGINT  NOT NULL DEFAULT 0,
    last_success_at BIGINT  NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           BIGINT  NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    config_id    BIGINT  NOT NULL DEFAULT 0,
    summary      TEXT    NOT NULL,
    -- JSON array of {"field","old","new"}; secrets appear only as "[redacted]"
    changes      TEXT    NOT NULL DEFAULT '[]'
);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE poll_cursors;
DROP TABLE links;
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE configurations;
