package service

import "switchboard/engine/store"

// The store's errors and delivery states, re-exported so that the admin UI
// and the JSON API, which go through the service, never import the store.
var (
	// ErrConflict is an update of a configuration someone else changed
	// meanwhile.
	ErrConflict = store.ErrConflict
	// ErrState is an action its object's current state does not allow.
	ErrState = store.ErrState
	// ErrUnavailable is a store that cannot be reached.
	ErrUnavailable = store.ErrUnavailable
	// ErrAdminExists is a setup when an admin account exists already.
	ErrAdminExists = store.ErrAdminExists
	// ErrSetupToken is a setup link that is not valid or has expired.
	ErrSetupToken = store.ErrSetupToken
	// ErrAdminNameTaken is a username another admin account has.
	ErrAdminNameTaken = store.ErrAdminNameTaken
	// ErrLastAdmin refuses to disable or delete the last enabled admin.
	ErrLastAdmin = store.ErrLastAdmin
)

// Delivery states.
const (
	StatePending  = store.StatePending
	StateRunning  = store.StateRunning
	StateRetrying = store.StateRetrying
	StateDone     = store.StateDone
	StateFailed   = store.StateFailed
	StateSkipped  = store.StateSkipped
)

// TemplateVersion is one saved version of a template.
type TemplateVersion = store.TemplateVersion
