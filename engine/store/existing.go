package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNoDatabase is returned by OpenExisting when there is no database where
// dsn points: a maintenance command must not create an empty one there.
var ErrNoDatabase = errors.New("store: no database")

// OpenExisting opens a database that must already exist, for commands that
// act on an installation (reset-password, migrate) and would otherwise
// create a new, empty database in a mistaken folder and report success.
//
// A PostgreSQL database exists once its server accepts the connection (the
// database itself is made by its administrator); the schema in it is made
// by the first `switchboard migrate` or `serve`.
func OpenExisting(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if IsPostgres(dsn) {
		return Open(ctx, dsn, opts)
	}
	path, err := sqlitePath(dsn)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNoDatabase, path)
		}
		return nil, fmt.Errorf("store: %w", err)
	}
	return Open(ctx, dsn, opts)
}
