package intake

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"switchboard/engine"
	"switchboard/engine/metrics"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// tokenTable is the tokens each Appliance Id accepts, as the server's
// configurations would list them.
type tokenTable map[string][]string

func (t tokenTable) IntakeTokens(applianceID string) []engine.Secret {
	var out []engine.Secret
	for _, v := range t[applianceID] {
		out = append(out, engine.NewSecret(v))
	}
	return out
}

const (
	tokenA    = "tokenA-0123456789abcdef"
	tokenA2   = "tokenA2-0123456789abcdef"
	tokenB    = "tokenB-0123456789abcdef"
	wrongTokn = "tokenA-0123456789abcdeX"
)

type accessFixture struct {
	url  string
	st   *store.Store
	m    *metrics.Metrics
	logs *syncBuffer
}

func newAccessFixture(t *testing.T, opts Options) *accessFixture {
	t.Helper()
	f := &accessFixture{st: storetest.Open(t), m: metrics.New(nil, nil), logs: &syncBuffer{}}
	cfg := storetest.Config(t, f.st, "test", "Default")
	opts.Store, opts.Metrics = f.st, f.m
	opts.Router = staticRouter{appliance: "Default", deliveries: []store.NewDelivery{{ConfigID: cfg, Plugin: "test", MaxAttempts: 3}}}
	opts.Logger = slog.New(slog.NewTextHandler(f.logs, nil))
	f.url = serve(t, opts).URL + Path
	return f
}

func (f *accessFixture) post(t *testing.T, query string, form url.Values) int {
	t.Helper()
	resp, err := http.PostForm(f.url+query, form)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (f *accessFixture) stored(t *testing.T) int {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), store.EventFilter{Limit: 100, WithoutFields: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// Once an Appliance Id has a token, a post for it without one, with a wrong
// one, or with another appliance's is refused with 403, counted and not
// stored; every token of the Appliance Id is accepted.
func TestTokenGuardsTheApplianceID(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t, Options{Tokens: tokenTable{"Default": {tokenA, tokenA2}, "Other": {tokenB}}})
	refused := []struct{ name, query, reason string }{
		{"no token", "?appliance=Default", "token_missing"},
		{"empty token", "?appliance=Default&token=", "token_missing"},
		{"wrong token", "?appliance=Default&token=" + wrongTokn, "token_invalid"},
		{"a prefix of the token", "?appliance=Default&token=" + tokenA[:10], "token_invalid"},
		{"another appliance's token", "?appliance=Default&token=" + tokenB, "token_invalid"},
		{"no appliance in the URL means Default", "?token=" + tokenB, "token_invalid"},
		{"the token as a form field does not count", "?appliance=Default", "token_missing"},
	}
	for i, tc := range refused {
		form := endEvent("forged" + tc.name)
		form.Set("token", tokenA)
		if got := f.post(t, tc.query, form); got != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, got)
		}
		if n := f.stored(t); n != 0 {
			t.Fatalf("%s: %d events stored, want none", tc.name, n)
		}
		if got := testutil.ToFloat64(f.m.IntakeRejected.WithLabelValues("token_missing")) + testutil.ToFloat64(f.m.IntakeRejected.WithLabelValues("token_invalid")); got != float64(i+1) {
			t.Fatalf("%s: refusals counted %v, want %d", tc.name, got, i+1)
		}
	}
	if got := testutil.ToFloat64(f.m.IntakeRejected.WithLabelValues("token_invalid")); got != 4 {
		t.Errorf("token_invalid counted %v, want 4", got)
	}
	for i, q := range []string{"?appliance=Default&token=" + tokenA, "?token=" + tokenA2 + "&appliance=Default", "?appliance=Other&token=" + tokenB} {
		if got := f.post(t, q, endEvent("real"+string(rune('a'+i)))); got != http.StatusOK {
			t.Fatalf("post with a valid token (%d): status %d, want 200", i, got)
		}
	}
	if n := f.stored(t); n != 3 {
		t.Fatalf("%d events stored, want 3", n)
	}
	logs := f.logs.String()
	for _, tok := range []string{tokenA, tokenA2, tokenB, wrongTokn, tokenA[:10]} {
		if strings.Contains(logs, tok) {
			t.Fatalf("a token reached the log:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "token_invalid") {
		t.Fatalf("the refusal was not logged:\n%s", logs)
	}
}

// The appliance id may come from the posted appliance_id field; the token
// of that id is what is checked.
func TestTokenOfTheApplianceIDFromTheBody(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t, Options{Tokens: tokenTable{"Other": {tokenB}}})
	form := endEvent("x")
	form.Set("appliance_id", "Other")
	if got := f.post(t, "", form); got != http.StatusForbidden {
		t.Fatalf("status %d, want 403", got)
	}
	if got := f.post(t, "?token="+tokenB, form); got != http.StatusOK {
		t.Fatalf("status %d, want 200", got)
	}
}

// An Appliance Id without a token keeps the appliance's rule: every
// well-formed post is stored, routed or not, unless the engine requires a
// token for every post.
func TestApplianceWithoutTokenAndRequireToken(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t, Options{Tokens: tokenTable{"Default": {tokenA}}})
	if got := f.post(t, "?appliance=Unknown", endEvent("u")); got != http.StatusOK {
		t.Fatalf("unknown appliance without tokens: status %d, want 200 (stored as unrouted)", got)
	}
	req := newAccessFixture(t, Options{Tokens: tokenTable{"Default": {tokenA}}, RequireToken: true})
	if got := req.post(t, "?appliance=Unknown", endEvent("u")); got != http.StatusForbidden {
		t.Fatalf("with RequireToken, an appliance without tokens: status %d, want 403", got)
	}
	if got := req.post(t, "?appliance=Unknown&token="+tokenA, endEvent("u")); got != http.StatusForbidden {
		t.Fatalf("with RequireToken, another appliance's token: status %d, want 403", got)
	}
	if n := req.stored(t); n != 0 {
		t.Fatalf("%d events stored, want none", n)
	}
	if got := req.post(t, "?appliance=Default&token="+tokenA, endEvent("d")); got != http.StatusOK {
		t.Fatalf("with RequireToken, a valid token: status %d, want 200", got)
	}
}

// A post from outside the allow-list is refused before its body is read.
func TestAllowListRefusesOtherAddresses(t *testing.T) {
	t.Parallel()
	outside := newAccessFixture(t, Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}})
	if got := outside.post(t, "?appliance=Default", endEvent("a")); got != http.StatusForbidden {
		t.Fatalf("post from 127.0.0.1 with allow-list 10.0.0.0/8: status %d, want 403", got)
	}
	if n := outside.stored(t); n != 0 {
		t.Fatalf("%d events stored, want none", n)
	}
	if got := testutil.ToFloat64(outside.m.IntakeRejected.WithLabelValues("address_not_allowed")); got != 1 {
		t.Fatalf("address_not_allowed counted %v, want 1", got)
	}
	inside := newAccessFixture(t, Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if got := inside.post(t, "?appliance=Default", endEvent("a")); got != http.StatusOK {
		t.Fatalf("post from 127.0.0.1 with allow-list 127.0.0.0/8: status %d, want 200", got)
	}
}
