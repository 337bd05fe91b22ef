-- +goose Up
-- What a delivery's last attempt wrote to the remote system (ticket, note,
-- time entry, with links), as its plugin recorded it: a JSON array of
-- engine.Record, empty when the plugin recorded nothing.
ALTER TABLE deliveries ADD COLUMN records TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN records;
