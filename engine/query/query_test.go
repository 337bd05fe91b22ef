package query

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// TestPageSizeCap: a page ends before MaxPageBytes, however high the
// limit, and its cursor goes on from the last item it holds; one item
// larger than the cap still makes a page of one.
func TestPageSizeCap(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20)
	var items []keyed
	for i := range 10 {
		items = append(items, keyed{string(rune('a' + i)), map[string]string{"v": big}})
	}
	p := &Page{}
	if err := fill(p, items, MaxLimit, false); err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 3 || p.NextCursor != encodeCursor("c") {
		t.Fatalf("%d items, cursor %q", len(p.Items), p.NextCursor)
	}
	huge := []keyed{{"a", map[string]string{"v": strings.Repeat("x", MaxPageBytes+1)}}, {"b", 1}}
	p = &Page{}
	if err := fill(p, huge, MaxLimit, false); err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.NextCursor != encodeCursor("a") {
		t.Fatalf("an oversized item: %d items, cursor %q", len(p.Items), p.NextCursor)
	}
	p = &Page{}
	if err := fill(p, items[:2], MaxLimit, false); err != nil || p.NextCursor != "" {
		t.Fatalf("the last page has a cursor: %q %v", p.NextCursor, err)
	}
}

// TestApplianceTimeout: an appliance that does not answer ends the query
// with an *ApplianceError of KindTimeout naming the appliance, within the
// client's timeout.
func TestApplianceTimeout(t *testing.T) {
	t.Parallel()
	sim := bttest.New()
	defer sim.Close()
	sim.Inject(bttest.Fault{Path: bttest.PathReporting, Hang: true})
	opts := sim.Options()
	opts.Timeout = 200 * time.Millisecond
	c := beyondtrust.NewClient(opts, nil)
	p, err := ParseParams(KindSessions, url.Values{"from": {"3600"}, "to": {"7200"}}, time.Unix(10000, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), c, KindSessions, p)
	var ae *ApplianceError
	if !errors.As(err, &ae) || ae.Err.Kind != beyondtrust.KindTimeout || ae.Host != sim.Host() {
		t.Fatalf("got %v", err)
	}
}

// TestParseParamsClampsTo: a window reaching into the future ends now.
func TestParseParamsClampsTo(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	p, err := ParseParams(KindVault, url.Values{"from": {"999000"}, "to": {"2000000"}}, now)
	if err != nil || !p.To.Equal(now) || p.Limit != DefaultLimit {
		t.Fatalf("%+v %v", p, err)
	}
}
