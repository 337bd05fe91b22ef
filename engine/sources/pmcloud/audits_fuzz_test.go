package pmcloud

import (
	"encoding/json"
	"testing"
)

// FuzzParseAudits feeds ParseAudits odd answers: it must never panic, and
// an answer it accepts must lose no audit: one Audit per element of data,
// each with a key and its document kept as valid JSON.
func FuzzParseAudits(f *testing.F) {
	for _, s := range []string{
		`{"pageNumber":1,"pageSize":1,"totalRecordCount":2,"pageCount":2,"data":[{"id":1,"created":"2024-01-01T00:00:00Z"}]}`,
		`{"data":[{"id":"a"},{"id":null},{},{"id":[1]},{"id":{"x":1}}]}`,
		`{"data":[]}`, `{"data":null}`, `[]`, `{"data":[1]}`, `{"data":[{"id":true},{"id":false}]}`,
		`{"data":[{"id":1e3,"created":"2020-12-24 19:09:47.6816562 +00:00"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := ParseAudits(body)
		if err != nil {
			return
		}
		var env struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatalf("accepted an answer encoding/json refuses: %v", err)
		}
		if len(page.Audits) != len(env.Data) {
			t.Fatalf("%d audits read from %d elements", len(page.Audits), len(env.Data))
		}
		for i, a := range page.Audits {
			if a.ID == "" {
				t.Fatalf("audit %d has no key", i)
			}
			if !json.Valid(a.Doc) {
				t.Fatalf("audit %d document is not valid JSON: %q", i, a.Doc)
			}
		}
	})
}

// TestParseAuditsOddIDsKeepAudits: an id that is neither a number nor a
// string (true, false) is no key; distinct audits carrying one must keep
// distinct keys, or the poller's seen-set drops all but the first.
func TestParseAuditsOddIDsKeepAudits(t *testing.T) {
	page, err := ParseAudits([]byte(`{"data":[{"id":true,"n":1},{"id":true,"n":2},{"id":false,"n":3},{"id":false,"n":4},{"id":" ","n":5},{"id":" ","n":6}]}`))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range page.Audits {
		if seen[a.ID] {
			t.Fatalf("two distinct audits share the key %q: one would be lost", a.ID)
		}
		seen[a.ID] = true
	}
}

// TestParseEventsOddIDsKeepEvents: the same for event.id.
func TestParseEventsOddIDsKeepEvents(t *testing.T) {
	recs, err := ParseEvents([]byte(`{"events":[{"event":{"id":true},"n":1},{"event":{"id":true},"n":2},{"event":{"id":" "},"n":3},{"event":{"id":" "},"n":4},{"event":{"id":7}},{"event":{"id":"a"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.ID] {
			t.Fatalf("two distinct events share the key %q: one would be lost", r.ID)
		}
		seen[r.ID] = true
	}
	if recs[4].ID != "7" || recs[5].ID != "a" {
		t.Fatalf("ids %q %q, want 7 and a", recs[4].ID, recs[5].ID)
	}
}
