package query

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
)

// configFake answers ConfigList with pages it was given; nothing else.
type configFake struct {
	pages map[int]*beyondtrust.ConfigPage
	asked []int
}

func (f *configFake) Host() string    { return "bt.example.com" }
func (f *configFake) Product() string { return beyondtrust.ProductPRA }
func (f *configFake) Session(context.Context, string) (*beyondtrust.Session, error) {
	panic("not asked")
}
func (f *configFake) Sessions(context.Context, []string) ([]*beyondtrust.Session, error) {
	panic("not asked")
}
func (f *configFake) Report(context.Context, string, url.Values, func(io.Reader) error) error {
	panic("not asked")
}
func (f *configFake) ConfigList(_ context.Context, _ string, _ url.Values, _, page int) (*beyondtrust.ConfigPage, error) {
	f.asked = append(f.asked, page)
	if p, ok := f.pages[page]; ok {
		return p, nil
	}
	return &beyondtrust.ConfigPage{}, nil
}

func items(n, size int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"id":%d,"comments":%q}`, i, strings.Repeat("x", size)))
	}
	return out
}

// TestJumpItemsNextPage: without the pagination headers, a Link "next" or
// a full page means more; a short page is the last; X-BT-Pagination-Last-Page
// decides when present. A page cut by the size cap goes on within the
// appliance's page, skipping what was given.
func TestJumpItemsNextPage(t *testing.T) {
	t.Parallel()
	run := func(f *configFake, cursor string) *Page {
		t.Helper()
		q := url.Values{"type": {"shell-jump"}, "limit": {"5"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		p, err := ParseParams(KindJumpItems, q, time.Unix(2_000_000_000, 0))
		if err != nil {
			t.Fatal(err)
		}
		page, err := Run(context.Background(), f, KindJumpItems, p)
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	for name, tc := range map[string]struct {
		page *beyondtrust.ConfigPage
		more bool
	}{
		"link next":          {&beyondtrust.ConfigPage{Items: items(2, 1), Next: true}, true},
		"full page":          {&beyondtrust.ConfigPage{Items: items(5, 1)}, true},
		"short page":         {&beyondtrust.ConfigPage{Items: items(4, 1)}, false},
		"last page header":   {&beyondtrust.ConfigPage{Items: items(5, 1), LastPage: 1}, false},
		"more pages by head": {&beyondtrust.ConfigPage{Items: items(1, 1), LastPage: 3}, true},
	} {
		f := &configFake{pages: map[int]*beyondtrust.ConfigPage{1: tc.page}}
		p := run(f, "")
		if (p.NextCursor != "") != tc.more || p.Count != len(tc.page.Items) {
			t.Errorf("%s: %d items, cursor %q", name, p.Count, p.NextCursor)
		}
		if tc.more {
			if p2 := run(f, p.NextCursor); f.asked[len(f.asked)-1] != 2 || p2.Count != 0 {
				t.Errorf("%s: the next page asked page %v", name, f.asked)
			}
		}
	}
	// Five items of 1.5 MiB: the size cap cuts the page after two, and
	// the cursor resumes within appliance page 1.
	f := &configFake{pages: map[int]*beyondtrust.ConfigPage{1: {Items: items(5, 3<<19), LastPage: 1}}}
	p := run(f, "")
	if p.Count != 2 || p.NextCursor == "" {
		t.Fatalf("cut page: %d items, cursor %q", p.Count, p.NextCursor)
	}
	p = run(f, p.NextCursor)
	if p.Count != 2 || !strings.Contains(string(p.Items[0]), `"id":2`) || f.asked[len(f.asked)-1] != 1 {
		t.Fatalf("resumed page: %d items, first %.20s, asked %v", p.Count, p.Items[0], f.asked)
	}
	p = run(f, p.NextCursor)
	if p.Count != 1 || p.NextCursor != "" || !strings.Contains(string(p.Items[0]), `"id":4`) {
		t.Fatalf("last part: %d items, cursor %q", p.Count, p.NextCursor)
	}
}
