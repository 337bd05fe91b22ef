package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// The routed mode: posts that a configuration subscribes to, so that each
// acknowledged post is an event row and a delivery row in one commit, and
// the dispatcher then delivers it. The configuration is the SIEM plugin
// forwarding outbound events as they arrive to a webhook sink this process
// serves on loopback: a delivery costs the engine a claim, one small HTTP
// request and a finish, and nothing outside this machine is contacted.
const (
	adminPassword = "load-test-password-1"
	// routedEvent is an outbound event the SIEM plugin forwards as it
	// arrives, without fetching a session report.
	routedEvent   = "support_conference_member_added"
	unroutedEvent = "support_conference_end"
)

// sink is the webhook the routed configuration delivers to: it reads each
// request and answers 200, counting them.
type sink struct {
	url      string
	requests atomic.Int64
	srv      *http.Server
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String() + "/events"}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.requests.Add(1)
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) close() { _ = s.srv.Close() }

// routeTo creates, through the engine's admin API, the configuration that
// subscribes Appliance Id LoadTest to routedEvent, delivering to s.
func routeTo(adminURL string, s *sink) error {
	body, err := json.Marshal(map[string]any{
		"plugin": "siem",
		"appliance": map[string]any{
			"name": "load", "appliance_id": "LoadTest", "host": "appliance.invalid",
			"outbound_events": []string{routedEvent},
		},
		"settings": map[string]any{
			"destination": "webhook", "url": s.url, "credential": "load-test-signing-secret",
			"forward_outbound": true,
		},
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, adminURL+"/api/v1/configurations", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth("admin", adminPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("create the routed configuration: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("create the routed configuration: status %d: %s", resp.StatusCode, msg)
	}
	return nil
}

// delivered is how many webhook requests the engine's deliveries made so
// far (0 when not routed).
func (t *target) delivered() int64 {
	if t.sink == nil {
		return 0
	}
	return t.sink.requests.Load()
}
