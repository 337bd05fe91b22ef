package connectwisetest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"switchboard/engine/outbound"
)

// RandomFaults fails a share of API requests, drawn from a seeded source,
// for `switchboard simulate` against a flaky tenant. companyinfo is never
// failed.
type RandomFaults struct {
	Seed uint64
	// ServerError is the share answered 500 (reference §6).
	ServerError float64
	// AfterWrite is the share of those 500s given after the request was
	// carried out.
	AfterWrite float64
	// TooMany is the share answered 429 by the front end (reference §6);
	// RetryAfter is its header, "" for none.
	TooMany    float64
	RetryAfter string
	// Slow is the share held for SlowDelay before being answered.
	Slow      float64
	SlowDelay time.Duration
}

// Validate says what is wrong with the shares.
func (rf RandomFaults) Validate() error {
	for name, v := range map[string]float64{"server error": rf.ServerError, "after write": rf.AfterWrite, "429": rf.TooMany, "slow": rf.Slow} {
		if v < 0 || v > 1 {
			return fmt.Errorf("connectwisetest: the %s share %v is not between 0 and 1", name, v)
		}
	}
	if sum := rf.ServerError + rf.TooMany + rf.Slow; sum > 1 {
		return fmt.Errorf("connectwisetest: the fault shares add up to %v, more than 1", sum)
	}
	return nil
}

// StartWithFaults is Start with random faults on every API request.
func StartWithFaults(addr string, opts Options, rf RandomFaults) (*Server, error) {
	if err := rf.Validate(); err != nil {
		return nil, err
	}
	if rf.SlowDelay <= 0 {
		rf.SlowDelay = 5 * time.Second
	}
	return startWith(addr, opts, func(s *Server) http.Handler {
		return &roller{s: s, rf: rf, rng: rand.New(rand.NewPCG(rf.Seed, ^rf.Seed))}
	})
}

type roller struct {
	s  *Server
	rf RandomFaults

	mu  sync.Mutex
	rng *rand.Rand
}

func (d *roller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(strings.TrimPrefix(r.URL.Path, "/"), Codebase+"apis/3.0/"); ok {
		d.mu.Lock()
		roll, second := d.rng.Float64(), d.rng.Float64()
		d.mu.Unlock()
		f := Fault{Method: r.Method, Path: strings.Trim(rest, "/"), Times: 1}
		rf := d.rf
		switch {
		case roll < rf.ServerError:
			f.Status, f.AfterWrite = http.StatusInternalServerError, second < rf.AfterWrite
			d.s.Inject(f)
		case roll < rf.ServerError+rf.TooMany:
			f.Status, f.RetryAfter = http.StatusTooManyRequests, rf.RetryAfter
			d.s.Inject(f)
		case roll < rf.ServerError+rf.TooMany+rf.Slow:
			if !outbound.Sleep(r.Context(), rf.SlowDelay) {
				return
			}
		}
	}
	d.s.ServeHTTP(w, r)
}
