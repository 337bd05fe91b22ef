-- +goose Up
-- What several engines of a cluster must count together (see
-- engine/store/budgets.go and engine/store/login_failures.go).
--
-- budget_slots: one row per request slot of a remote budget (Autotask's
-- three threads per integration code and endpoint) taken now. A row is
-- held by one engine (holder) for one request (lease) until lease_until;
-- the engine renews it while the request runs, so a dead engine's slots
-- come back once their lease expires. holder '' marks a slot given up but
-- still counted (a timed-out request the remote may still be working on).
CREATE TABLE budget_slots (
    budget      TEXT    NOT NULL,
    slot        INTEGER NOT NULL,
    holder      TEXT    NOT NULL,
    lease       TEXT    NOT NULL,
    lease_until BIGINT  NOT NULL,
    PRIMARY KEY (budget, slot)
);
CREATE INDEX budget_slots_holder ON budget_slots (holder);

-- budget_windows: the requests started in the current window of a budget
-- with a per-window allowance (Autotask's 10,000 an hour per database).
CREATE TABLE budget_windows (
    budget       TEXT    PRIMARY KEY,
    window_until BIGINT  NOT NULL,
    used         INTEGER NOT NULL
);

-- login_failures: failed admin logins per throttle key ("addr:" + client
-- address, "user:" + username). Nothing derived from a password is kept.
CREATE TABLE login_failures (
    throttle_key TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_at      BIGINT  NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE budget_windows;
DROP TABLE budget_slots;
