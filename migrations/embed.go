// Package migrations holds the versioned SQL schema of Switchboard's store,
// embedded into the binary and applied at start and by `switchboard migrate`.
// Files are goose migrations: NNNNN_name.sql with Up and Down sections.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
