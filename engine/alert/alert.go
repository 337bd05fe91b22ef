// Package alert tells an operator when a configuration needs them: its
// deliveries failed for good, or its polling has kept failing. Each
// configuration names its own targets (a signed webhook, e-mail
// recipients) and how often it may be told; failures found in between are
// counted into the next alert, so none goes unmentioned and none is told
// twice.
package alert

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard/engine/store"
)

// Kinds of alert.
const (
	KindDeliveriesFailed = "deliveries_failed"
	KindPollingFailing   = "polling_failing"
)

// Notice is one alert, as the webhook receives it (JSON) and the e-mail
// tells it.
type Notice struct {
	Kind          string `json:"kind"`
	ConfigID      int64  `json:"configuration_id"`
	Configuration string `json:"configuration"`
	Plugin        string `json:"plugin"`
	// Count is the number of deliveries that failed since Since
	// (deliveries_failed).
	Count int `json:"count,omitempty"`
	// Since is when the failures began: when the first counted delivery
	// ended, or the last successful poll.
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error"`
	// URL is the admin UI page to look at, when the engine knows its own
	// address.
	URL string    `json:"url,omitempty"`
	At  time.Time `json:"at"`
}

// Target is one configuration's alerting, as its settings say.
type Target struct {
	ConfigID     int64
	Name, Plugin string
	Webhook      string
	Secret       string
	Emails       []string
	Every        time.Duration
	PollingAfter time.Duration
	// Polls is true when the configuration polls the appliance.
	Polls bool
}

// Store is what the watcher reads.
type Store interface {
	FailedSince(ctx context.Context, since time.Time) ([]store.FailedDelivery, error)
	ListPollCursors(ctx context.Context) ([]store.PollCursor, error)
}

// Options configure a Watcher.
type Options struct {
	Store   Store
	Targets func() []Target
	// Webhook and Mailer send; a nil Mailer leaves e-mail recipients
	// untold (logged once per configuration).
	Webhook *Webhook
	Mailer  *Mailer
	// AdminURL is the admin UI's base address, for links (may be empty).
	AdminURL string
	// Leader reports whether this engine is the one that alerts (several
	// engines share one database); nil: always.
	Leader func(ctx context.Context) bool
	Logger *slog.Logger
	// Check is how often failures are looked for (default a minute).
	Check time.Duration
	Now   func() time.Time
}

// overlap is how far back each check reads again: a delivery's end time is
// taken before its transaction commits, so it can become visible after a
// check already read past that time.
const overlap = 5 * time.Minute

// Watcher looks for failures and sends the alerts.
type Watcher struct {
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	lastCheck time.Time
	// countFrom: failures that ended earlier are not this engine's to
	// tell (before it started, or while another engine led).
	countFrom time.Time
	// counted are the failures counted already, by delivery and end time
	// (a delivery retried by hand can fail again).
	counted  map[failure]bool
	channels map[string]*channel // by configuration, kind and channel
	failing  map[int64]time.Time // polling failing since (first seen)
	noMailer map[int64]bool
}

// channel is one kind of alert for one configuration on one channel.
type channel struct {
	lastSent time.Time
	// pending failures not told yet (deliveries_failed).
	count     int
	since     time.Time
	lastError string
}

// New returns a Watcher that counts failures from now on.
func New(opts Options) *Watcher {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Check <= 0 {
		opts.Check = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	now := opts.Now()
	return &Watcher{opts: opts, log: opts.Logger, lastCheck: now, countFrom: now, counted: map[failure]bool{},
		channels: map[string]*channel{}, failing: map[int64]time.Time{}, noMailer: map[int64]bool{}}
}

type failure struct{ delivery, finished int64 }

// tally is what newly failed for one configuration.
type tally struct {
	Count     int
	First     time.Time // when the oldest ended
	LastError string    // of the newest
}

// newFailures reads the failures that ended since the last check (and
// again the overlap before it) and returns, by configuration, those not
// counted yet.
func (w *Watcher) newFailures(ctx context.Context) (map[int64]tally, error) {
	since := w.lastCheck.Add(-overlap)
	if since.Before(w.countFrom) {
		since = w.countFrom
	}
	rows, err := w.opts.Store.FailedSince(ctx, since)
	if err != nil {
		return nil, err
	}
	out := map[int64]tally{}
	for _, r := range rows {
		k := failure{r.ID, r.FinishedAt}
		if w.counted[k] {
			continue
		}
		w.counted[k] = true
		f := out[r.ConfigID]
		if f.Count == 0 {
			f.First = r.Finished()
		}
		f.Count++
		f.LastError = r.LastError
		out[r.ConfigID] = f
	}
	for k := range w.counted {
		if k.finished < since.UnixMilli() {
			delete(w.counted, k)
		}
	}
	return out, nil
}

// Run checks every Check until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.opts.Check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := w.Check(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("alerts: check failed; trying again at the next check", "err", err)
			}
		}
	}
}

// Check reads the failures since the last check and sends what is due.
// A send that fails is tried again at the next check, its failures kept.
func (w *Watcher) Check(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.opts.Leader != nil && !w.opts.Leader(ctx) {
		// Another engine alerts; start counting afresh if this one takes
		// over, rather than telling what that one already told.
		w.lastCheck, w.countFrom = w.opts.Now(), w.opts.Now()
		return nil
	}
	now := w.opts.Now()
	failed, err := w.newFailures(ctx)
	if err != nil {
		return err
	}
	cursors, err := w.opts.Store.ListPollCursors(ctx)
	if err != nil {
		return err
	}
	w.lastCheck = now
	polls := make(map[int64]store.PollCursor, len(cursors))
	for _, c := range cursors {
		polls[c.ConfigID] = c
	}
	live := map[string]bool{}
	for _, t := range w.opts.Targets() {
		chans := w.targetChannels(t)
		if len(chans) == 0 {
			continue
		}
		if f := failed[t.ConfigID]; f.Count > 0 {
			for _, ch := range chans {
				c := w.channel(t.ConfigID, KindDeliveriesFailed, ch, live)
				if c.count == 0 {
					c.since = f.First
				}
				c.count += f.Count
				c.lastError = f.LastError
			}
		}
		for _, ch := range chans {
			c := w.channel(t.ConfigID, KindDeliveriesFailed, ch, live)
			if c.count > 0 && now.Sub(c.lastSent) >= t.Every {
				n := w.notice(t, KindDeliveriesFailed, now)
				n.Count, n.Since, n.LastError = c.count, c.since, c.lastError
				if w.send(ctx, t, ch, n) {
					c.lastSent, c.count, c.lastError = now, 0, ""
				}
			}
		}
		w.checkPolling(ctx, t, chans, polls, now, live)
	}
	for k := range w.channels {
		if !live[k] {
			delete(w.channels, k)
		}
	}
	return nil
}

// checkPolling alerts when t's polling has failed for PollingAfter.
func (w *Watcher) checkPolling(ctx context.Context, t Target, chans []string, polls map[int64]store.PollCursor, now time.Time, live map[string]bool) {
	for _, ch := range chans {
		w.channel(t.ConfigID, KindPollingFailing, ch, live)
	}
	pc, ok := polls[t.ConfigID]
	if !t.Polls || !ok || pc.LastError == "" {
		delete(w.failing, t.ConfigID)
		return
	}
	start := pc.LastSuccess()
	if start.IsZero() {
		// Never polled successfully: count from when this engine saw it.
		if w.failing[t.ConfigID].IsZero() {
			w.failing[t.ConfigID] = now
		}
		start = w.failing[t.ConfigID]
	}
	if now.Sub(start) < t.PollingAfter {
		return
	}
	for _, ch := range chans {
		c := w.channel(t.ConfigID, KindPollingFailing, ch, live)
		if now.Sub(c.lastSent) < t.Every {
			continue
		}
		n := w.notice(t, KindPollingFailing, now)
		n.Since, n.LastError = start, pc.LastError
		if w.send(ctx, t, ch, n) {
			c.lastSent = now
		}
	}
}

// targetChannels are the channels t can be told on.
func (w *Watcher) targetChannels(t Target) []string {
	var out []string
	if t.Webhook != "" && w.opts.Webhook != nil {
		out = append(out, "webhook")
	}
	if len(t.Emails) > 0 {
		if w.opts.Mailer != nil {
			out = append(out, "email")
		} else if !w.noMailer[t.ConfigID] {
			w.noMailer[t.ConfigID] = true
			w.log.Warn("alerts: the configuration names e-mail recipients but no SMTP server is set (serve --smtp-addr); they are not told", "config", t.ConfigID)
		}
	}
	return out
}

func (w *Watcher) channel(id int64, kind, ch string, live map[string]bool) *channel {
	k := fmt.Sprintf("%d|%s|%s", id, kind, ch)
	live[k] = true
	c := w.channels[k]
	if c == nil {
		c = &channel{}
		w.channels[k] = c
	}
	return c
}

func (w *Watcher) notice(t Target, kind string, now time.Time) Notice {
	n := Notice{Kind: kind, ConfigID: t.ConfigID, Configuration: t.Name, Plugin: t.Plugin, At: now.UTC()}
	if w.opts.AdminURL != "" {
		if kind == KindPollingFailing {
			n.URL = w.opts.AdminURL + "/polling"
		} else {
			n.URL = fmt.Sprintf("%s/events?config=%d&state=failed", w.opts.AdminURL, t.ConfigID)
		}
	}
	return n
}

// send tells n on one channel and reports whether it was accepted.
func (w *Watcher) send(ctx context.Context, t Target, ch string, n Notice) bool {
	var err error
	switch ch {
	case "webhook":
		err = w.opts.Webhook.Send(ctx, t.Webhook, t.Secret, n)
	case "email":
		err = w.opts.Mailer.Send(ctx, t.Emails, Subject(n), Body(n))
	}
	if err != nil {
		w.log.Warn("alerts: sending failed; trying again at the next check", "config", t.ConfigID, "kind", n.Kind, "channel", ch, "err", err)
		return false
	}
	w.log.Info("alert sent", "config", t.ConfigID, "kind", n.Kind, "channel", ch, "count", n.Count)
	return true
}
