-- +goose Up
-- Report templates saved through the admin UI, every version kept: the
-- newest row of a (set_name, name) serves, above the files of the data
-- directory's templates folder. set_name '' is the overrides of every
-- configuration. A row with reverted TRUE says the admin reverted the
-- template (its body is empty): the next layer serves again. Older rows
-- are the history the editor offers to restore.
CREATE TABLE template_versions (
    id          INTEGER PRIMARY KEY,
    set_name    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    reverted    BOOLEAN NOT NULL DEFAULT FALSE,
    actor       TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX template_versions_name ON template_versions (set_name, name, id);

-- +goose Down
DROP TABLE template_versions;
