-- +goose Up
-- The PostgreSQL twin of ../00004_key_check.sql.
CREATE TABLE key_check (
    id         BIGINT  PRIMARY KEY CHECK (id = 1),
    value      BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE key_check;
