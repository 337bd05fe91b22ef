package beyondtrust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"switchboard/engine/outbound"
)

// ErrorKind sorts appliance errors by what an admin has to do about them.
type ErrorKind int

// Error kinds. Auth, permission, certificate and invalid host are
// configuration problems that retrying cannot fix; the rest may pass.
const (
	KindAuth          ErrorKind = iota + 1 // the OAuth client id or secret was refused
	KindPermission                         // the API account lacks a permission
	KindCertificate                        // the appliance's TLS certificate is not trusted
	KindInvalidHost                        // the host setting is not an appliance's root
	KindNetwork                            // DNS, TCP or TLS failed
	KindTimeout                            // the call took longer than the timeout
	KindServer                             // the appliance answered 5xx
	KindRateLimited                        // the appliance answered 429
	KindMalformed                          // the answer was not the XML or JSON the API promises
	KindRejected                           // the appliance refused the request with an <error>
	KindNotFound                           // the appliance has no such session
	KindInvalidReport                      // the report cannot be used as it is (a session without an lsid)
	KindNotSent                            // a write a dry run planned instead of sending (outbound.ErrNotSent)
)

var kindNames = map[ErrorKind]string{
	KindAuth:          "authentication failed",
	KindPermission:    "permission missing",
	KindCertificate:   "certificate problem",
	KindInvalidHost:   "invalid host",
	KindNetwork:       "network error",
	KindTimeout:       "timeout",
	KindServer:        "appliance server error",
	KindRateLimited:   "rate limited",
	KindMalformed:     "malformed response",
	KindRejected:      "request refused",
	KindNotFound:      "not found",
	KindInvalidReport: "unusable report",
	KindNotSent:       "not sent (dry run)",
}

func (k ErrorKind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("error kind %d", int(k))
}

// How long to wait when the appliance answers 429 (rate limited): what its
// Retry-After header says, at least a second (outbound.MinRetryAfter) and
// at most MaxRetryAfter; DefaultRetryAfter when it says nothing usable
// (VultureOS's collector waits 10 s, reference section 5).
const (
	DefaultRetryAfter = 10 * time.Second
	MaxRetryAfter     = outbound.MaxRetryAfter
)

// ErrNotFound is what Client.Session returns (wrapped in *Error) when the
// appliance has no session with that lsid.
var ErrNotFound = errors.New("session not found on the appliance")

// Authentication failures that Switchboard can tell apart. The simulator
// answers an unknown client id differently from a wrong secret; what a real
// appliance says is not documented, so other answers read as "client id or
// secret".
var (
	ErrUnknownClientID = errors.New("the appliance does not know this OAuth client id")
	ErrBadClientSecret = errors.New("the OAuth client secret is wrong")
)

// Error is any failure of a call to the appliance. Its text never contains
// the client secret or a token.
type Error struct {
	Kind ErrorKind
	// Op is what was being done: "token", "tls", a report name such as
	// "SupportSession", or a command action such as "get_api_info".
	Op     string
	Status int    // HTTP status, when there was one
	Detail string // what the appliance or the network said, for the admin
	Err    error
	// RetryAfter is how long a KindRateLimited error asks to wait.
	RetryAfter time.Duration
	// need names the setting to change for KindPermission.
	need string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("beyondtrust: ")
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	b.WriteString(e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.need != "" {
		b.WriteString(": enable " + e.need)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Err != nil && !strings.Contains(e.Detail, e.Err.Error()) {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for a KindNotFound error.
func (e *Error) Is(target error) bool { return target == ErrNotFound && e.Kind == KindNotFound }

// PermanentError reports whether retrying cannot help: the configuration
// must change first, or the report is one no retry will change.
// engine.Classify reads it.
func (e *Error) PermanentError() bool {
	switch e.Kind {
	case KindAuth, KindPermission, KindCertificate, KindInvalidHost, KindInvalidReport, KindNotSent:
		return true
	}
	return false
}

// RetryAfterDelay reports, for a rate-limited call, how long the appliance
// asked to wait; engine.Classify reads it, so the delivery waits without
// spending an attempt.
func (e *Error) RetryAfterDelay() (time.Duration, bool) {
	return e.RetryAfter, e.Kind == KindRateLimited
}

// Permissions an API account may lack, in the words of the appliance's
// /login > Management > API Configuration page.
const (
	NeedRSReporting  = "Allow Access to Support Session Reports and Recordings"
	NeedPRAReporting = "Allow Access to Access Session Reports and Recordings"
	NeedCommand      = "Command API: Full Access"
	NeedXMLAPI       = "Enable XML API (Management > API Configuration)"
	NeedConfig       = "Configuration API access (Management > API Configuration)"
)

// Explain turns an error from this package into the short advice of the
// troubleshooting table, for the Test button and the event log.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	switch e.Kind {
	case KindAuth:
		switch {
		case errors.Is(e.Err, ErrUnknownClientID):
			return "Authentication failed — the appliance does not know this OAuth Client ID; copy it again from Management > API Configuration"
		case errors.Is(e.Err, ErrBadClientSecret):
			return "Authentication failed — the OAuth Client Secret is wrong; it may have been regenerated on the appliance"
		}
		return "Authentication failed — check the OAuth Client ID and Client Secret"
	case KindPermission:
		switch e.need {
		case NeedRSReporting, NeedPRAReporting:
			return "Permission denied — allow " + strings.TrimPrefix(e.need, "Allow ") + " for this API account"
		case NeedCommand:
			return "Permission denied — give this API account Full Access to the Command API"
		case NeedXMLAPI:
			return "Permission denied — tick Enable XML API in /login > Management > API Configuration"
		case NeedConfig:
			return "Permission denied — allow this API account to use the Configuration API in /login > Management > API Configuration"
		}
		return "Permission denied — check the API account's permissions in /login > Management > API Configuration"
	case KindCertificate:
		return "Certificate problem — " + e.Detail + "; install a certificate this server trusts, or tick Allow Invalid Certificates for a test appliance"
	case KindInvalidHost:
		return e.Detail
	case KindTimeout:
		return "Connection timeout — check HTTPS 443 from this server to the appliance"
	case KindNetwork:
		var dns *net.DNSError
		if errors.As(e.Err, &dns) {
			return "Host not found — check the B Series Appliance Host Name"
		}
		return "Cannot connect — check HTTPS 443 from this server to the appliance"
	case KindServer:
		return fmt.Sprintf("The appliance answered HTTP %d — it may be restarting or overloaded; try again later", e.Status)
	case KindRateLimited:
		return "The appliance is rate limiting this API account — too many calls; they will be retried"
	case KindMalformed:
		return "Unexpected answer — the host answered, but not as a BeyondTrust appliance API; check the host name"
	case KindNotFound:
		return "Session not found on the appliance"
	case KindInvalidReport:
		return "The appliance's report cannot be used: " + e.Detail + "; it is not retried"
	case KindNotSent:
		return "Not sent: a dry run (Preview delivery) makes no change on the appliance"
	}
	return "The appliance refused the request: " + e.Detail
}

// certificateProblem names what is wrong with a certificate, or "".
func certificateProblem(err error) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return "the certificate is signed by an unknown authority (self-signed or private CA)"
	case errors.As(err, &host):
		return "the certificate does not cover this host name: " + host.Error()
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "the certificate has expired or is not yet valid"
		}
		return "the certificate is invalid: " + invalid.Error()
	}
	return ""
}
