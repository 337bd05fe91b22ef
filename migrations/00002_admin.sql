-- +goose Up
-- Admin accounts and their login sessions. Times are Unix milliseconds (UTC),
-- as in 00001. Tokens are stored only as SHA-256 hashes, so a copy of the
-- database does not hand out working logins or setup links.

CREATE TABLE admin_users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    -- bcrypt
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    last_login_at BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE admin_sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT  NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    remote_addr  TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX admin_sessions_user ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- the one-time link printed on first start when no admin account exists
CREATE TABLE admin_setup_tokens (
    token_hash   TEXT    PRIMARY KEY,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE admin_setup_tokens;
DROP TABLE admin_sessions;
DROP TABLE admin_users;
