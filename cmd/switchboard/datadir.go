package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"switchboard/engine/store"
)

// openInstallation opens the database of an existing installation for a
// maintenance command. It never creates one: a wrong --data-dir would
// otherwise give a fresh empty database and a success message about it.
func openInstallation(ctx context.Context, dataDir, database string, opts store.Options) (*store.Store, error) {
	dsn := database
	if dsn == "" {
		dsn = store.DefaultPath(dataDir)
	}
	st, err := store.OpenExisting(ctx, dsn, opts)
	if errors.Is(err, store.ErrNoDatabase) {
		abs, _ := filepath.Abs(dataDir)
		return nil, fmt.Errorf("%w; looked in data dir %s: pass the installation's folder with --data-dir "+
			"(or SWITCHBOARD_DATA_DIR; the systemd unit uses /var/lib/switchboard, the Windows service %%ProgramData%%\\Switchboard), or --database", err, abs)
	}
	return st, err
}
