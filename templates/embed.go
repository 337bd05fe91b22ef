// Package templates holds Switchboard's default report templates. They are
// compiled into the binary; a file of the same relative path in the data
// directory's templates folder overrides one (see docs/templates.md).
package templates

import "embed"

// FS holds the default templates: <name>.hbs at the top, partials under
// partials/.
//
//go:embed *.hbs partials/*.hbs
var FS embed.FS
