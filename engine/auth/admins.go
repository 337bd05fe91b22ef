package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine/store"
)

// ErrSelf refuses an admin disabling or removing their own account: another
// admin does that, so nobody locks themselves out by a slip.
var ErrSelf = errors.New("you cannot disable or remove your own account")

// Admins lists every admin account.
func (m *Manager) Admins(ctx context.Context) ([]store.AdminUser, error) {
	return m.st.ListAdminUsers(ctx)
}

// AddAdmin creates an account for username, recorded in the audit log as
// actor's change.
func (m *Manager) AddAdmin(ctx context.Context, actor User, username, password string) error {
	username = strings.TrimSpace(username)
	if err := CheckUsernameRules(username); err != nil {
		return err
	}
	if err := CheckPasswordRules(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), m.cost)
	if err != nil {
		return fmt.Errorf("auth: hash password: %w", err)
	}
	err = m.st.CreateAdminUser(ctx, &store.AdminUser{Username: username, PasswordHash: string(hash)},
		store.AuditEntry{Actor: actor.Username, Action: "admin.create", Summary: fmt.Sprintf("added admin account %q", username)})
	if err != nil {
		return err
	}
	m.log.Info("admin account added", "user", username, "by", actor.Username)
	return nil
}

// SetAdminDisabled disables (signing it out everywhere) or enables the
// account id on actor's behalf. Nobody disables themselves, and the last
// enabled account stays enabled.
func (m *Manager) SetAdminDisabled(ctx context.Context, actor User, id int64, disabled bool) error {
	u, err := m.admin(ctx, actor, id)
	if err != nil {
		return err
	}
	action, summary := "admin.enable", fmt.Sprintf("enabled admin account %q", u.Username)
	if disabled {
		action, summary = "admin.disable", fmt.Sprintf("disabled admin account %q and ended its sessions", u.Username)
	}
	if err := m.st.SetAdminDisabled(ctx, id, disabled, store.AuditEntry{Actor: actor.Username, Action: action, Summary: summary}); err != nil {
		return err
	}
	m.log.Info(summary, "by", actor.Username)
	return nil
}

// RemoveAdmin deletes the account id on actor's behalf, with the same
// rules as disabling it.
func (m *Manager) RemoveAdmin(ctx context.Context, actor User, id int64) error {
	u, err := m.admin(ctx, actor, id)
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("removed admin account %q", u.Username)
	if err := m.st.DeleteAdminUser(ctx, id, store.AuditEntry{Actor: actor.Username, Action: "admin.remove", Summary: summary}); err != nil {
		return err
	}
	m.log.Info(summary, "by", actor.Username)
	return nil
}

// admin finds account id, refusing actor's own.
func (m *Manager) admin(ctx context.Context, actor User, id int64) (*store.AdminUser, error) {
	if id == actor.ID {
		return nil, ErrSelf
	}
	list, err := m.st.ListAdminUsers(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("admin account %d: %w", id, store.ErrNotFound)
}
