// Package intake receives the appliance's outbound events. Its one promise
// to the appliance: HTTP 200 means the event and its deliveries are
// committed. Anything well-formed gets a 200 — an unknown event or appliance
// is stored as unrouted — because the appliance stops sending every other
// event until the one it is retrying succeeds.
package intake

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/metrics"
	"switchboard/engine/store"
)

// Path is where the appliance posts:
// https://<host>:8180/ERSPost?appliance=<Appliance Id>&token=<token>.
const Path = "/ERSPost"

// DefaultMaxBody is the largest post accepted.
const DefaultMaxBody = 1 << 20

// Router picks the deliveries of an event, or says why there are none.
type Router interface {
	Route(applianceID, event, source string) ([]store.NewDelivery, string)
}

// Options configure the handler.
type Options struct {
	Store   *store.Store
	Router  Router
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Wake is called after a commit that queued deliveries for the
	// dispatcher to claim.
	Wake func()
	// Workers, when set, are this engine's delivery workers: a routed
	// post's delivery is claimed for one with a free slot in the post's
	// own transaction and handed to it after the commit.
	Workers Workers
	MaxBody int64
	// MaxFields caps the posted field names and values together
	// (DefaultMaxFieldBytes when 0).
	MaxFields int
	// Unrouted caps the events that route nowhere (the defaults when 0).
	Unrouted UnroutedLimits
	// MaxBatch caps how many posts share one transaction.
	MaxBatch int
	// Tokens are the outbound event tokens of each Appliance Id (nil:
	// none anywhere).
	Tokens Tokens
	// RequireToken refuses posts for an Appliance Id that has no token.
	RequireToken bool
	// Allow lists the client addresses posts are accepted from (empty:
	// any).
	Allow []netip.Prefix
}

// Handler is the outbound-event endpoint.
type Handler struct {
	opts     Options
	commits  *committer
	refusals logLimiter
	trimmer  unroutedTrimmer
}

// New builds the handler. Posts are committed as they come; Run marks the
// end of the intake.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.MaxFields <= 0 {
		opts.MaxFields = DefaultMaxFieldBytes
	}
	if opts.Unrouted.MaxEvents <= 0 {
		opts.Unrouted.MaxEvents = DefaultMaxUnrouted
	}
	if opts.Unrouted.MaxBytes <= 0 {
		opts.Unrouted.MaxBytes = DefaultMaxUnroutedBytes
	}
	if opts.Unrouted.TrimEvery <= 0 {
		opts.Unrouted.TrimEvery = defaultTrimEvery
	}
	if opts.Wake == nil {
		opts.Wake = func() {}
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New(nil, opts.Logger)
	}
	h := &Handler{opts: opts, commits: newCommitter(opts.Store, opts.Workers, opts.MaxBatch, opts.Metrics)}
	h.trimmer.h = h
	return h
}

// Run waits for ctx to end, then refuses new posts and returns once the
// last commit has answered its posts.
func (h *Handler) Run(ctx context.Context) { h.commits.run(ctx) }

// Register mounts the endpoint (the server adds /healthz and /readyz to
// both listeners).
func (h *Handler) Register(e *echo.Echo) {
	e.POST(Path, h.post)
	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete}, Path, func(c echo.Context) error {
		return c.String(http.StatusMethodNotAllowed, "outbound events must be sent with POST\n")
	})
}

// reject answers a refused post. Every refusal is counted; the log gets a
// burst of lines and then one per interval, each value clipped, so that a
// flood of forged posts cannot flood the log.
func (h *Handler) reject(c echo.Context, status int, reason, msg string) error {
	h.opts.Metrics.IntakeRejected.WithLabelValues(reason).Inc()
	if ok, left := h.refusals.allow(time.Now()); ok {
		attrs := []any{"status", status, "reason", reason, "detail", clip(msg), "remote", remoteIP(c)}
		if left > 0 {
			attrs = append(attrs, "refusals_not_logged", left)
		}
		h.opts.Logger.Warn("outbound event refused", attrs...)
	}
	return c.String(status, msg+"\n")
}

// remoteIP is the address the post came from: the socket's, unless the
// server was told which proxies to trust (echo's IPExtractor), since
// X-Forwarded-For from anyone else is whatever they wrote.
func remoteIP(c echo.Context) string {
	if c.Echo().IPExtractor != nil {
		return c.RealIP()
	}
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

func (h *Handler) post(c echo.Context) error {
	r := c.Request()
	if !h.addressAllowed(c) {
		return h.reject(c, http.StatusForbidden, "address_not_allowed", "posts are not accepted from this address")
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, h.opts.MaxBody)
	query, fields, status, msg := parseForm(r, h.opts.MaxBody)
	if status != 0 {
		reason := map[int]string{http.StatusRequestEntityTooLarge: "too_large", http.StatusUnsupportedMediaType: "media_type"}[status]
		if reason == "" {
			reason = "unparseable"
		}
		return h.reject(c, status, reason, msg)
	}
	appliance, lsid := applianceID(query, fields), fields.Get("lsid")
	// The token is checked before anything else about the post, so that a
	// sender without it learns nothing of what would be accepted.
	if reason, msg := h.checkToken(appliance, query); reason != "" {
		return h.reject(c, http.StatusForbidden, reason, msg)
	}
	name := strings.TrimSpace(fields.Get("event"))
	if name == "" {
		return h.reject(c, http.StatusBadRequest, "no_event", "the post has no event field")
	}
	if status, reason, msg := h.checkPost(name, appliance, lsid, fields); status != 0 {
		return h.reject(c, status, reason, msg)
	}
	now := time.Now()
	ev := store.Event{
		ApplianceID: appliance,
		Name:        name,
		Source:      engine.SourceOutbound,
		LSID:        lsid,
		ExternalKey: fields.Get("external_key"),
		OccurredAt:  occurred(fields.Get("timestamp"), now),
		ReceivedAt:  now.UnixMilli(),
		Fields:      fields.Encode(),
	}
	ev.DedupeKey = engine.DedupeKeyEncoded(ev.ApplianceID, name, ev.LSID, fields.Get("timestamp"), ev.Fields)
	deliveries, reason := h.opts.Router.Route(ev.ApplianceID, name, engine.SourceOutbound)
	ev.Routing, ev.Reason = store.Routed, ""
	if len(deliveries) == 0 {
		ev.Routing, ev.Reason = store.Unrouted, reason
	}
	res, err := h.commits.submit(r.Context(), &store.NewEvent{Event: ev, Deliveries: deliveries})
	if err != nil {
		h.opts.Logger.Error("outbound event not stored; the appliance will retry", "event", name, "lsid", ev.LSID, "err", err)
		h.opts.Metrics.IntakeRejected.WithLabelValues(failureReason(err)).Inc()
		c.Response().Header().Set("Retry-After", "5")
		return c.String(http.StatusServiceUnavailable, "the event could not be stored; retry later\n")
	}
	result := ev.Routing
	if res.Duplicate {
		result = "duplicate"
	}
	if res.Deliveries > len(res.Claimed) {
		h.opts.Wake()
	}
	h.opts.Metrics.EventsReceived.WithLabelValues(metricEvent(name), engine.SourceOutbound, result).Inc()
	if ev.Routing == store.Unrouted && !res.Duplicate {
		h.opts.Logger.Info("outbound event unrouted", "event", name, "appliance", ev.ApplianceID, "lsid", ev.LSID, "reason", reason)
		h.trimmer.stored(r.Context())
	}
	return c.Blob(http.StatusOK, echo.MIMETextPlainCharsetUTF8, okBody)
}

// okBody is the answer to a stored post (c.String would copy it each time).
var okBody = []byte("OK\n")

// knownEvents bounds the metric's label values: any name an appliance (or
// anyone else) posts must not create a new time series.
var knownEvents = map[string]bool{
	engine.EventSessionBegin: true, engine.EventSessionEnd: true, engine.EventMemberAdded: true,
	engine.EventMemberDeparted: true, engine.EventOwnerChanged: true,
	engine.EventCustomerSurveyDone: true, engine.EventRepSurveyDone: true,
}

func metricEvent(name string) string {
	if knownEvents[name] {
		return name
	}
	return "other"
}

// formMedia is the media type of a form post.
const formMedia = "application/x-www-form-urlencoded"

// parseForm reads the URL query and a form-urlencoded or multipart body,
// each parsed once (net/http's ParseForm would also merge both into a
// third copy). It returns a status and message when either cannot be read.
func parseForm(r *http.Request, maxBody int64) (query, fields url.Values, status int, msg string) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, http.StatusBadRequest, "the form body cannot be parsed: " + err.Error()
	}
	ct := r.Header.Get("Content-Type")
	media := formMedia
	// An empty Content-Type is read as a form too; the appliance's own
	// header is parsed only when it is not exactly the form's.
	if ct != "" && !strings.EqualFold(ct, formMedia) {
		if media, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, nil, http.StatusBadRequest, "the Content-Type header cannot be parsed: " + err.Error()
		}
	}
	switch media {
	case formMedia:
		var body []byte
		if body, err = readBody(r.Body, r.ContentLength, maxBody); err == nil {
			fields, err = url.ParseQuery(string(body))
		}
	case "multipart/form-data":
		if err = r.ParseMultipartForm(maxBody); err == nil {
			fields = r.PostForm
		}
	default:
		return nil, nil, http.StatusUnsupportedMediaType, "outbound events must be form posts (application/x-www-form-urlencoded or multipart/form-data), not " + media
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, http.StatusRequestEntityTooLarge, "the post is larger than " + strconv.FormatInt(maxBody, 10) + " bytes"
		}
		return nil, nil, http.StatusBadRequest, "the form body cannot be parsed: " + err.Error()
	}
	if r.MultipartForm != nil {
		for _, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				// A file part is not something the appliance sends; keep
				// its name so nothing silently disappears.
				fields.Add("file:"+fh.Filename, strconv.FormatInt(fh.Size, 10)+" bytes")
			}
		}
		defer r.MultipartForm.RemoveAll() //nolint:errcheck // temporary files only
	}
	return query, fields, 0, ""
}

// readBody reads the whole body into one buffer sized by its declared
// length (io.ReadAll would start small and grow), up to readAhead: past
// that the buffer grows with what arrives, so that a sender declaring a
// large length and then sending nothing holds no more than readAhead. The
// body is already capped by a MaxBytesReader, so a false length cannot
// make it read more.
func readBody(body io.Reader, length, maxBody int64) ([]byte, error) {
	size := int64(512)
	if length >= 0 {
		// One byte more, so that the read that finds the end needs no
		// larger buffer.
		size = min(length, maxBody, readAhead) + 1
	}
	b := make([]byte, 0, size)
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// readAhead is the most readBody reserves before the body arrives: more
// than an appliance's post (a few KiB).
const readAhead = 16 << 10

// applianceID takes the id from the recipient URL (appliance, id or
// appliance_id), then from a posted appliance_id; a URL without one maps to
// the default Appliance Id, as a configuration's default does.
func applianceID(query, fields url.Values) string {
	for _, k := range []string{"appliance", "id", "appliance_id"} {
		if v := strings.TrimSpace(query.Get(k)); v != "" {
			return v
		}
	}
	if v := strings.TrimSpace(fields.Get("appliance_id")); v != "" {
		return v
	}
	return engine.DefaultApplianceID
}

// occurred reads the posted Unix timestamp, falling back to now.
func occurred(ts string, now time.Time) int64 {
	if sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64); err == nil && sec > 0 {
		return sec * 1000
	}
	return now.UnixMilli()
}
