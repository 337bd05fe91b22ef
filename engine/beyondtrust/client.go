package beyondtrust

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchboard/engine/outbound"
)

// DefaultTimeout bounds one call to the appliance when Options.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// maxResponse caps what one API answer may take in memory; a larger one
// reads as truncated, a malformed response.
const maxResponse = 256 << 20

// batchSize is how many lsids one SupportSession call asks for, which keeps
// a backfill's responses, and so its memory, small.
const batchSize = 50

// Options say how to reach one appliance.
type Options struct {
	Host         string // host[:port], no scheme
	ClientID     string
	ClientSecret string // plain value
	// Locale asks for session data in that language, e.g. "en-us". It is
	// sent as the `locale` request parameter and as Accept-Language.
	Locale            string
	Product           string // "rs" or "pra"
	AllowInvalidCerts bool
	UseNonTLS         bool
	Timeout           time.Duration // per call; default 30s
	// RootCAs, when set, replaces the system roots for verifying the
	// appliance (tests use the simulator's pool).
	RootCAs *x509.CertPool
}

// tlsSessions is how many TLS sessions a client keeps for resumption: one
// per appliance address it calls, and it calls one.
const tlsSessions = 4

// maxTokenAnswer caps what the token endpoint's answer may take.
const maxTokenAnswer = 64 << 10

// maxErrorAnswer is how much of an API error answer is read, to quote its
// start.
const maxErrorAnswer = 4 << 10

// Client talks to one appliance's OAuth, reporting and command APIs. It is
// safe for concurrent use. Every call opens its own connection: the vendor
// asks API clients to close the connection after each call.
//
// Its HTTP calls go through the connector kit (engine/outbound): the
// per-call timeout, the answer limits, no redirect followed, the secret
// masked in every error, and, under a dry run's context
// (outbound.WithPlanner), a write handed to the plan instead of sent. Its
// errors are still *Error, whose kinds say what an admin must do.
type Client struct {
	opts   Options
	tokens *TokenCache
	key    tokenKey
	tls    *tls.Config
	// auth sends the token requests, api the reporting and command calls.
	auth, api *outbound.Client
	// batch shares one report call between concurrent Session calls.
	batch batcher
	// red hides the client secret in every form it travels in (plain,
	// Basic header Base64, URL- and JSON-escaped) in everything an error
	// may quote; do adds the access token of its call.
	red *outbound.Redactor
}

// NewClient returns a client for opts. Tokens come from the shared cache, or
// from a private one when tokens is nil.
func NewClient(opts Options, tokens *TokenCache) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Product == "" {
		opts.Product = ProductRS
	}
	if tokens == nil {
		tokens = NewTokenCache()
	}
	c := &Client{opts: opts, tokens: tokens,
		red: outbound.NewRedactor(opts.ClientSecret).WithBasic(opts.ClientID, opts.ClientSecret)}
	c.tls = &tls.Config{
		ServerName:         hostOnly(opts.Host),
		RootCAs:            opts.RootCAs,
		InsecureSkipVerify: opts.AllowInvalidCerts, //nolint:gosec // the admin's explicit choice for test appliances
		MinVersion:         tls.VersionTLS12,
		// Every call has its own connection, as the vendor asks; that
		// connection resumes the client's last TLS session when the
		// appliance offers tickets, which spares the certificate
		// signature and its verification on each call. The vendor asks
		// for the connection to be closed, not for a new TLS session;
		// an appliance that offers no tickets gets full handshakes. The
		// cache is this client's (one configuration's) alone.
		ClientSessionCache: tls.NewLRUClientSessionCache(tlsSessions),
	}
	kit := outbound.Options{
		Name: "beyondtrust",
		HTTP: &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     c.tls,
			DisableKeepAlives:   true,
			TLSHandshakeTimeout: opts.Timeout,
		}},
		Timeout:  opts.Timeout,
		Redactor: c.red,
		// An appliance API never redirects; a redirect means the host
		// setting points at something else (a login page, a portal).
		NoRedirects: true,
		RetryAfter:  DefaultRetryAfter,
		// A call that timed out fails; the delivery's own retry asks again
		// (and a token request sent twice could mint a token too many).
		TimeoutRetries: -1,
	}
	auth, api := kit, kit
	auth.MaxBody = maxTokenAnswer
	api.MaxBody, api.MaxErrorBody = maxResponse, maxErrorAnswer
	c.auth, c.api = outbound.New(auth), outbound.New(api)
	c.key = tokenKey{base: c.baseURL(), clientID: opts.ClientID, secret: sha256.Sum256([]byte(opts.ClientSecret))}
	return c
}

// Product is the product the client was configured for: "rs" or "pra".
func (c *Client) Product() string { return c.opts.Product }

// Host is the appliance host the client talks to.
func (c *Client) Host() string { return c.opts.Host }

func (c *Client) baseURL() string {
	if c.opts.UseNonTLS {
		return "http://" + c.opts.Host
	}
	return "https://" + c.opts.Host
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// hostProblem explains why a host setting cannot be an appliance's root.
func hostProblem(host string) string {
	lower := strings.ToLower(strings.TrimSpace(host))
	switch {
	case lower == "":
		return "Invalid host — the B Series Appliance Host Name is empty"
	case strings.Contains(lower, "://"):
		return "Invalid host — enter the host name only, without http:// or https://"
	case strings.Contains(lower, "/login"):
		return "Invalid Base URL — remove /login and use the root URL"
	case strings.Contains(lower, "/"):
		return "Invalid host — remove the path and enter the host name only"
	case strings.ContainsAny(lower, " \t?#@"):
		return "Invalid host — enter a host name such as support.example.com"
	}
	return ""
}

func (c *Client) checkHost(op string) error {
	if msg := hostProblem(c.opts.Host); msg != "" {
		return &Error{Kind: KindInvalidHost, Op: op, Detail: msg}
	}
	return nil
}

// Token obtains a token, or finds a valid one in the cache. The Test button
// uses it to check the client id and secret.
func (c *Client) Token(ctx context.Context) error {
	_, err := c.token(ctx)
	return err
}

func (c *Client) token(ctx context.Context) (string, error) {
	if err := c.checkHost("token"); err != nil {
		return "", err
	}
	tok, err := c.tokens.get(ctx, c.key, c.mint)
	return tok, scrub(c.red, err)
}

// tokenResponse is the OAuth token endpoint's JSON, success or failure.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
}

// mint asks the appliance for a new token with the client credentials.
func (c *Client) mint(ctx context.Context) (string, time.Duration, error) {
	const op = "token"
	basic := base64.StdEncoding.EncodeToString([]byte(c.opts.ClientID + ":" + c.opts.ClientSecret))
	resp, err := c.auth.Do(ctx, outbound.Request{
		Method: http.MethodPost, URL: c.baseURL() + "/oauth2/token", Op: op,
		Header:      http.Header{"Authorization": {"Basic " + basic}},
		Body:        []byte(url.Values{"grant_type": {"client_credentials"}}.Encode()),
		ContentType: "application/x-www-form-urlencoded",
		// A token is what reads need: a dry run asks for one too.
		Idempotent: true,
	})
	if resp == nil {
		return "", 0, c.failed(op, err, c.red)
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(resp.Body, &tr)
	switch {
	case resp.Status == http.StatusOK && err == nil && jsonErr == nil && tr.AccessToken != "":
		life := time.Duration(tr.ExpiresIn) * time.Second
		if life <= 0 {
			life = time.Hour // the documented lifetime
		}
		return tr.AccessToken, life, nil
	case resp.Status == http.StatusOK:
		return "", 0, &Error{Kind: KindMalformed, Op: op, Status: resp.Status, Detail: "no access_token in the answer: " + snippet(c.red, resp.Body)}
	case resp.Status == http.StatusBadRequest || resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		return "", 0, c.authError(op, resp.Status, tr, resp.Body)
	}
	return "", 0, c.statusError(op, resp.Status, resp.Header, snippet(c.red, resp.Body))
}

// authError reads the token endpoint's refusal. Telling an unknown client
// id from a wrong secret relies on the words of the answer.
func (c *Client) authError(op string, status int, tr tokenResponse, body []byte) error {
	detail := strings.TrimSpace(strings.Join(nonEmpty(tr.Error, tr.ErrorDescription, tr.Message), ": "))
	if detail == "" {
		detail = snippet(c.red, body)
	}
	e := &Error{Kind: KindAuth, Op: op, Status: status, Detail: detail}
	lower := strings.ToLower(tr.ErrorDescription + " " + tr.Message)
	switch {
	case strings.Contains(lower, "unknown client"):
		e.Err = ErrUnknownClientID
	case strings.Contains(lower, "secret"):
		e.Err = ErrBadClientSecret
	}
	return e
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// statusError classifies an HTTP status other than 200 from any endpoint;
// detail is the answer's redacted snippet.
func (c *Client) statusError(op string, status int, header http.Header, detail string) error {
	e := &Error{Op: op, Status: status, Detail: detail}
	switch {
	case status >= 500:
		e.Kind = KindServer
	case status == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
		e.RetryAfter = outbound.RetryAfter(header.Get("Retry-After"), time.Now(), DefaultRetryAfter)
		e.Detail = "retry after " + e.RetryAfter.String()
	case status == http.StatusUnauthorized:
		e.Kind = KindAuth
		e.Detail = "the appliance refused a freshly issued token"
	case status == http.StatusForbidden:
		e.Kind = KindPermission
		e.need = c.need(op)
	case status == http.StatusNotFound || (status >= 300 && status < 400):
		e.Kind = KindInvalidHost
		e.Detail = fmt.Sprintf("Invalid host — %s answered HTTP %d for the API; enter the appliance's root host name", c.opts.Host, status)
	default:
		e.Kind = KindRejected
	}
	return e
}

// need names the permission an operation requires.
func (c *Client) need(op string) string {
	switch op {
	case "get_api_info", "set_session_attributes":
		return NeedCommand
	}
	if strings.HasPrefix(op, configPrefix) {
		return NeedConfig
	}
	if c.opts.Product == ProductPRA {
		return NeedPRAReporting
	}
	return NeedRSReporting
}

// transportError classifies a failure to get any HTTP answer.
func (c *Client) transportError(op string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Kind: KindTimeout, Op: op, Detail: fmt.Sprintf("no answer from %s in time", c.opts.Host), Err: context.DeadlineExceeded}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindTimeout, Op: op, Detail: "call canceled", Err: context.Canceled}
	}
	if p := certificateProblem(err); p != "" {
		return &Error{Kind: KindCertificate, Op: op, Detail: p, Err: err}
	}
	return &Error{Kind: KindNetwork, Op: op, Err: err}
}

// failed turns the kit's error for a call that got no usable answer into
// an *Error: a status the appliance answered, a write a dry run kept, the
// per-call timeout, a request that could not be built, or the network.
func (c *Client) failed(op string, err error, red *outbound.Redactor) error {
	var oe *outbound.Error
	switch {
	case !errors.As(err, &oe):
		return err
	case oe.Status != 0:
		return c.statusError(op, oe.Status, oe.Header, snippet(red, oe.Body))
	case errors.Is(oe.Err, outbound.ErrNotSent):
		return &Error{Kind: KindNotSent, Op: op, Err: oe.Err}
	case oe.Timeout > 0:
		return c.transportError(op, context.DeadlineExceeded)
	case oe.Verdict.Class == outbound.Permanent: // the URL cannot be built from the host
		return &Error{Kind: KindInvalidHost, Op: op, Detail: hostProblem(c.opts.Host), Err: oe.Err}
	}
	return c.transportError(op, oe.Err)
}

// snippet quotes the start of a body for an error message, redacted
// before it is cut so that the cut cannot split a secret.
func snippet(red *outbound.Redactor, body []byte) string {
	s := red.String(strings.TrimSpace(string(body)))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// scrub masks every secret red knows in err's text: an *Error's Detail and
// cause are redacted in place (Explain quotes Detail), anything else is
// wrapped. errors.Is and errors.As still see the chain. Every error the
// client returns passes here, so no answer that echoes the request (the
// Basic header, the form, the bearer token) reaches a Test result, a
// delivery error or a log.
func scrub(red *outbound.Redactor, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return red.Error(err)
	}
	e.Detail = red.String(e.Detail)
	e.Err = red.Error(e.Err)
	return err
}

// call POSTs form to an API path with a token, retrying once with a fresh
// token if the appliance answers 401, and hands a 200 body to parse.
func (c *Client) call(ctx context.Context, op, path string, form url.Values, parse func(io.Reader) error) error {
	if c.opts.Locale != "" {
		form.Set("locale", c.opts.Locale)
	}
	return c.callMethod(ctx, http.MethodPost, op, path, form, parse, nil)
}

// callMethod sends one API call (POST with form as its body, or GET with
// form as its query) with a token, retrying once with a fresh token if the
// appliance answers 401, hands a 200 body to parse and, when got is not
// nil, keeps the answer's header there.
func (c *Client) callMethod(ctx context.Context, method, op, path string, form url.Values, parse func(io.Reader) error, got *http.Header) error {
	if err := c.checkHost(op); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx)
		if err != nil {
			return err
		}
		red := c.red.With(tok)
		err = scrub(red, c.send(ctx, method, op, path, form, tok, parse, got, red))
		var e *Error
		if attempt == 0 && errors.As(err, &e) && e.Kind == KindAuth && e.Status == http.StatusUnauthorized {
			// The token was revoked (secret regenerated, or pushed out by
			// a 31st token): drop it and try once with a new one.
			c.tokens.drop(c.key, tok)
			continue
		}
		return err
	}
}

func (c *Client) send(ctx context.Context, method, op, path string, form url.Values, tok string, parse func(io.Reader) error, got *http.Header, red *outbound.Redactor) error {
	header := http.Header{"Authorization": {"Bearer " + tok}, "Accept": {"*/*"}}
	if c.opts.Locale != "" {
		header.Set("Accept-Language", c.opts.Locale)
	}
	req := outbound.Request{
		Method: method, URL: c.baseURL() + path, Op: op, Header: header,
		Stream: parse,
		// Reports, listings and get_api_info only read, so a dry run
		// sends them; set_session_attributes is the one write, which it
		// plans.
		Idempotent: op != actionSetAttributes,
	}
	if method == http.MethodGet {
		header.Set("Accept", "application/json") // the Configuration API asks it of a GET
		if len(form) > 0 {
			req.URL += "?" + form.Encode()
		}
	} else {
		req.Body, req.ContentType = []byte(form.Encode()), "application/x-www-form-urlencoded"
	}
	resp, err := c.api.Do(ctx, req)
	var oe *outbound.Error
	switch {
	case err == nil:
		if got != nil && resp != nil {
			*got = resp.Header
		}
		return nil
	case resp == nil || errors.As(err, &oe):
		return c.failed(op, err, red)
	}
	return c.bodyError(op, resp.Status, err, red)
}

// bodyError classifies what went wrong reading a 200 answer.
func (c *Client) bodyError(op string, status int, err error, red *outbound.Redactor) error {
	var re *ResponseError
	var pe *ParseError
	switch {
	case errors.As(err, &re):
		e := &Error{Kind: KindRejected, Op: op, Status: status, Detail: re.Message, Err: err}
		msg := strings.ToLower(re.Message)
		switch {
		case strings.Contains(msg, "xml api") && strings.Contains(msg, "not enabled"):
			e.Kind, e.need = KindPermission, NeedXMLAPI
		case containsAny(msg, "permission", "not allowed", "not authorized", "access denied", "not have access"):
			e.Kind, e.need = KindPermission, c.need(op)
		case containsAny(msg, "login failed", "authentication", "invalid token", "expired token"):
			e.Kind = KindAuth
		}
		return e
	case errors.As(err, &pe):
		pe.Head = red.Cut(pe.Head) // the answer's first bytes: the cut may split a secret
		return &Error{Kind: KindMalformed, Op: op, Status: status, Err: err}
	}
	return c.transportError(op, err)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// report runs one generate_report call.
func (c *Client) report(ctx context.Context, name string, form url.Values, parse func(io.Reader) error) error {
	form.Set("generate_report", name)
	return c.call(ctx, name, "/api/reporting", form, parse)
}

// command runs one command API action.
func (c *Client) command(ctx context.Context, action string, form url.Values, parse func(io.Reader) error) error {
	form.Set("action", action)
	return c.call(ctx, action, "/api/command", form, parse)
}

// sessionReport is SupportSession for RS and AccessSession for PRA.
func (c *Client) sessionReport() string {
	if c.opts.Product == ProductPRA {
		return "AccessSession"
	}
	return "SupportSession"
}

// Session fetches the full report of one session. An unknown lsid gives an
// *Error of KindNotFound (errors.Is(err, ErrNotFound)). Alone it is one
// call; Session calls made while another is in flight share the next call
// (batcher).
func (c *Client) Session(ctx context.Context, lsid string) (*Session, error) {
	return c.batch.session(ctx, c, lsid)
}

// sessionAlone fetches one session's report in a call of its own.
func (c *Client) sessionAlone(ctx context.Context, lsid string) (*Session, error) {
	ss, err := c.Sessions(ctx, []string{lsid})
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		if s.LSID == lsid {
			return s, nil
		}
	}
	for _, s := range ss {
		if s.LSID == "" {
			// Asked for one lsid, the appliance answered a session that
			// names none: whose it is cannot be known, and asking again
			// gets the same answer.
			return nil, &Error{Kind: KindInvalidReport, Op: c.sessionReport(),
				Detail: "the report for session " + lsid + " holds a session with no lsid"}
		}
	}
	return nil, &Error{Kind: KindNotFound, Op: c.sessionReport(), Detail: "lsid " + lsid, Err: ErrNotFound}
}

// Sessions fetches the reports of several sessions, in batches; lsids the
// appliance does not know are left out.
func (c *Client) Sessions(ctx context.Context, lsids []string) ([]*Session, error) {
	var out []*Session
	for start := 0; start < len(lsids); start += batchSize {
		batch := lsids[start:min(start+batchSize, len(lsids))]
		form := url.Values{}
		if len(batch) == 1 {
			form.Set("lsid", batch[0])
		} else {
			form.Set("lsids", strings.Join(batch, ","))
		}
		err := c.report(ctx, c.sessionReport(), form, func(r io.Reader) error {
			ss, err := ParseSessions(r)
			out = append(out, ss...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for _, s := range out {
		if s.Product == "" {
			s.Product = c.opts.Product
		}
	}
	return out, nil
}

// EndedSince lists the sessions that ended at or after since, up to now.
func (c *Client) EndedSince(ctx context.Context, since time.Time) ([]SessionSummary, error) {
	name := "SupportSessionListing"
	if c.opts.Product == ProductPRA {
		name = "AccessSessionListing"
	}
	form := url.Values{"end_time": {unix(since)}, "duration": {"0"}}
	var out []SessionSummary
	err := c.report(ctx, name, form, func(r io.Reader) error {
		var err error
		out, err = ParseListing(r)
		return err
	})
	return out, err
}

// ExitSurveys lists the customer or representative exit surveys submitted
// in [start, start+duration); a zero duration means up to now. Only Remote
// Support has exit surveys.
func (c *Client) ExitSurveys(ctx context.Context, kind SurveyKind, start time.Time, duration time.Duration) ([]SurveyRecord, error) {
	if c.opts.Product == ProductPRA {
		return nil, &Error{Kind: KindRejected, Op: kind.report(), Detail: "exit surveys exist only in Remote Support"}
	}
	form := url.Values{
		"start_time":  {unix(start)},
		"duration":    {strconv.FormatInt(int64(duration/time.Second), 10)},
		"report_type": {"rep"},
		"id":          {"all"},
	}
	var out []SurveyRecord
	err := c.report(ctx, kind.report(), form, func(r io.Reader) error {
		var err error
		out, err = ParseSurveys(r, kind)
		return err
	})
	return out, err
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// APIInfo runs get_api_info: the API version, the appliance clock and the
// account's permissions.
func (c *Client) APIInfo(ctx context.Context) (*APIInfo, error) {
	var info *APIInfo
	err := c.command(ctx, "get_api_info", url.Values{}, func(r io.Reader) error {
		var err error
		info, err = ParseAPIInfo(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	if info.Product == "" {
		info.Product = c.opts.Product
	}
	return info, nil
}

// actionSetAttributes is the command that writes into a session: the one
// call a dry run does not send.
const actionSetAttributes = "set_session_attributes"

// SetSessionAttributes sets the external key (when externalKey is not nil;
// "" clears it) and custom attributes, by code name, of an active session.
func (c *Client) SetSessionAttributes(ctx context.Context, lsid string, externalKey *string, custom map[string]string) error {
	form := url.Values{"lsid": {lsid}}
	if externalKey != nil {
		form.Set("session.custom.external_key", *externalKey)
	}
	for code, v := range custom {
		form.Set("session.custom."+code, v)
	}
	return c.command(ctx, actionSetAttributes, form, func(r io.Reader) error {
		_, err := ParseCommandResult(r)
		return err
	})
}

// CheckTLS resolves the host, opens a TCP connection and, unless the client
// uses plain HTTP, completes a TLS handshake that verifies the certificate.
func (c *Client) CheckTLS(ctx context.Context) error {
	return scrub(c.red, c.checkTLS(ctx))
}

func (c *Client) checkTLS(ctx context.Context) error {
	const op = "tls"
	if err := c.checkHost(op); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	host, port, err := net.SplitHostPort(c.opts.Host)
	if err != nil {
		host, port = c.opts.Host, "443"
		if c.opts.UseNonTLS {
			port = "80"
		}
	}
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
		return c.transportError(op, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return c.transportError(op, err)
	}
	defer conn.Close()
	if c.opts.UseNonTLS {
		return nil
	}
	// A full handshake: the check is of the certificate the appliance
	// presents now, which a resumed session would not show.
	full := c.tls.Clone()
	full.ClientSessionCache = nil
	tc := tls.Client(conn, full)
	if err := tc.HandshakeContext(ctx); err != nil {
		return c.transportError(op, err)
	}
	return nil
}
