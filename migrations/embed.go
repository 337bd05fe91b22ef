// Package migrations holds the versioned SQL schema of Switchboard's store,
// embedded into the binary and applied at start and by `switchboard migrate`.
// Files are goose migrations: NNNNN_name.sql with Up and Down sections. The
// SQLite schema is at the top level; postgres/ holds its PostgreSQL twin,
// one file per version with the same number and the same tables.
package migrations

import (
	"embed"
	"io/fs"
)

// FS holds every SQLite migration file.
//
//go:embed *.sql
var FS embed.FS

//go:embed postgres/*.sql
var postgres embed.FS

// Postgres holds every PostgreSQL migration file, at its root.
var Postgres = func() fs.FS {
	sub, err := fs.Sub(postgres, "postgres")
	if err != nil {
		panic(err)
	}
	return sub
}()
