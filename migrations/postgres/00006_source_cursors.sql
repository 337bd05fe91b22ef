-- +goose Up
-- The PostgreSQL twin of ../00006_source_cursors.sql.
CREATE TABLE source_cursors (
    source_id       TEXT    PRIMARY KEY,
    cursor_at       BIGINT  NOT NULL DEFAULT 0,
    last_poll_at    BIGINT  NOT NULL DEFAULT 0,
    last_success_at BIGINT  NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_fetched    BIGINT  NOT NULL DEFAULT 0,
    last_new        BIGINT  NOT NULL DEFAULT 0,
    total_new       BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE source_cursors;
