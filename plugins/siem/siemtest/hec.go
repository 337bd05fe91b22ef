package siemtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// HECOptions configure a HEC receiver.
type HECOptions struct {
	Addr  string // "" for a free loopback port
	TLS   bool
	Token string
	// Ack turns indexer acknowledgement on for the token: a channel is
	// required and every accepted request gets an ackId.
	Ack bool
	// AckAfter is how many ack queries answer false before true.
	AckAfter int
	// Indexes the token may write to; empty allows any.
	Indexes []string
}

// HECEvent is one event the receiver accepted.
type HECEvent struct {
	Channel string
	// Envelope is the envelope as decoded by Events.
	Envelope map[string]any
	// Raw is the envelope as received.
	Raw json.RawMessage
}

// hecEnvelope is what the receiver checks of an envelope: that event is
// there and not blank, and the index. It decodes into this struct rather
// than a map, so that checking a large batch costs little; Events builds
// the maps when a test asks.
type hecEnvelope struct {
	Event json.RawMessage `json:"event"`
	Index string          `json:"index"`
}

// HEC is a Splunk HTTP Event Collector.
type HEC struct {
	faults
	*httptest.Server
	Cert Cert
	opts HECOptions

	mu      sync.Mutex
	events  []HECEvent
	nextAck map[string]int64
	queries map[string]int // by channel+ackId
}

// NewHEC starts a HEC receiver.
func NewHEC(opts HECOptions) (*HEC, error) {
	h := &HEC{opts: opts, nextAck: map[string]int64{}, queries: map[string]int{}}
	mux := http.NewServeMux()
	for _, p := range []string{"/services/collector", "/services/collector/event", "/services/collector/event/1.0"} {
		mux.HandleFunc("POST "+p, h.event)
	}
	mux.HandleFunc("POST /services/collector/ack", h.ack)
	mux.HandleFunc("GET /services/collector/health", func(w http.ResponseWriter, _ *http.Request) { hecReply(w, 200, 17, "HEC is healthy") })
	srv, cert, err := server(opts.Addr, mux, opts.TLS)
	if err != nil {
		return nil, err
	}
	h.Server, h.Cert = srv, cert
	return h, nil
}

func hecReply(w http.ResponseWriter, status, code int, text string, extra ...any) {
	m := map[string]any{"text": text, "code": code}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(m)
}

// auth checks "Authorization: Splunk <token>" or Basic with the token as
// password: code 2 without one, 3 for a malformed header, 4 for a wrong token.
// The receiver's token does not have query-string authorization enabled, so
// a ?token= without the header is code 16 (reference: siem-forwarding.md,
// HEC auth and codes).
func (h *HEC) auth(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Get("Authorization")
	var tok string
	switch {
	case v == "" && r.URL.Query().Has("token"):
		hecReply(w, 400, 16, "Query string authorization is not enabled")
		return false
	case v == "":
		hecReply(w, 401, 2, "Token is required")
		return false
	case strings.HasPrefix(v, "Splunk "):
		tok = strings.TrimPrefix(v, "Splunk ")
	case strings.HasPrefix(v, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v, "Basic "))
		if err != nil {
			hecReply(w, 401, 3, "Invalid authorization")
			return false
		}
		_, tok, _ = strings.Cut(string(raw), ":")
	default:
		hecReply(w, 401, 3, "Invalid authorization")
		return false
	}
	if tok != h.opts.Token {
		hecReply(w, 403, 4, "Invalid token")
		return false
	}
	return true
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// channel returns the request's channel, answering 400 code 10 or 11 when
// acknowledgement needs one and it is missing or not a GUID.
func (h *HEC) channel(w http.ResponseWriter, r *http.Request) (string, bool) {
	ch := r.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = r.URL.Query().Get("channel")
	}
	if !h.opts.Ack {
		return ch, true
	}
	if ch == "" {
		hecReply(w, 400, 10, "Data channel is missing")
		return "", false
	}
	if !guid.MatchString(ch) {
		hecReply(w, 400, 11, "Invalid data channel")
		return "", false
	}
	return ch, true
}

func (h *HEC) event(w http.ResponseWriter, r *http.Request) {
	fault, faulty, done := h.begin(w, r)
	if done {
		return
	}
	if !h.auth(w, r) {
		return
	}
	ch, ok := h.channel(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		hecReply(w, 400, 6, "Invalid data format")
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		hecReply(w, 400, 5, "No data")
		return
	}
	// Envelopes are concatenated: no array, no commas. Each must be a JSON
	// object; the accepted ones keep their bytes (a slice of body).
	dec := json.NewDecoder(bytes.NewReader(body))
	var accepted []HECEvent
	for i := 0; ; i++ {
		start := dec.InputOffset()
		var env hecEnvelope
		if err := dec.Decode(&env); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			h.keep(accepted)
			hecReply(w, 400, 6, "Invalid data format", "invalid-event-number", i)
			return
		}
		raw := bytes.TrimSpace(body[start:dec.InputOffset()])
		if len(raw) == 0 || raw[0] != '{' {
			h.keep(accepted)
			hecReply(w, 400, 6, "Invalid data format", "invalid-event-number", i)
			return
		}
		if env.Event == nil {
			h.keep(accepted)
			hecReply(w, 400, 12, "Event field is required", "invalid-event-number", i)
			return
		}
		if ev := string(env.Event); ev == "null" || ev == `""` {
			h.keep(accepted)
			hecReply(w, 400, 13, "Event field cannot be blank", "invalid-event-number", i)
			return
		}
		if idx := env.Index; idx != "" && len(h.opts.Indexes) > 0 && !slices.Contains(h.opts.Indexes, idx) {
			h.keep(accepted)
			hecReply(w, 400, 7, "Incorrect index", "invalid-event-number", i)
			return
		}
		accepted = append(accepted, HECEvent{Channel: ch, Raw: raw})
	}
	h.keep(accepted)
	if faulty {
		fault.write(w, r)
		return
	}
	if h.opts.Ack {
		h.mu.Lock()
		id := h.nextAck[ch]
		h.nextAck[ch]++
		h.mu.Unlock()
		hecReply(w, 200, 0, "Success", "ackId", id)
		return
	}
	hecReply(w, 200, 0, "Success")
}

func (h *HEC) keep(evs []HECEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, evs...)
}

func (h *HEC) ack(w http.ResponseWriter, r *http.Request) {
	if !h.auth(w, r) {
		return
	}
	if !h.opts.Ack {
		hecReply(w, 400, 14, "ACK is disabled")
		return
	}
	ch, ok := h.channel(w, r)
	if !ok {
		return
	}
	var req struct {
		Acks []int64 `json:"acks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		hecReply(w, 400, 6, "Invalid data format")
		return
	}
	out := map[string]bool{}
	h.mu.Lock()
	for _, id := range req.Acks {
		key := ch + "/" + itoa(int(id))
		h.queries[key]++
		out[itoa(int(id))] = id < h.nextAck[ch] && h.queries[key] > h.opts.AckAfter
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"acks": out})
}

// Events returns what the receiver accepted, in order, each envelope
// decoded into a map.
func (h *HEC) Events() []HECEvent {
	h.mu.Lock()
	out := slices.Clone(h.events)
	h.mu.Unlock()
	for i := range out {
		_ = json.Unmarshal(out[i].Raw, &out[i].Envelope)
	}
	return out
}

// Held counts the events the receiver accepted.
func (h *HEC) Held() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}
