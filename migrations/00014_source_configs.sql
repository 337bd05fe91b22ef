-- +goose Up
-- Sources configured in the admin UI (PM Cloud, appliance activity), kept
-- like configurations: settings as JSON without secrets, the secrets sealed
-- for the row's id ("source:<id>"). Names are unique across kinds: a
-- source is named on the Polling page, in its Test and in its cursor ids.
-- Sources of the sources file are not stored here.
CREATE TABLE source_configs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL UNIQUE,
    disabled     BOOLEAN NOT NULL DEFAULT FALSE,
    settings     TEXT    NOT NULL,
    secrets      BLOB,
    version      INTEGER NOT NULL DEFAULT 1,
    enabled_at   BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE source_configs;
