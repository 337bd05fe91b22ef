-- +goose Up
-- The polling state of each source (a polled stream of records such as
-- PM Cloud events): its cursor, committed in the same transaction as the
-- records it found, the outcome of its last poll, running counts, and the
-- lease that lets one process poll it at a time.
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
