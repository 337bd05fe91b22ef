-- +goose Up
-- API tokens for scripts and SOAR tools: an admin creates one in the admin
-- UI (it is shown once) and revokes it there. Only a SHA-256 hash of the
-- token is kept; prefix is the short, non-secret id printed in lists and
-- logs and used to find the row before the hash is compared in constant
-- time. scope is "read" (GET requests of the JSON API only) for now.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    scope        TEXT    NOT NULL DEFAULT 'read',
    created_by   TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL DEFAULT 0,
    revoked_at   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_prefix ON api_tokens (prefix);

-- +goose Down
DROP TABLE api_tokens;
