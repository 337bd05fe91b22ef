package siemtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WebhookOptions configure a webhook receiver.
type WebhookOptions struct {
	Addr string // "" for a free loopback port
	TLS  bool
	// Secret is the shared secret the signature is made with.
	Secret string
	// MaxAge refuses a timestamp further than this from Now (replays);
	// 0 does not check.
	MaxAge time.Duration
	Now    func() time.Time
}

// Webhook receives the plugin's signed JSON arrays as docs/siem.md tells
// a receiver to check them: X-Switchboard-Signature is sha256=<hex
// HMAC-SHA256 of "<X-Switchboard-Timestamp>.<body>">, compared in
// constant time. A bad or missing signature gets 401, a stale timestamp
// 401, a body that is not a JSON array 400.
type Webhook struct {
	faults
	*httptest.Server
	Cert Cert
	opts WebhookOptions

	mu      sync.Mutex
	events  []map[string]any
	refused []string
}

// NewWebhook starts a webhook receiver.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Webhook{opts: opts}
	srv, cert, err := server(opts.Addr, http.HandlerFunc(h.serve), opts.TLS)
	if err != nil {
		return nil, err
	}
	h.Server, h.Cert = srv, cert
	return h, nil
}

// Events returns the accepted events in order.
func (h *Webhook) Events() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// Held counts the accepted events.
func (h *Webhook) Held() int { return len(h.Events()) }

// Refused lists why requests were refused.
func (h *Webhook) Refused() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.refused)
}

func (h *Webhook) refuse(w http.ResponseWriter, status int, why string) {
	h.mu.Lock()
	h.refused = append(h.refused, why)
	h.mu.Unlock()
	http.Error(w, why, status)
}

func (h *Webhook) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	fault, faulty, done := h.begin(w, r)
	if done {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.refuse(w, http.StatusBadRequest, "unreadable body")
		return
	}
	ts := r.Header.Get("X-Switchboard-Timestamp")
	m := hmac.New(sha256.New, []byte(h.opts.Secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Switchboard-Signature"))) {
		h.refuse(w, http.StatusUnauthorized, "bad signature")
		return
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		h.refuse(w, http.StatusUnauthorized, "bad timestamp")
		return
	}
	if age := h.opts.Now().Sub(time.Unix(sec, 0)).Abs(); h.opts.MaxAge > 0 && age > h.opts.MaxAge {
		h.refuse(w, http.StatusUnauthorized, "stale timestamp")
		return
	}
	var evs []map[string]any
	if err := json.Unmarshal(body, &evs); err != nil {
		h.refuse(w, http.StatusBadRequest, "not a JSON array of objects")
		return
	}
	h.mu.Lock()
	h.events = append(h.events, evs...)
	h.mu.Unlock()
	if faulty {
		fault.write(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
