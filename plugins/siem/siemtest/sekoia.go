package siemtest

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// SekoiaOptions configure a Sekoia.io HTTP intake receiver.
type SekoiaOptions struct {
	Addr string // "" for a free loopback port
	TLS  bool
	// IntakeKey is the key senders must present.
	IntakeKey string
}

// SekoiaEvent is one event the intake accepted.
type SekoiaEvent struct {
	ID   string
	Body string
	// Timestamp is the X-SEKOIAIO-EVENT-TIMESTAMP header, if any.
	Timestamp string
}

// Sekoia is the Sekoia.io HTTP intake's plain endpoints: POST /plain (one
// event → {"event_id"}) and POST /plain/batch (newline-separated events →
// {"event_ids"}), under any base path (regions use /api/v1/intake-http),
// with the intake key in X-SEKOIAIO-INTAKE-KEY, as a Basic password or
// in ?intake_key=, and gzip bodies. Sekoia does not document its error
// answers: a missing or wrong key gets a bare 401 here, the only refusal
// this receiver makes on its own.
type Sekoia struct {
	faults
	*httptest.Server
	Cert Cert
	opts SekoiaOptions

	mu     sync.Mutex
	events []SekoiaEvent
}

// NewSekoia starts an intake receiver.
func NewSekoia(opts SekoiaOptions) (*Sekoia, error) {
	s := &Sekoia{opts: opts}
	srv, cert, err := server(opts.Addr, http.HandlerFunc(s.serve), opts.TLS)
	if err != nil {
		return nil, err
	}
	s.Server, s.Cert = srv, cert
	return s, nil
}

// Events returns the accepted events in order.
func (s *Sekoia) Events() []SekoiaEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func (s *Sekoia) key(r *http.Request) string {
	if k := r.Header.Get("X-SEKOIAIO-INTAKE-KEY"); k != "" {
		return k
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return r.URL.Query().Get("intake_key")
}

func (s *Sekoia) serve(w http.ResponseWriter, r *http.Request) {
	batch := strings.HasSuffix(r.URL.Path, "/plain/batch")
	if r.Method != http.MethodPost || (!batch && !strings.HasSuffix(r.URL.Path, "/plain")) {
		http.NotFound(w, r)
		return
	}
	fault, faulty, done := s.begin(w, r)
	if done {
		return
	}
	if s.key(r) != s.opts.IntakeKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	lines := [][]byte{raw}
	if batch {
		lines = bytes.Split(raw, []byte{'\n'})
	}
	var ids []string
	ts := r.Header.Get("X-SEKOIAIO-EVENT-TIMESTAMP")
	s.mu.Lock()
	for _, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		id := uuid()
		ids = append(ids, id)
		s.events = append(s.events, SekoiaEvent{ID: id, Body: string(l), Timestamp: ts})
	}
	s.mu.Unlock()
	if faulty {
		fault.write(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if batch {
		_ = json.NewEncoder(w).Encode(map[string]any{"event_ids": ids})
		return
	}
	id := ""
	if len(ids) > 0 {
		id = ids[0]
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"event_id": id})
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Held counts the accepted events.
func (s *Sekoia) Held() int { return len(s.Events()) }
