// Package bttest is a BeyondTrust appliance simulator: OAuth, the reporting
// and command APIs in the Remote Support and Privileged Remote Access
// dialects, in-memory sessions that a test or the demo scripts event by
// event, fault injection, and the appliance's outbound-event sender. Tests
// and the demo talk to it over real HTTPS.
package bttest

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"switchboard/engine/beyondtrust"
)

// Default API account, used when no WithAccount option is given.
const (
	DefaultClientID     = "switchboard-test"
	DefaultClientSecret = "s3cr3t-Very+Long/Secret=="
)

// maxTokens is how many valid tokens an API account may hold; minting one
// more revokes the oldest, as the appliance does.
const maxTokens = 30

// Account is an API account of the simulated appliance.
type Account struct {
	ClientID     string
	ClientSecret string
	// Reporting grants "Allow Access to Support Session Reports and
	// Recordings" (perm_reporting_support; perm_reporting_access on PRA).
	Reporting bool
	// Command is the command API access: "full", "read_only" or "deny".
	Command string
	// Config grants the Configuration API (/api/config/v1).
	Config bool
}

// Appliance is one simulated B Series Appliance.
type Appliance struct {
	srv *httptest.Server

	mu          sync.Mutex
	product     string
	clock       func() time.Time
	offset      time.Duration
	tokenLife   time.Duration
	latency     time.Duration
	applianceID string
	accounts    map[string]*Account
	tokens      map[string][]issuedToken // by client id, oldest first
	sessions    map[string]*beyondtrust.Session
	surveys     []submittedSurvey
	team        []TeamEvent
	vault       []VaultActivity
	syslog      []string
	jumpItems   []JumpItemRow
	configItems []ConfigJumpItem
	lseq        int64
	faults      []*Fault
	calls       map[string]int
	conns       Connections
	minted      int
	senders     []*Sender
	refuse      func(op string)
}

type issuedToken struct {
	value   string
	expires time.Time
}

// Option configures an Appliance.
type Option func(*Appliance)

// WithProduct selects the dialect: beyondtrust.ProductRS (default) or
// beyondtrust.ProductPRA.
func WithProduct(product string) Option { return func(a *Appliance) { a.product = product } }

// WithAccount adds an API account; the first one given replaces the default.
func WithAccount(acc Account) Option {
	return func(a *Appliance) {
		if _, ok := a.accounts[DefaultClientID]; ok && len(a.accounts) == 1 && acc.ClientID != DefaultClientID {
			delete(a.accounts, DefaultClientID)
		}
		a.accounts[acc.ClientID] = &acc
	}
}

// WithClock sets the appliance's clock (default time.Now); Advance moves it.
func WithClock(now func() time.Time) Option { return func(a *Appliance) { a.clock = now } }

// WithTokenLifetime sets expires_in of issued tokens (default one hour).
func WithTokenLifetime(d time.Duration) Option { return func(a *Appliance) { a.tokenLife = d } }

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option { return func(a *Appliance) { a.latency = d } }

// WithRefuseWrites makes every command that changes a session
// (set_session_attributes) call refuse and fail with 500 without being
// carried out: a dry run's test fails in refuse.
func WithRefuseWrites(refuse func(op string)) Option {
	return func(a *Appliance) { a.refuse = refuse }
}

// WithApplianceID sets the appliance_id that outbound events carry.
func WithApplianceID(id string) Option { return func(a *Appliance) { a.applianceID = id } }

func newAppliance(opts []Option) *Appliance {
	a := &Appliance{
		product:     beyondtrust.ProductRS,
		clock:       time.Now,
		tokenLife:   time.Hour,
		applianceID: "Default",
		accounts: map[string]*Account{DefaultClientID: {
			ClientID: DefaultClientID, ClientSecret: DefaultClientSecret, Reporting: true, Command: "full", Config: true,
		}},
		tokens:   map[string][]issuedToken{},
		sessions: map[string]*beyondtrust.Session{},
		calls:    map[string]int{},
		lseq:     1000,
	}
	for _, o := range opts {
		o(a)
	}
	a.srv = httptest.NewUnstartedServer(a.handler())
	a.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			a.mu.Lock()
			a.conns.Opened++
			a.mu.Unlock()
		}
	}
	// Tests provoke TLS failures on purpose; the server need not log them.
	a.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	cert, err := selfSigned()
	if err != nil {
		panic("bttest: make the appliance certificate: " + err.Error())
	}
	// Classical key exchange only, as an appliance that predates the
	// post-quantum hybrids answers; it also keeps the simulator's share of
	// every handshake small.
	a.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}
	return a
}

// New starts a simulated appliance on a loopback port over HTTPS with a
// self-signed certificate; CertPool or Client trust it.
func New(opts ...Option) *Appliance {
	a := newAppliance(opts)
	a.srv.StartTLS()
	return a
}

// Serve starts a simulated appliance on addr (host:port) over HTTPS, for the
// CLI demo.
func Serve(addr string, opts ...Option) (*Appliance, error) {
	a := newAppliance(opts)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bttest: listen on %s: %w", addr, err)
	}
	a.srv.Listener.Close()
	a.srv.Listener = l
	a.srv.StartTLS()
	return a, nil
}

// Close stops the server and any outbound senders.
func (a *Appliance) Close() {
	a.mu.Lock()
	senders := slices.Clone(a.senders)
	a.mu.Unlock()
	for _, s := range senders {
		s.Close()
	}
	a.srv.CloseClientConnections()
	a.srv.Close()
}

// URL is the appliance's base URL, https://127.0.0.1:port.
func (a *Appliance) URL() string { return a.srv.URL }

// Host is host:port, the form the Host setting takes.
func (a *Appliance) Host() string { return a.srv.Listener.Addr().String() }

// CertPool trusts the appliance's certificate.
func (a *Appliance) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(a.srv.Certificate())
	return pool
}

// Certificate is the appliance's self-signed certificate, for a client in
// another process to trust.
func (a *Appliance) Certificate() *x509.Certificate { return a.srv.Certificate() }

// Client is an HTTP client that trusts the appliance.
func (a *Appliance) Client() *http.Client { return a.srv.Client() }

// Product is the simulated product, "rs" or "pra".
func (a *Appliance) Product() string { return a.product }

// ApplianceID is the appliance_id outbound events carry.
func (a *Appliance) ApplianceID() string { return a.applianceID }

// Options returns client options for the default account (or the first
// account given) that trust this appliance.
func (a *Appliance) Options() beyondtrust.Options {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, 0, len(a.accounts))
	for id := range a.accounts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	acc := a.accounts[ids[0]]
	return beyondtrust.Options{
		Host: a.Host(), ClientID: acc.ClientID, ClientSecret: acc.ClientSecret,
		Locale: "en-us", Product: a.product, RootCAs: a.CertPool(),
	}
}

// Now is the appliance's clock.
func (a *Appliance) Now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now()
}

func (a *Appliance) now() time.Time { return a.clock().Add(a.offset).UTC().Truncate(time.Second) }

// Advance moves the appliance's clock forward: tokens expire, sessions
// scripted afterwards get later timestamps.
func (a *Appliance) Advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offset += d
}

// SetAccount adds or replaces an API account. Replacing the secret revokes
// the account's tokens, as regenerating it on the appliance does.
func (a *Appliance) SetAccount(acc Account) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.accounts[acc.ClientID]; ok && old.ClientSecret != acc.ClientSecret {
		delete(a.tokens, acc.ClientID)
	}
	a.accounts[acc.ClientID] = &acc
}

// RevokeTokens invalidates every token issued so far.
func (a *Appliance) RevokeTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens = map[string][]issuedToken{}
}

// TokensIssued counts the tokens minted since the start.
func (a *Appliance) TokensIssued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.minted
}

// ValidTokens counts the unexpired, unrevoked tokens of an account.
func (a *Appliance) ValidTokens(clientID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, t := range a.tokens[clientID] {
		if a.now().Before(t.expires) {
			n++
		}
	}
	return n
}

// Connections is what the appliance saw of its clients' connections.
type Connections struct {
	Opened   int // TCP connections accepted
	Requests int // requests served, over all of them
	Resumed  int // requests on a connection whose TLS handshake resumed a session
}

// Connections returns the connection counters since the start.
func (a *Appliance) Connections() Connections {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conns
}

// Calls counts the requests for one operation: "token", a report name
// ("SupportSession", "AccessSessionListing", …) or a command action
// ("get_api_info", …).
func (a *Appliance) Calls(op string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[op]
}

// issue mints a token for acc, revoking the oldest beyond maxTokens.
func (a *Appliance) issue(acc *Account) issuedToken {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	t := issuedToken{value: hex.EncodeToString(b), expires: a.now().Add(a.tokenLife)}
	list := append(a.tokens[acc.ClientID], t)
	if len(list) > maxTokens {
		list = list[len(list)-maxTokens:]
	}
	a.tokens[acc.ClientID] = list
	a.minted++
	return t
}

// account returns the account a bearer token belongs to, if it is valid.
func (a *Appliance) account(token string) (*Account, bool) {
	now := a.now()
	for id, list := range a.tokens {
		for _, t := range list {
			if t.value == token && now.Before(t.expires) {
				return a.accounts[id], true
			}
		}
	}
	return nil, false
}
