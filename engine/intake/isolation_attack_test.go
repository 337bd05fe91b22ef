package intake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"switchboard/engine/store"
)

// distinctForm is a post whose every field is its own: a value no other
// post shares, of a size drawn from small to large, with bytes that are not
// UTF-8, so that a buffer reused from another post shows in the stored row.
func distinctForm(rng *rand.Rand, i int) url.Values {
	lsid := fmt.Sprintf("iso-%04d", i)
	size := []int{0, 1, 17, 500, 4 << 10, 60 << 10}[rng.IntN(6)]
	filler := make([]byte, size)
	for j := range filler {
		filler[j] = byte(rng.IntN(256))
	}
	return url.Values{
		"event":        {"support_conference_end"},
		"timestamp":    {fmt.Sprint(1733240000 + i)},
		"lsid":         {lsid},
		"external_key": {"K" + strings.Repeat(fmt.Sprint(i%10), i%40)},
		"filler":       {string(filler)},
		"who":          {fmt.Sprintf("post %d ü 東京 \x00\xff", i), lsid},
	}
}

// postOwn posts form, urlencoded or multipart, and returns the status and
// the answer's body.
func postOwn(t *testing.T, target string, form url.Values, multi bool) (int, string) {
	t.Helper()
	var body bytes.Buffer
	ct := "application/x-www-form-urlencoded"
	if multi {
		w := multipart.NewWriter(&body)
		for k, vs := range form {
			for _, v := range vs {
				if err := w.WriteField(k, v); err != nil {
					t.Error(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
		ct = w.FormDataContentType()
	} else {
		body.WriteString(form.Encode())
	}
	resp, err := http.Post(target, ct, &body)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Many distinct posts at once, urlencoded and multipart, of every size:
// each gets its own answer, and each stored row holds exactly its own
// post's fields, byte for byte. A buffer, form or event reused across
// requests (to save allocations) would put one post's data into another's
// row: the wrong session, or a ticket written from someone else's data.
func TestConcurrentPostsEachStoreTheirOwnBytes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	const n = 240
	rng := rand.New(rand.NewPCG(17, 1))
	forms := make([]url.Values, n)
	for i := range forms {
		forms[i] = distinctForm(rng, i)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 48)
	for i, form := range forms {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if status, body := postOwn(t, f.srv.URL+Path, form, i%3 == 0); status != http.StatusOK || body != "OK\n" {
				t.Errorf("post %d: %d %q", i, status, body)
			}
		})
	}
	wg.Wait()
	evs, err := f.st.ListEvents(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byLSID := map[string]store.Event{}
	for _, e := range evs {
		if _, dup := byLSID[e.LSID]; dup {
			t.Errorf("session %s stored twice", e.LSID)
		}
		byLSID[e.LSID] = e
	}
	if len(byLSID) != n {
		t.Errorf("%d sessions stored, want %d", len(byLSID), n)
	}
	for i, form := range forms {
		lsid := form.Get("lsid")
		e, ok := byLSID[lsid]
		switch {
		case !ok:
			t.Errorf("post %d not stored", i)
		case e.Fields != form.Encode():
			t.Errorf("post %d: stored fields differ from its own post (%d bytes stored, %d posted)", i, len(e.Fields), len(form.Encode()))
		case e.ExternalKey != form.Get("external_key") || e.OccurredAt != int64(1733240000+i)*1000 || e.Name != "support_conference_end":
			t.Errorf("post %d: stored %q %d %q", i, e.ExternalKey, e.OccurredAt, e.Name)
		}
	}
}
