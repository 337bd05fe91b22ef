package siem

import (
	"bytes"
	"context"
	"net/http"
	"strings"
)

// Sekoia's limits, as its connector SDK applies them: a request of at most
// 10 MiB (chunked at 90 %), an event of at most 250,000 bytes.
const (
	sekoiaMaxBytes = 10 << 20 * 9 / 10
	sekoiaMaxEvent = 250_000
)

// sekoia is the Sekoia.io HTTP intake: jsonlines to /plain/batch.
type sekoia struct {
	hc  *http.Client
	set *Settings
	url string
}

func newSekoia(hc *http.Client, set *Settings) *sekoia {
	return &sekoia{hc: hc, set: set, url: strings.TrimRight(set.URL, "/") + "/plain/batch"}
}

func (s *sekoia) name() string       { return "Sekoia.io" }
func (s *sekoia) maxBytes() int      { return sekoiaMaxBytes }
func (s *sekoia) close()             {}
func (s *sekoia) size(x Encoded) int { return len(x.Body) + 1 }

// body is the batch as jsonlines, without the events over Sekoia's event
// limit, which are refused by position.
func (s *sekoia) body(batch []Encoded) (body []byte, sent []int, rejected map[int]string) {
	var b bytes.Buffer
	rejected = map[int]string{}
	for i, x := range batch {
		if len(x.Body) > sekoiaMaxEvent {
			// Sekoia drops such events; say so instead.
			rejected[i] = "larger than Sekoia's 250,000-byte event limit"
			continue
		}
		b.Write(x.Body)
		b.WriteByte('\n')
		sent = append(sent, i)
	}
	return b.Bytes(), sent, rejected
}

func (s *sekoia) plan(batch []Encoded) planned {
	body, _, rejected := s.body(batch)
	return planned{method: http.MethodPost, path: urlPath(s.url), contentType: "text/plain", body: body, refused: len(rejected)}
}

func (s *sekoia) send(ctx context.Context, batch []Encoded) outcome {
	body, sent, rejected := s.body(batch)
	out := outcome{rejected: rejected}
	if len(sent) == 0 {
		return out
	}
	h := http.Header{}
	h.Set("X-SEKOIAIO-INTAKE-KEY", s.set.Credential.Reveal())
	h.Set("Content-Type", "text/plain")
	a, err := post(ctx, s.hc, s.name(), s.url, h, body)
	if err != nil {
		out.err = err
		return out
	}
	if a.status/100 != 2 {
		out.err = statusError(s.name(), a, snippet(s.set.redactor(), a.body))
		return out
	}
	out.accepted = sent
	return out
}
