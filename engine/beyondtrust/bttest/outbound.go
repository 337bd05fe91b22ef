package bttest

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard/engine/beyondtrust"
)

// OutboundVersion is the schema version the simulated appliance posts.
const OutboundVersion = "3"

// Sender is the appliance's outbound-event HTTP recipient queue: it POSTs
// each event's fields as a form, in order, and like the appliance holds the
// queue when the recipient answers anything but 200, retrying the head event
// every RetryInterval until it succeeds or RetryDuration has passed since
// its first try, when the event is dropped.
type Sender struct {
	target        string
	client        *http.Client
	retryInterval time.Duration
	retryDuration time.Duration

	mu       sync.Mutex
	queue    []queuedEvent
	sent     []url.Values
	dropped  []url.Values
	attempts int
	changed  chan struct{} // closed and replaced whenever the state changes

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

type queuedEvent struct {
	fields   url.Values
	firstTry time.Time
}

// SenderOption configures a Sender.
type SenderOption func(*Sender)

// RetryInterval sets how long the sender waits before retrying a refused
// event (default one minute).
func RetryInterval(d time.Duration) SenderOption { return func(s *Sender) { s.retryInterval = d } }

// RetryDuration sets how long a refused event is retried before it is
// dropped (default one hour).
func RetryDuration(d time.Duration) SenderOption { return func(s *Sender) { s.retryDuration = d } }

// WithHTTPClient sets the client that POSTs events (default: 30s timeout).
func WithHTTPClient(c *http.Client) SenderOption { return func(s *Sender) { s.client = c } }

// NewSender starts a sender that posts to target.
func NewSender(target string, opts ...SenderOption) *Sender {
	s := &Sender{
		target:        target,
		client:        &http.Client{Timeout: 30 * time.Second},
		retryInterval: time.Minute,
		retryDuration: time.Hour,
		changed:       make(chan struct{}),
		wake:          make(chan struct{}, 1),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	go s.run()
	return s
}

// SendOutbound attaches a sender to the appliance: from now on the scripted
// session steps (begin, member added or departed, end, surveys) queue their
// outbound events on it. The appliance's Close stops it.
func (a *Appliance) SendOutbound(target string, opts ...SenderOption) *Sender {
	s := NewSender(target, opts...)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.senders = append(a.senders, s)
	return s
}

// outbound queues one event of session s on every sender; a.mu is held.
func (a *Appliance) outbound(s *beyondtrust.Session, event string, extra url.Values) {
	if len(a.senders) == 0 {
		return
	}
	f := url.Values{
		"event":        {event},
		"version":      {OutboundVersion},
		"timestamp":    {strconv.FormatInt(a.now().Unix(), 10)},
		"appliance_id": {a.applianceID},
		"lsid":         {s.LSID},
		"external_key": {s.ExternalKey},
	}
	maps.Copy(f, extra) // Enqueue copies the values
	for _, sender := range a.senders {
		sender.Enqueue(f)
	}
}

// Enqueue adds an event's fields at the end of the queue.
func (s *Sender) Enqueue(fields url.Values) {
	s.mu.Lock()
	s.queue = append(s.queue, queuedEvent{fields: cloneValues(fields)})
	s.notifyLocked()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vv := range v {
		out[k] = slices.Clone(vv)
	}
	return out
}

func (s *Sender) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Sent returns the events the recipient accepted, in order.
func (s *Sender) Sent() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Dropped returns the events given up after RetryDuration.
func (s *Sender) Dropped() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dropped)
}

// Pending counts the queued events, the one being retried included.
func (s *Sender) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Attempts counts the POSTs made, successful or not.
func (s *Sender) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// WaitIdle waits until the queue is empty.
func (s *Sender) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		empty, changed := len(s.queue) == 0, s.changed
		s.mu.Unlock()
		if empty {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the sender; queued events stay unsent.
func (s *Sender) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func (s *Sender) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-s.stop:
				return
			}
		}
		head := &s.queue[0]
		if head.firstTry.IsZero() {
			head.firstTry = time.Now()
		}
		fields, firstTry := head.fields, head.firstTry
		s.attempts++
		s.mu.Unlock()

		ok := s.post(fields)

		expired := !ok && time.Since(firstTry) >= s.retryDuration
		s.mu.Lock()
		switch {
		case ok:
			s.sent = append(s.sent, fields)
		case expired:
			s.dropped = append(s.dropped, fields)
		}
		if ok || expired {
			s.queue = s.queue[1:]
		}
		s.notifyLocked()
		s.mu.Unlock()
		if ok || expired {
			continue
		}
		select {
		case <-time.After(s.retryInterval):
		case <-s.stop:
			return
		}
	}
}

// post sends one event and reports whether the recipient answered 200.
func (s *Sender) post(fields url.Values) bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, strings.NewReader(fields.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
