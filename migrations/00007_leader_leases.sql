-- +goose Up
-- One row per job that one engine of a cluster runs at a time (rescue of
-- expired leases, purge, retention trims): whoever holds the unexpired row
-- runs it, and renews it while it lives; a dead engine's row expires and
-- another engine takes it over.
CREATE TABLE leader_leases (
    name        TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL,
    lease_until BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE leader_leases;
