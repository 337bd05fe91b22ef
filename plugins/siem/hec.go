package siem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/outbound"
)

// hecMaxBytes keeps a request within Splunk Cloud's advice (about 1 MB).
const hecMaxBytes = 1 << 20

// hecAckPolls bounds the wait for indexer acknowledgement: polled every
// hecAckEvery, then the batch counts as not delivered and is sent again,
// as Splunk's documentation asks.
const (
	hecAckPolls = 50
	hecAckEvery = 200 * time.Millisecond
)

// hec is the Splunk HTTP Event Collector.
type hec struct {
	hc  *http.Client
	set *Settings
	url string
	red *outbound.Redactor
}

func newHEC(hc *http.Client, set *Settings) *hec {
	return &hec{hc: hc, set: set, url: strings.TrimRight(set.URL, "/"), red: set.redactor()}
}

func (h *hec) name() string  { return "Splunk HEC" }
func (h *hec) maxBytes() int { return hecMaxBytes }
func (h *hec) close()        {}

func (h *hec) size(e Encoded) int { return len(e.Body) + 200 + len(e.ID) }

func (h *hec) header() http.Header {
	hd := http.Header{}
	hd.Set("Authorization", "Splunk "+h.set.Credential.Reveal())
	hd.Set("Content-Type", "application/json")
	if h.set.HECChannel != "" {
		hd.Set("X-Splunk-Request-Channel", h.set.HECChannel)
	}
	return hd
}

// hecAnswer is HEC's reply body.
type hecAnswer struct {
	Text    string `json:"text"`
	Code    int    `json:"code"`
	AckID   *int64 `json:"ackId"`
	Invalid *int   `json:"invalid-event-number"`
}

// envelope writes one event as HEC's event protocol wants it; the event
// id and session id also go into index-time fields (keys in the order
// encoding/json would write them).
func (h *hec) envelope(b []byte, e Encoded) []byte {
	b = append(b, `{"time":`...)
	b = strconv.AppendFloat(b, float64(e.Event.Time.UnixMilli())/1000, 'f', 3, 64)
	field := func(k, v string) {
		if v == "" {
			return
		}
		b = append(b, `,"`...)
		b = append(b, k...)
		b = append(b, `":`...)
		b, _ = appendJSONString(b, v, false)
	}
	field("host", e.Event.Host)
	field("source", h.set.HECSource)
	field("sourcetype", h.set.HECSourcetype)
	field("index", h.set.HECIndex)
	b = append(b, `,"event":`...)
	if e.JSON {
		b = append(b, e.Body...)
	} else {
		b, _ = appendJSONString(b, string(e.Body), false)
	}
	b = append(b, `,"fields":{"event_id":`...)
	b, _ = appendJSONString(b, e.ID, false)
	b = append(b, `,"kind":`...)
	b, _ = appendJSONString(b, e.Kind, false)
	if s := e.Event.Session; s != nil {
		b = append(b, `,"lsid":`...)
		b, _ = appendJSONString(b, s.LSID, false)
		b = append(b, `,"product":`...)
		b, _ = appendJSONString(b, s.Product, false)
	}
	return append(b, "}}\n"...)
}

// body is a batch's envelopes, concatenated.
func (h *hec) body(batch []Encoded) []byte {
	n := 0
	for _, e := range batch {
		n += h.size(e)
	}
	body := make([]byte, 0, n)
	for _, e := range batch {
		body = h.envelope(body, e)
	}
	return body
}

func (h *hec) plan(batch []Encoded) planned {
	return planned{method: http.MethodPost, path: urlPath(h.url + "/services/collector/event"), contentType: "application/json", body: h.body(batch)}
}

func (h *hec) send(ctx context.Context, batch []Encoded) outcome {
	body := h.body(batch)
	a, err := post(ctx, h.hc, h.name(), h.url+"/services/collector/event", h.header(), body)
	if err != nil {
		return outcome{err: err}
	}
	var ans hecAnswer
	_ = json.Unmarshal(a.body, &ans)
	if a.status/100 == 2 && ans.Code == 0 {
		if h.set.HECAck {
			if ans.AckID == nil {
				return outcome{err: engine.Permanent(errors.New("siem: Splunk HEC gave no ackId: turn indexer acknowledgement on for the token, or off here"))}
			}
			if err := h.waitAck(ctx, *ans.AckID); err != nil {
				return outcome{err: err}
			}
		}
		return outcome{accepted: all(len(batch))}
	}
	err = h.codeError(a, ans)
	if ans.Invalid != nil && *ans.Invalid >= 0 && *ans.Invalid < len(batch) && a.status == http.StatusBadRequest && !h.set.HECAck {
		// The events before the invalid one were accepted; that one
		// will never be, and the rest are sent again.
		i := *ans.Invalid
		return outcome{accepted: all(i), rejected: map[int]string{i: fmt.Sprintf("code %d %s", ans.Code, ans.Text)}}
	}
	return outcome{err: err}
}

// codeError reads HEC's code table (reference section 1): busy and
// unhealthy wait, server errors retry, the rest is configuration.
func (h *hec) codeError(a answer, ans hecAnswer) error {
	detail := snippet(h.red, a.body)
	if ans.Text != "" {
		detail = fmt.Sprintf("code %d %q", ans.Code, h.red.String(ans.Text))
	}
	switch ans.Code {
	case 9, 18, 19, 20:
		return engine.RetryAfter(retryAfter(a.header), fmt.Errorf("siem: Splunk HEC is busy: %s", detail))
	case 10, 11:
		return engine.Permanent(fmt.Errorf("siem: Splunk HEC refused the channel (%s): the token has acknowledgement on; turn it on here with a channel GUID", detail))
	case 7:
		return engine.Permanent(fmt.Errorf("siem: Splunk HEC refused the index %q (%s): it must be in the token's allowed indexes", h.set.HECIndex, detail))
	}
	if a.status/100 == 2 {
		return fmt.Errorf("siem: Splunk HEC answered %d: %s", a.status, detail)
	}
	return statusError(h.name(), a, detail)
}

// waitAck polls the acknowledgement endpoint until Splunk reports the
// batch indexed.
func (h *hec) waitAck(ctx context.Context, id int64) error {
	body := []byte(`{"acks":[` + strconv.FormatInt(id, 10) + `]}`)
	key := strconv.FormatInt(id, 10)
	for range hecAckPolls {
		a, err := post(ctx, h.hc, h.name(), h.url+"/services/collector/ack?channel="+h.set.HECChannel, h.header(), body)
		if err != nil {
			return err
		}
		if a.status/100 != 2 {
			var ans hecAnswer
			_ = json.Unmarshal(a.body, &ans)
			return h.codeError(a, ans)
		}
		var acks struct {
			Acks map[string]bool `json:"acks"`
		}
		if err := json.Unmarshal(a.body, &acks); err != nil {
			return fmt.Errorf("siem: Splunk HEC acknowledgement answer is not JSON: %s", snippet(h.red, a.body))
		}
		if acks.Acks[key] {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(hecAckEvery):
		}
	}
	return fmt.Errorf("siem: Splunk HEC did not acknowledge batch %d within %s; it is sent again", id, hecAckPolls*hecAckEvery)
}

// all is 0..n-1.
func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
