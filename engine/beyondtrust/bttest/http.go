package bttest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Paths the appliance serves.
const (
	PathToken     = "/oauth2/token"
	PathReporting = "/api/reporting"
	PathCommand   = "/api/command"
)

// Fault makes the appliance misbehave on matching requests.
type Fault struct {
	Path string // PathToken, PathReporting or PathCommand; "" matches all
	// Op is a report name or command action; "" matches any.
	Op string
	// Times is how many matching requests it hits; 0 means all of them.
	Times  int
	Delay  time.Duration // wait this long before answering
	Hang   bool          // never answer: wait until the client gives up
	Status int           // answer this status instead (0: handle normally)
	Body   string        // with this body (e.g. malformed XML)
	// RetryAfter sets the Retry-After header, for a 429.
	RetryAfter string
}

// Inject adds a fault; faults are checked in the order added.
func (a *Appliance) Inject(f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = append(a.faults, &f)
}

// ClearFaults removes every fault.
func (a *Appliance) ClearFaults() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = nil
}

// fault returns the first fault matching the request and uses up one of
// its hits.
func (a *Appliance) fault(path, op string) (Fault, bool) {
	for i, f := range a.faults {
		if (f.Path != "" && f.Path != path) || (f.Op != "" && f.Op != op) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				a.faults = append(a.faults[:i], a.faults[i+1:]...)
			}
		}
		return *f, true
	}
	return Fault{}, false
}

func (a *Appliance) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PathToken, a.serveToken)
	mux.HandleFunc(PathReporting, a.serveAPI(PathReporting, "generate_report", a.report))
	mux.HandleFunc(PathCommand, a.serveAPI(PathCommand, "action", a.command))
	mux.HandleFunc(PathConfig, a.serveConfig)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.conns.Requests++
		if r.TLS != nil && r.TLS.DidResume {
			a.conns.Resumed++
		}
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

// inject counts the call, waits for latency, and applies a matching fault.
// It reports whether the fault answered the request.
func (a *Appliance) inject(w http.ResponseWriter, r *http.Request, path, op string) bool {
	a.mu.Lock()
	a.calls[op]++
	latency := a.latency
	f, ok := a.fault(path, op)
	a.mu.Unlock()
	wait := latency + f.Delay
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return true
		}
	}
	if !ok {
		return false
	}
	if f.Hang {
		<-r.Context().Done()
		return true
	}
	if f.Status == 0 && f.Body == "" {
		return false
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(f.Body))
	return true
}

// serveToken is the OAuth 2 client-credentials endpoint. It answers an
// unknown client id and a wrong secret with different error descriptions;
// the real appliance's wording is not documented, so this is our choice.
func (a *Appliance) serveToken(w http.ResponseWriter, r *http.Request) {
	if a.inject(w, r, PathToken, "token") {
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "use POST"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	id, secret, ok := r.BasicAuth()
	a.mu.Lock()
	acc, known := a.accounts[id]
	switch {
	case !ok || !known:
		a.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "unknown client id"})
		return
	case acc.ClientSecret != secret:
		a.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "client secret does not match"})
		return
	}
	t := a.issue(acc)
	life := a.tokenLife
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": t.value, "token_type": "Bearer", "expires_in": int64(life / time.Second)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// request is one parsed API call.
type request struct {
	op      string
	form    url.Values
	locale  string
	account *Account
}

// serveAPI checks the bearer token and hands the call to fn, which returns
// the HTTP status and the XML body.
func (a *Appliance) serveAPI(path, opParam string, fn func(req request) (int, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		op := r.Form.Get(opParam)
		if a.inject(w, r, path, op) {
			return
		}
		locale := r.Form.Get("locale")
		if locale == "" {
			locale = strings.TrimSpace(strings.Split(r.Header.Get("Accept-Language"), ",")[0])
		}
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		acc, ok := a.account(tok)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(errorDoc(a.namespace(path), "Invalid or expired access token.")))
			return
		}
		status, body := fn(request{op: op, form: r.Form, locale: locale, account: acc})
		if status == http.StatusOK && strings.HasPrefix(body, "PK") {
			// The Syslog report is a ZIP archive (Sekoia's fixture,
			// BeyondTrust/tests/test_connector_pra_syslog.py), and so is
			// EndpointLicenseUsage (license.go).
			w.Header().Set("Content-Type", "application/zip")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}
