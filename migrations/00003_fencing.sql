-- +goose Up
-- Every claim of a delivery gets a fresh random lease token (its fencing
-- token). Every write made on behalf of that attempt (heartbeat, checkpoint,
-- link, finish) names the token, so a worker whose lease expired and whose
-- delivery was claimed again cannot write over the new attempt, even when
-- both run in the same process (lease_owner is shared by its workers).
ALTER TABLE deliveries ADD COLUMN lease_token TEXT NOT NULL DEFAULT '';
-- How many times in a row the remote asked the delivery to wait
-- (RetryAfter); a cap on it ends deliveries a remote throttles forever.
ALTER TABLE deliveries ADD COLUMN snoozes INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN snoozes;
ALTER TABLE deliveries DROP COLUMN lease_token;
