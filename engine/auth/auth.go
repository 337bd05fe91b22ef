// Package auth signs admins in to Switchboard's admin listener: accounts
// with bcrypt password hashes, login sessions kept in the database, a
// one-time setup link on first start, slowed-down password guessing, and the
// echo middleware that guards the admin UI and the JSON API (sessions, HTTP
// Basic for the CLI, CSRF).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine/store"
)

// Account and session limits.
const (
	// DefaultUsername is the account SWITCHBOARD_ADMIN_PASSWORD creates and
	// the one the setup form suggests.
	DefaultUsername = "admin"
	// MinPasswordLength is the shortest password accepted, in characters.
	MinPasswordLength = 10
	// maxPasswordBytes is bcrypt's input limit; longer passwords are refused
	// rather than silently cut.
	maxPasswordBytes = 72
	// SessionIdle ends a login that is not used for this long.
	SessionIdle = 12 * time.Hour
	// SessionMax ends every login this long after it began, used or not.
	SessionMax = 7 * 24 * time.Hour
	// SetupTokenTTL is how long a printed setup link stays valid; a restart
	// prints a fresh one.
	SetupTokenTTL = 24 * time.Hour
	// touchEvery limits session expiry updates to one write per interval.
	touchEvery = 5 * time.Minute
)

// ErrInvalidCredentials means the username or the password is wrong. The
// two are not told apart, so a guesser learns nothing about which accounts
// exist.
var ErrInvalidCredentials = errors.New("wrong username or password")

// ErrNoSession means the session token is unknown or has expired.
var ErrNoSession = errors.New("not signed in")

// ThrottledError refuses a login attempt after too many failures.
type ThrottledError struct {
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %s", e.Wait.Round(time.Second))
}

// User is a signed-in admin.
type User struct {
	ID       int64
	Username string
}

// Manager checks passwords and keeps login sessions.
type Manager struct {
	st       *store.Store
	log      *slog.Logger
	cost     int
	throttle *throttle
	// dummyHash is compared against when the username is unknown, so a
	// wrong username takes as long as a wrong password.
	dummyHash func() []byte
	// compare is bcrypt's check (tests count the calls); verified
	// remembers the credentials it let in.
	compare  func(hash, password []byte) error
	verified *verifiedSet
	// csrfKey signs CSRF tokens; it never leaves the process, so a
	// restart asks open forms to be reloaded.
	csrfKey  []byte
	refusals refusalLog
}

// BcryptCost is the work factor of new password hashes. 12 costs about a
// quarter second per check on a small server: cheap for one login, dear for
// a guesser holding the hashes. Tests lower it (bcrypt.MinCost) before
// calling New, as the race detector makes each check take seconds. Stored
// hashes carry their own cost, so changing it never breaks a login.
var BcryptCost = 12

// New returns a Manager keeping accounts and sessions in st.
func New(st *store.Store, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{st: st, log: logger, cost: BcryptCost, throttle: newThrottle(st, time.Now), csrfKey: newCSRFKey(),
		compare: bcrypt.CompareHashAndPassword, verified: newVerifiedSet()}
	m.dummyHash = sync.OnceValue(func() []byte {
		hash, err := bcrypt.GenerateFromPassword([]byte(newToken()), m.cost)
		if err != nil {
			// GenerateFromPassword fails only for a cost out of range
			// or a password over 72 bytes; neither can happen here.
			panic(fmt.Sprintf("auth: hash the dummy password: %v", err))
		}
		return hash
	})
	return m
}

// NeedsSetup reports whether no admin account exists yet.
func (m *Manager) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := m.st.CountAdminUsers(ctx)
	if err != nil {
		return false, fmt.Errorf("auth: %w", err)
	}
	return n == 0, nil
}

// Bootstrap prepares the first admin account on a fresh database. With an
// account already present it does nothing and returns "". Otherwise, given
// envPassword (SWITCHBOARD_ADMIN_PASSWORD), it creates the account "admin"
// with it; without one it stores a new one-time setup token and returns the
// path of the setup link ("/setup?token=…") for the server to log. Each call
// replaces the previous link.
func (m *Manager) Bootstrap(ctx context.Context, envPassword string) (string, error) {
	need, err := m.NeedsSetup(ctx)
	if err != nil || !need {
		return "", err
	}
	if envPassword != "" {
		if err := CheckPasswordRules(envPassword); err != nil {
			return "", fmt.Errorf("auth: SWITCHBOARD_ADMIN_PASSWORD %w", err)
		}
		err := m.createFirst(ctx, DefaultUsername, envPassword, "")
		if errors.Is(err, store.ErrAdminExists) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		m.log.Info("created the admin account from SWITCHBOARD_ADMIN_PASSWORD", "user", DefaultUsername)
		return "", nil
	}
	token := newToken()
	if err := m.st.ReplaceSetupToken(ctx, hashToken(token), time.Now().Add(SetupTokenTTL)); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return "/setup?token=" + token, nil
}

// SetupTokenValid reports whether token is the current setup token and no
// admin account exists yet.
func (m *Manager) SetupTokenValid(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	need, err := m.NeedsSetup(ctx)
	if err != nil || !need {
		return false, err
	}
	ok, err := m.st.SetupTokenValid(ctx, hashToken(token))
	if err != nil {
		return false, fmt.Errorf("auth: %w", err)
	}
	return ok, nil
}

// CompleteSetup creates the first admin account through the setup link and
// uses the link up. It returns store.ErrSetupToken for a wrong or expired
// token and store.ErrAdminExists when an account exists already.
func (m *Manager) CompleteSetup(ctx context.Context, token, username, password string) error {
	if token == "" {
		return store.ErrSetupToken
	}
	if err := CheckUsernameRules(username); err != nil {
		return err
	}
	if err := CheckPasswordRules(password); err != nil {
		return err
	}
	if err := m.createFirst(ctx, username, password, hashToken(token)); err != nil {
		return err
	}
	m.log.Info("created the first admin account through the setup link", "user", username)
	return nil
}

func (m *Manager) createFirst(ctx context.Context, username, password, tokenHash string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), m.cost)
	if err != nil {
		return fmt.Errorf("auth: hash password: %w", err)
	}
	u := &store.AdminUser{Username: username, PasswordHash: string(hash)}
	if err := m.st.CreateFirstAdmin(ctx, u, tokenHash); err != nil {
		if errors.Is(err, store.ErrAdminExists) || errors.Is(err, store.ErrSetupToken) {
			return err
		}
		return fmt.Errorf("auth: %w", err)
	}
	return nil
}

// PasswordRuleError says why a password or username was refused.
type PasswordRuleError struct{ Reason string }

func (e *PasswordRuleError) Error() string { return e.Reason }

// CheckPasswordRules refuses passwords too short for bcrypt to protect or
// too long for it to read whole.
func CheckPasswordRules(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return &PasswordRuleError{Reason: fmt.Sprintf("must be at least %d characters long", MinPasswordLength)}
	case len(password) > maxPasswordBytes:
		return &PasswordRuleError{Reason: fmt.Sprintf("must be at most %d bytes long", maxPasswordBytes)}
	}
	return nil
}

// CheckUsernameRules accepts 1 to 64 printable characters without spaces or
// a colon (which HTTP Basic cannot carry in a username).
func CheckUsernameRules(username string) error {
	if username == "" || utf8.RuneCountInString(username) > 64 {
		return &PasswordRuleError{Reason: "username must be 1 to 64 characters long"}
	}
	for _, r := range username {
		if r <= ' ' || r == ':' || r == 0x7f {
			return &PasswordRuleError{Reason: "username may not contain spaces, control characters or a colon"}
		}
	}
	return nil
}

// Verify checks a username and password, slowing down repeated failures
// from one address or for one username. It returns ErrInvalidCredentials or
// a *ThrottledError on refusal.
func (m *Manager) Verify(ctx context.Context, username, password, addr string) (User, error) {
	username = strings.TrimSpace(username)
	defer m.throttle.turn(addr, username)()
	wait, failed, err := m.throttle.wait(ctx, addr, username)
	if err != nil {
		return User{}, fmt.Errorf("auth: %w", err)
	}
	if wait > 0 {
		m.log.Warn("admin login refused: too many failures", "user", username, "addr", addr, "wait", wait.Round(time.Second))
		return User{}, &ThrottledError{Wait: wait}
	}
	u, err := m.st.AdminUserByName(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return User{}, fmt.Errorf("auth: %w", err)
	}
	now := time.Now()
	if u != nil && !u.Disabled() && m.verified.has(username, password, u.PasswordHash, now) {
		m.succeeded(ctx, failed, addr, username)
		return User{ID: u.ID, Username: u.Username}, nil
	}
	hash := m.dummyHash()
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	// A disabled account is refused like a wrong password, after the same
	// bcrypt work, so its state is not told apart either.
	if m.compare(hash, []byte(password)) != nil || u == nil || u.Disabled() {
		m.log.Warn("admin login failed", "user", username, "addr", addr)
		// A failure that cannot be counted refuses the login all the
		// same, but as an error: the throttle must not be bypassed by
		// a database that does not answer.
		if err := m.throttle.fail(ctx, addr, username); err != nil {
			return User{}, fmt.Errorf("auth: %w", err)
		}
		return User{}, ErrInvalidCredentials
	}
	m.verified.add(username, password, u.PasswordHash, now)
	m.succeeded(ctx, failed, addr, username)
	return User{ID: u.ID, Username: u.Username}, nil
}

// succeeded forgets the failures of a login that went through, when any
// were counted. If the database does not take that, the failures stay and
// expire on their own.
func (m *Manager) succeeded(ctx context.Context, failed bool, addr, username string) {
	if !failed {
		return
	}
	if err := m.throttle.succeed(ctx, addr, username); err != nil {
		m.log.Warn("admin login: clear the failed attempts", "user", username, "err", err)
	}
}

// Session is a new login: the token goes into the cookie.
type Session struct {
	Token   string
	Expires time.Time
	User    User
}

// Login verifies the password and starts a session.
func (m *Manager) Login(ctx context.Context, username, password, addr, userAgent string) (Session, error) {
	u, err := m.Verify(ctx, username, password, addr)
	if err != nil {
		return Session{}, err
	}
	token := newToken()
	expires := time.Now().Add(SessionIdle)
	row := &store.AdminSession{
		TokenHash:  hashToken(token),
		UserID:     u.ID,
		ExpiresAt:  expires.UnixMilli(),
		RemoteAddr: addr,
		UserAgent:  truncate(userAgent, 200),
	}
	if err := m.st.CreateAdminSession(ctx, row); err != nil {
		return Session{}, fmt.Errorf("auth: %w", err)
	}
	m.log.Info("admin signed in", "user", u.Username, "addr", addr)
	return Session{Token: token, Expires: expires, User: u}, nil
}

// Authenticate returns the user of a session token and extends the
// session's idle expiry (within SessionMax). It returns ErrNoSession for an
// unknown or expired token.
func (m *Manager) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrNoSession
	}
	sess, u, err := m.st.AdminSessionByToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: %w", err)
	}
	if u.Disabled() {
		// Disabling ends the sessions; this guards a session read while
		// that happened.
		return User{}, ErrNoSession
	}
	now := time.Now()
	if time.Since(sess.LastSeen()) >= touchEvery {
		expires := now.Add(SessionIdle)
		if limit := time.UnixMilli(sess.CreatedAt).Add(SessionMax); expires.After(limit) {
			expires = limit
		}
		if err := m.st.TouchAdminSession(ctx, sess.ID, expires); err != nil {
			// The session still works until its old expiry; a failed
			// touch is worth a log line, not a refused page.
			m.log.Warn("extend admin session", "user", u.Username, "err", err)
		}
	}
	return User{ID: u.ID, Username: u.Username}, nil
}

// Logout ends the session with that token.
func (m *Manager) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := m.st.DeleteAdminSession(ctx, hashToken(token)); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return nil
}

// ChangePassword replaces the password of a signed-in user after checking
// the current one, and ends all of that user's sessions.
func (m *Manager) ChangePassword(ctx context.Context, u User, current, next, addr string) error {
	if _, err := m.Verify(ctx, u.Username, current, addr); err != nil {
		return err
	}
	return m.setPassword(ctx, u, next)
}

// ResetPassword sets the password of username without knowing the old one,
// for the operator's command line when the password is lost. On a database
// with no admin account it creates the account.
func (m *Manager) ResetPassword(ctx context.Context, username, password string) error {
	if err := CheckUsernameRules(username); err != nil {
		return err
	}
	u, err := m.st.AdminUserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		if err := CheckPasswordRules(password); err != nil {
			return err
		}
		err := m.createFirst(ctx, username, password, "")
		if errors.Is(err, store.ErrAdminExists) {
			return fmt.Errorf("auth: no admin account named %q", username)
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return m.setPassword(ctx, User{ID: u.ID, Username: u.Username}, password)
}

func (m *Manager) setPassword(ctx context.Context, u User, password string) error {
	if err := CheckPasswordRules(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), m.cost)
	if err != nil {
		return fmt.Errorf("auth: hash password: %w", err)
	}
	if err := m.st.SetAdminPassword(ctx, u.ID, string(hash)); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	m.log.Info("admin password changed; all of the user's sessions ended", "user", u.Username)
	return nil
}

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand panics rather than return short
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the database keeps of a token. A plain SHA-256 is
// enough: the token is random and long, so there is nothing to brute-force.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
