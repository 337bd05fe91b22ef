package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"switchboard/engine/store"
)

// API tokens let scripts and SOAR tools call the JSON API with
// "Authorization: Bearer <token>". A token reads
// "sbt_<prefix>_<secret>": prefix is 12 random URL-safe characters, the
// token's non-secret id, shown in lists and logs; secret is 32 random bytes.
// Only the SHA-256 of the whole token is stored.
const (
	tokenMark      = "sbt_"
	prefixBytes    = 9  // 12 characters of base64url
	secretBytes    = 32 // 43 characters of base64url
	prefixLen      = 12
	secretLen      = 43
	maxTokenName   = 100
	tokenTouchStep = time.Minute
	tokenKey       = "auth.apitoken"
)

// ScopeRead lets a token make GET (and HEAD) requests of the JSON API and
// nothing else. It is the only scope for now.
const ScopeRead = "read"

// ErrInvalidToken means the bearer token is unknown, malformed or revoked.
// The three are not told apart.
var ErrInvalidToken = errors.New("invalid API token")

// APIToken describes a token; it never holds the token itself.
type APIToken struct {
	ID        int64
	Name      string
	Prefix    string // the token's non-secret id
	Scope     string
	CreatedBy string
	CreatedAt time.Time
	LastUsed  time.Time // zero: never used
	RevokedAt time.Time // zero: valid
	// Suspended, when not empty, says why a token not revoked gets 401:
	// the admin who made it is disabled or removed.
	Suspended string
}

// Revoked reports whether the token was revoked.
func (t APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Label names the token in logs and audit lines: its name and prefix.
func (t APIToken) Label() string { return fmt.Sprintf("API token %q (%s)", t.Name, t.Prefix) }

func tokenFrom(r store.APIToken) APIToken {
	return APIToken{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Scope: r.Scope, CreatedBy: r.CreatedBy,
		CreatedAt: time.UnixMilli(r.CreatedAt), LastUsed: msTime(r.LastUsedAt), RevokedAt: msTime(r.RevokedAt)}
}

func msTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// TokenNameError refuses a token name.
type TokenNameError struct{ Reason string }

func (e *TokenNameError) Error() string { return e.Reason }

// CheckTokenName says what is wrong with a token name (*TokenNameError),
// or nil.
func CheckTokenName(name string) error {
	switch {
	case name == "":
		return &TokenNameError{"give the token a name, such as the tool that will use it"}
	case utf8.RuneCountInString(name) > maxTokenName:
		return &TokenNameError{fmt.Sprintf("the name is longer than %d characters", maxTokenName)}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return &TokenNameError{"the name holds control characters"}
	}
	return nil
}

// APITokens lists every token, newest first, revoked ones included.
func (m *Manager) APITokens(ctx context.Context) ([]APIToken, error) {
	rows, err := m.st.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	admins, err := m.st.ListAdminUsers(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*store.AdminUser, len(admins))
	for i := range admins {
		byName[admins[i].Username] = &admins[i]
	}
	out := make([]APIToken, 0, len(rows))
	for _, r := range rows {
		t := tokenFrom(r)
		if !t.Revoked() {
			t.Suspended = suspended(byName[r.CreatedBy], r)
		}
		out = append(out, t)
	}
	return out, nil
}

// CreateAPIToken makes a read-only token named name on actor's behalf and
// returns it with the token, which is shown once and kept nowhere.
func (m *Manager) CreateAPIToken(ctx context.Context, actor User, name string) (APIToken, string, error) {
	name = strings.TrimSpace(name)
	if err := CheckTokenName(name); err != nil {
		return APIToken{}, "", err
	}
	p, s := make([]byte, prefixBytes), make([]byte, secretBytes)
	rand.Read(p) // never fails: crypto/rand panics rather than return short
	rand.Read(s)
	prefix := base64.RawURLEncoding.EncodeToString(p)
	token := tokenMark + prefix + "_" + base64.RawURLEncoding.EncodeToString(s)
	row := store.APIToken{Name: name, Prefix: prefix, TokenHash: hashToken(token), Scope: ScopeRead, CreatedBy: actor.Username}
	err := m.st.CreateAPIToken(ctx, &row, store.AuditEntry{Actor: actor.Username, Action: "apitoken.create",
		Summary: fmt.Sprintf("created read-only API token %q (%s)", name, prefix)})
	if err != nil {
		return APIToken{}, "", err
	}
	m.log.Info("API token created", "token", prefix, "name", name, "by", actor.Username)
	return tokenFrom(row), token, nil
}

// RevokeAPIToken revokes the token id on actor's behalf: from now on it
// gets 401.
func (m *Manager) RevokeAPIToken(ctx context.Context, actor User, id int64) error {
	rows, err := m.st.ListAPITokens(ctx)
	if err != nil {
		return err
	}
	label := fmt.Sprintf("API token %d", id)
	for _, r := range rows {
		if r.ID == id {
			label = tokenFrom(r).Label()
		}
	}
	err = m.st.RevokeAPIToken(ctx, id, store.AuditEntry{Actor: actor.Username, Action: "apitoken.revoke", Summary: "revoked " + label})
	if err != nil {
		return err
	}
	m.log.Info("API token revoked", "token", label, "by", actor.Username)
	return nil
}

// VerifyAPIToken returns the valid token that token is, or ErrInvalidToken.
// The row is found by the token's prefix and its hash compared in constant
// time, so the database lookup says nothing about the secret part.
func (m *Manager) VerifyAPIToken(ctx context.Context, token string) (APIToken, error) {
	prefix, ok := parseToken(token)
	if !ok {
		return APIToken{}, ErrInvalidToken
	}
	rows, err := m.st.APITokensByPrefix(ctx, prefix)
	if err != nil {
		return APIToken{}, err
	}
	want := []byte(hashToken(token))
	for _, r := range rows {
		if subtle.ConstantTimeCompare([]byte(r.TokenHash), want) != 1 || r.RevokedAt != 0 {
			continue
		}
		u, err := m.st.AdminUserByName(ctx, r.CreatedBy)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return APIToken{}, err
		}
		if suspended(u, r) != "" {
			return APIToken{}, ErrInvalidToken
		}
		t := tokenFrom(r)
		if now := time.Now(); now.Sub(t.LastUsed) >= tokenTouchStep {
			if err := m.st.TouchAPIToken(ctx, t.ID, now); err != nil {
				m.log.Warn("note the use of an API token", "token", t.Prefix, "err", err)
			}
		}
		return t, nil
	}
	return APIToken{}, ErrInvalidToken
}

// suspended says why token r does not work though it is not revoked, or
// "": a token speaks for the admin who made it (u, nil when no account has
// that name), so it stops working while that account is disabled, and for
// good once it is removed (an account made later under the same name is
// another admin).
func suspended(u *store.AdminUser, r store.APIToken) string {
	switch {
	case u == nil || u.CreatedAt > r.CreatedAt:
		return fmt.Sprintf("suspended: admin %s, who made it, was removed", r.CreatedBy)
	case u.Disabled():
		return fmt.Sprintf("suspended: admin %s, who made it, is disabled", r.CreatedBy)
	}
	return ""
}

// parseToken checks a token's shape and returns its prefix.
func parseToken(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, tokenMark)
	if !ok || len(rest) != prefixLen+1+secretLen || rest[prefixLen] != '_' {
		return "", false
	}
	prefix, secret := rest[:prefixLen], rest[prefixLen+1:]
	if _, err := base64.RawURLEncoding.DecodeString(prefix); err != nil {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", false
	}
	return prefix, true
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(req *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(req.Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// bearer admits a request of the JSON API carrying a valid API token, and
// only as far as its scope allows. A bad token gets 401 with no detail.
func (m *Manager) bearer(c echo.Context, next echo.HandlerFunc, token string) error {
	t, err := m.VerifyAPIToken(c.Request().Context(), token)
	switch {
	case errors.Is(err, ErrInvalidToken):
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
	case err != nil:
		return echo.NewHTTPError(http.StatusServiceUnavailable, "cannot check the API token").SetInternal(err)
	}
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead:
	default:
		return c.JSON(http.StatusForbidden, map[string]string{"error": "this API token is read-only: it may only make GET requests"})
	}
	c.Set(tokenKey, t)
	c.Set(userKey, User{Username: t.Label()})
	return next(c)
}

// TokenFrom returns the API token that authenticated the request, if any.
func TokenFrom(c echo.Context) (APIToken, bool) {
	t, ok := c.Get(tokenKey).(APIToken)
	return t, ok
}
