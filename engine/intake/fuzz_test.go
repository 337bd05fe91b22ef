package intake

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/engine/store"
)

// FuzzPost posts whatever the fuzzer makes over real HTTP and checks the
// intake's promise: 200 means the event is stored exactly once (sending it
// again stores nothing more), anything else means nothing was stored, and
// nothing is answered with a 5xx.
func FuzzPost(f *testing.F) {
	fx := newFixture(f, 4096)
	seeds := []struct{ query, contentType, body string }{
		{"?appliance=Default", "application/x-www-form-urlencoded", endEvent("seed").Encode()},
		{"?appliance=Other", "application/x-www-form-urlencoded", "event=some_future_event&lsid=a"},
		{"", "", "event=support_conference_end&lsid=x&timestamp=1"},
		{"?appliance=%00", "application/x-www-form-urlencoded", "event=x"},
		{"", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\nx\r\n--b--\r\n"},
		{"", "text/plain", "event=x"},
		{"", "application/x-www-form-urlencoded", "event=x&lsid=%zz"},
		{"?token=abc", "application/x-www-form-urlencoded", "event=" + strings.Repeat("a", 65)},
	}
	for _, s := range seeds {
		f.Add(s.query, s.contentType, s.body)
	}
	newest := func(t *testing.T) int64 {
		evs, err := fx.st.ListEvents(context.Background(), store.EventFilter{Limit: 1, WithoutFields: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return 0
		}
		return evs[0].ID
	}
	post := func(t *testing.T, query, contentType, body string) int {
		req, err := http.NewRequest(http.MethodPost, fx.srv.URL+Path+query, strings.NewReader(body))
		if err != nil {
			t.Skip("not a request an HTTP client can send")
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Skip("not a request an HTTP client can send")
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	f.Fuzz(func(t *testing.T, query, contentType, body string) {
		if query != "" && !strings.HasPrefix(query, "?") {
			query = "?" + query
		}
		if _, err := url.ParseQuery(strings.TrimPrefix(query, "?")); err != nil || strings.ContainsAny(query, " #\x7f") || strings.ContainsFunc(query, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			t.Skip("not a URL an appliance can be given")
		}
		before := newest(t)
		status := post(t, query, contentType, body)
		after := newest(t)
		switch {
		case status == http.StatusOK:
			if after != before && after != before+1 {
				t.Fatalf("200 stored %d events", after-before)
			}
			if again := post(t, query, contentType, body); again != http.StatusOK || newest(t) != after {
				t.Fatalf("the same post again: status %d, stored %d more; want 200 and nothing more", again, newest(t)-after)
			}
		case status >= 500:
			t.Fatalf("status %d", status)
		case after != before:
			t.Fatalf("status %d stored %d events", status, after-before)
		}
	})
}
