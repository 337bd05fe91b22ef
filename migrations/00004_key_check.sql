-- +goose Up
-- A fixed label sealed under the secret key (secret.key or
-- SWITCHBOARD_SECRET_KEY), never the key itself. At start the key must open
-- it: a lost or replaced key file is refused instead of being silently
-- replaced by a new key that opens none of the stored secrets.
CREATE TABLE key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      BLOB    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE key_check;
