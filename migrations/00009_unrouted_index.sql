-- +goose Up
-- The events that routed nowhere, newest first: the intake's trim reads
-- them down to its cap and deletes the rest without scanning every event.
-- Partial, so that a routed event (the usual one) writes nothing here.
CREATE INDEX events_unrouted ON events (id) WHERE routing = 'unrouted';

-- +goose Down
DROP INDEX events_unrouted;
