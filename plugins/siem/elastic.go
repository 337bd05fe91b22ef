package siem

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/outbound"
)

// elasticMaxBytes keeps bulk requests at a few MB, far below
// http.max_content_length (100 MB by default).
const elasticMaxBytes = 5 << 20

// elastic is the Elasticsearch bulk API, writing with create and the
// event id as _id: a resent event comes back 409 and is not stored twice.
type elastic struct {
	hc  *http.Client
	set *Settings
	url string
	red *outbound.Redactor
}

func newElastic(hc *http.Client, set *Settings) *elastic {
	return &elastic{hc: hc, set: set, url: strings.TrimRight(set.URL, "/") + "/" + url.PathEscape(set.ElasticIndex) + "/_bulk", red: set.redactor()}
}

func (e *elastic) name() string       { return "Elastic" }
func (e *elastic) maxBytes() int      { return elasticMaxBytes }
func (e *elastic) close()             {}
func (e *elastic) size(x Encoded) int { return len(x.Body) + 64 + len(x.ID) }

// document is the source line: ECS as is; raw gets @timestamp, which data
// streams need; CEF goes into message and event.original.
func document(b *bytes.Buffer, x Encoded) {
	ts := x.Event.Time.UTC().Format(time.RFC3339Nano)
	switch {
	case x.JSON && (bytes.HasPrefix(x.Body, []byte(`{"@timestamp"`)) || hasTimestamp(x.Body)):
		b.Write(x.Body)
	case x.JSON && bytes.Equal(bytes.TrimSpace(x.Body[1:]), []byte("}")):
		b.WriteString(`{"@timestamp":"` + ts + `"}`)
	case x.JSON:
		b.WriteString(`{"@timestamp":"` + ts + `",`)
		b.Write(x.Body[1:])
	default:
		doc, _ := json.Marshal(map[string]any{"@timestamp": ts, "message": string(x.Body), "event": map[string]string{"id": x.ID, "original": string(x.Body)}})
		b.Write(doc)
	}
}

// hasTimestamp reports whether a JSON object has @timestamp among its own
// fields, anywhere (a PM Cloud document need not put it first): a second
// one would make Elasticsearch refuse the document as a duplicate field.
func hasTimestamp(body []byte) bool {
	if !bytes.Contains(body, []byte(`"@timestamp"`)) {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	_, ok := top["@timestamp"]
	return ok
}

type bulkItem struct {
	Status int `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// body is a batch as bulk NDJSON: a create with the event id, then the
// document, each line ending with a newline.
func (e *elastic) body(batch []Encoded) []byte {
	var body bytes.Buffer
	for _, x := range batch {
		id, _ := json.Marshal(x.ID)
		body.WriteString(`{"create":{"_id":`)
		body.Write(id)
		body.WriteString("}}\n")
		document(&body, x)
		body.WriteByte('\n')
	}
	return body.Bytes()
}

func (e *elastic) plan(batch []Encoded) planned {
	return planned{method: http.MethodPost, path: urlPath(e.url), contentType: "application/x-ndjson", body: e.body(batch)}
}

func (e *elastic) send(ctx context.Context, batch []Encoded) outcome {
	body := e.body(batch)
	h := http.Header{}
	h.Set("Authorization", "ApiKey "+e.set.Credential.Reveal())
	h.Set("Content-Type", "application/x-ndjson")
	a, err := post(ctx, e.hc, e.name(), e.url, h, body)
	if err != nil {
		return outcome{err: err}
	}
	if a.status/100 != 2 {
		return outcome{err: statusError(e.name(), a, snippet(e.red, a.body))}
	}
	var ans struct {
		Errors bool                  `json:"errors"`
		Items  []map[string]bulkItem `json:"items"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil {
		return outcome{err: fmt.Errorf("siem: Elastic answered 2xx with a body that is not a bulk response: %s", snippet(e.red, a.body))}
	}
	if len(ans.Items) != len(batch) {
		return outcome{err: fmt.Errorf("siem: Elastic answered %d items for %d events", len(ans.Items), len(batch))}
	}
	out := outcome{rejected: map[int]string{}}
	for i, it := range ans.Items {
		item, ok := it["create"]
		if !ok || item.Status < 100 {
			// Not the answer to a create: it says nothing of the events,
			// which are sent again (a stored one comes back 409).
			return outcome{err: fmt.Errorf("siem: Elastic answered item %d without a create status: %s", i, snippet(e.red, a.body))}
		}
		switch {
		case item.Status/100 == 2, item.Status == http.StatusConflict:
			// 409 on create: the document is there already.
			out.accepted = append(out.accepted, i)
		case item.Status == http.StatusTooManyRequests || item.Status >= 500:
			out.deferred = append(out.deferred, i)
			out.deferErr = engine.RetryAfter(defaultWait, fmt.Errorf("siem: Elastic deferred %s: %s", batch[i].ID, e.red.String(itemReason(item))))
		default:
			out.rejected[i] = e.red.String(itemReason(item))
		}
	}
	return out
}

func itemReason(it bulkItem) string {
	if it.Error == nil {
		return fmt.Sprintf("status %d", it.Status)
	}
	return fmt.Sprintf("status %d %s: %s", it.Status, it.Error.Type, it.Error.Reason)
}
