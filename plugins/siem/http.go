package siem

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/outbound"
)

// This file is the plugin's HTTP plumbing (client, request, status
// classification), kept apart so that the shared connector kit can take
// it over.

// maxAnswer bounds how much of a destination's answer is read.
const maxAnswer = 4 << 20

// defaultWait is how long a 429 or 503 without Retry-After pauses the
// destination.
const defaultWait = 5 * time.Second

// answer is a destination's reply.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// newHTTPClient builds the client for a configuration's TLS settings.
func newHTTPClient(s *Settings) (*http.Client, error) {
	cfg, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	tr.MaxIdleConnsPerHost = 4
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}

// post sends body and reads the answer, whatever its status; a transport
// failure comes back as a retryable error naming the destination.
func post(ctx context.Context, hc *http.Client, dest, rawURL string, header http.Header, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return answer{}, engine.Permanent(fmt.Errorf("siem: %s: build request: %w", dest, redactURL(err)))
	}
	req.Header = header
	resp, err := hc.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, engine.ErrLeaseLost) {
			return answer{}, cause
		}
		return answer{}, fmt.Errorf("siem: %s: %w", dest, redactURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return answer{}, fmt.Errorf("siem: %s: read answer: %w", dest, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// redactURL drops the URL from a transport error: a Sekoia intake key may
// travel in its query.
func redactURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.HasPrefix(err.Error(), "Post ") {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// statusError classifies a non-2xx answer: 429 and 503 wait (Retry-After
// or a default), other 5xx are retried, 4xx are permanent.
func statusError(dest string, a answer, detail string) error {
	msg := fmt.Sprintf("siem: %s answered %d %s", dest, a.status, http.StatusText(a.status))
	if detail = strings.TrimSpace(detail); detail != "" {
		msg += ": " + detail
	}
	err := errors.New(msg)
	switch {
	case a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable:
		return engine.RetryAfter(retryAfter(a.header), err)
	case a.status >= 500:
		return err
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return engine.Permanent(fmt.Errorf("%w (check the token or key)", err))
	case a.status >= 400:
		return engine.Permanent(err)
	}
	return err
}

// retryAfter reads Retry-After in seconds or as an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return defaultWait
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return defaultWait
}

// snippet is the start of a destination's answer, for error messages and
// the Test button, on one line, with the configuration's secrets masked: a
// destination may echo the token it was sent, and the cut may split it.
func snippet(r *outbound.Redactor, b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		return r.Cut(s[:300]) + "…"
	}
	return r.String(s)
}

// redactor hides the configuration's secrets (HEC token, Elastic API key,
// Sekoia intake key, webhook secret, TLS client key) in every form the
// kit knows; an Elastic key's own secret half (after "id:" in the encoded
// value) too, should an answer quote it decoded.
func (s *Settings) redactor() *outbound.Redactor {
	cred := s.Credential.Reveal()
	r := outbound.NewRedactor(s.TLSClientKey.Reveal()).With(cred)
	if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
		if _, key, ok := strings.Cut(string(raw), ":"); ok {
			r = r.With(key)
		}
	}
	return r
}
