package siem

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"switchboard/engine/outbound"
)

// Webhook signature headers (docs/siem.md tells receivers how to check
// them), shared with the engine's alert webhooks.
const (
	HeaderTimestamp = outbound.HeaderTimestamp
	HeaderSignature = outbound.HeaderSignature
)

const webhookMaxBytes = 1 << 20

// Sign returns the signature header value for a body sent at ts.
func Sign(secret string, ts int64, body []byte) string { return outbound.Sign(secret, ts, body) }

// webhook posts a JSON array of events, signed.
type webhook struct {
	hc  *http.Client
	set *Settings
	now func() time.Time
}

func newWebhook(hc *http.Client, set *Settings, now func() time.Time) *webhook {
	return &webhook{hc: hc, set: set, now: now}
}

func (w *webhook) name() string       { return "webhook" }
func (w *webhook) maxBytes() int      { return webhookMaxBytes }
func (w *webhook) close()             {}
func (w *webhook) size(x Encoded) int { return len(x.Body) + 4 }

// body is the batch as a JSON array; a CEF event is {"id","cef"}.
func (w *webhook) body(batch []Encoded) []byte {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, x := range batch {
		if i > 0 {
			body.WriteByte(',')
		}
		if x.JSON {
			body.Write(x.Body)
		} else {
			q, _ := json.Marshal(map[string]string{"id": x.ID, "cef": string(x.Body)})
			body.Write(q)
		}
	}
	body.WriteByte(']')
	return body.Bytes()
}

func (w *webhook) plan(batch []Encoded) planned {
	return planned{method: http.MethodPost, path: urlPath(w.set.URL), contentType: "application/json", body: w.body(batch)}
}

func (w *webhook) send(ctx context.Context, batch []Encoded) outcome {
	body := w.body(batch)
	ts := w.now().Unix()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Sign(w.set.Credential.Reveal(), ts, body))
	a, err := post(ctx, w.hc, w.name(), w.set.URL, h, body)
	if err != nil {
		return outcome{err: err}
	}
	if a.status/100 != 2 {
		return outcome{err: statusError(w.name(), a, snippet(w.set.redactor(), a.body))}
	}
	return outcome{accepted: all(len(batch))}
}
