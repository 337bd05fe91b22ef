-- +goose Up
-- The PostgreSQL twin of ../00005_delivery_records.sql.
ALTER TABLE deliveries ADD COLUMN records TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN records;
