package render

import "errors"

// ErrInternal marks a render that failed because of a bug: a runtime
// panic in the evaluator, in a helper or in a value's String method. The
// template is not at fault, so the error is not permanent: the dispatcher
// retries it with backoff (an upgrade that fixes the bug then delivers the
// report without a manual replay), and the attempt budget bounds the cost
// of a bug that fails every time. The panic is logged with its stack.
var ErrInternal = errors.New("internal error")

// TemplateError is a render that failed because of its template: a
// template or partial that is missing, a helper given an argument it
// cannot use, partials nested too deep. Retrying cannot help until the
// template changes, so it is permanent.
type TemplateError struct{ Err error }

// ErrNoTemplate means a template name is not one of the set's templates.
var ErrNoTemplate = errors.New("no template")

func (e *TemplateError) Error() string { return e.Err.Error() }
func (e *TemplateError) Unwrap() error { return e.Err }

// PermanentError tells the dispatcher (engine.Classify) not to retry.
func (e *TemplateError) PermanentError() bool { return true }
