-- +goose Up
-- The PostgreSQL twin of ../00003_fencing.sql.
ALTER TABLE deliveries ADD COLUMN lease_token TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN snoozes INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN snoozes;
ALTER TABLE deliveries DROP COLUMN lease_token;
