-- +goose Up
-- More than one admin: an account can be disabled (it cannot sign in, and
-- its sessions are ended) without removing who it was from the audit log.
ALTER TABLE admin_users ADD COLUMN disabled_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE admin_users DROP COLUMN disabled_at;
