package autotasktest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// RandomFaults makes a share of the tenant's requests fail, drawn from a
// seeded source, for trying a client against a flaky tenant (`switchboard
// simulate`, the crash harness). Each drawn fault goes through Inject, so it
// has the shapes the fixed faults have; under concurrency it may land on
// another request to the same endpoint, which keeps the shares.
type RandomFaults struct {
	Seed uint64
	// ServerError is the share answered 500 with the web-server error body
	// (autotask-api.md §5 "Error body": {"Message": …}, no errors list).
	ServerError float64
	// AfterWrite is the share of server errors given after the request was
	// carried out: the write happened, the client cannot know.
	AfterWrite float64
	// TooMany is the share answered 429 with Retry-After (autotask-api.md
	// §5 "Status codes" and §6 "What a throttled response looks like").
	TooMany float64
	// RetryAfter is the Retry-After header of those 429s (default "1").
	RetryAfter string
	// Timeout is the share carried out and then held for TimeoutDelay, so
	// that a client with a shorter timeout gives up after the write; a
	// client that waits that long gets the server error.
	Timeout float64
	// TimeoutDelay defaults to one minute, beyond a client's 30 s.
	TimeoutDelay time.Duration
}

// Validate says what is wrong with the shares.
func (rf RandomFaults) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"server error", rf.ServerError}, {"after write", rf.AfterWrite}, {"429", rf.TooMany}, {"timeout", rf.Timeout}} {
		if f.v < 0 || f.v > 1 {
			return fmt.Errorf("autotasktest: the %s share %v is not between 0 and 1", f.name, f.v)
		}
	}
	if sum := rf.ServerError + rf.TooMany + rf.Timeout; sum > 1 {
		return fmt.Errorf("autotasktest: the fault shares add up to %v, more than 1", sum)
	}
	return nil
}

// StartWithFaults is Start with random faults on every authenticated call
// (zoneInformation is never failed: the tenant's zone lookup is not thread
// limited and clients cache it).
func StartWithFaults(addr string, opts Options, rf RandomFaults) (*Server, error) {
	if err := rf.Validate(); err != nil {
		return nil, err
	}
	if rf.RetryAfter == "" {
		rf.RetryAfter = "1"
	}
	if rf.TimeoutDelay <= 0 {
		rf.TimeoutDelay = time.Minute
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("autotasktest: listen on %s: %w", addr, err)
	}
	s := newServer(opts)
	d := &dice{s: s, rf: rf, rng: rand.New(rand.NewPCG(rf.Seed, rf.Seed^0x9e3779b97f4a7c15))}
	s.srv = &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed on Close
	return s, nil
}

// dice draws a fault for each request and injects it before serving.
type dice struct {
	s  *Server
	rf RandomFaults

	mu  sync.Mutex
	rng *rand.Rand
}

func (d *dice) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	if rest, ok := strings.CutPrefix(strings.ToLower(path), "atservicesrest/v1.0/"); ok && rest != "zoneinformation" {
		if f, ok := d.draw(); ok {
			f.Method, f.Endpoint, f.Times = r.Method, endpointOf(strings.Split(path[len("atservicesrest/v1.0/"):], "/")), 1
			d.s.Inject(f)
		}
	}
	d.s.ServeHTTP(w, r)
}

// draw rolls for one request.
func (d *dice) draw() (Fault, bool) {
	d.mu.Lock()
	roll, after := d.rng.Float64(), d.rng.Float64()
	d.mu.Unlock()
	rf := d.rf
	switch {
	case roll < rf.ServerError:
		return Fault{Status: http.StatusInternalServerError, AfterWrite: after < rf.AfterWrite}, true
	case roll < rf.ServerError+rf.TooMany:
		return Fault{Status: http.StatusTooManyRequests, RetryAfter: rf.RetryAfter}, true
	case roll < rf.ServerError+rf.TooMany+rf.Timeout:
		return Fault{Status: http.StatusInternalServerError, Delay: rf.TimeoutDelay, AfterWrite: true}, true
	}
	return Fault{}, false
}
