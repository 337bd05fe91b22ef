package connectwise

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"switchboard/engine"
)

// TestNextLinkStaysHome: a Link header pointing to another origin is
// refused, since the keys would follow it.
func TestNextLinkStaysHome(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Link", `<https://evil.example/v4_6_release/apis/3.0/system/members?pageId=9>; rel="next"`)
		_, _ = w.Write([]byte(`[{"id": 1}]`))
	}))
	defer srv.Close()
	c, err := NewClient(Options{Site: srv.URL + "/v4_6_release/apis/3.0", Company: "acme", PublicKey: "pub", PrivateKey: "private-key", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Find[struct{ ID int64 }](context.Background(), c, "system/members", nil, 0)
	if out, _ := engine.Classify(err); out != engine.OutcomePermanent || !strings.Contains(err.Error(), "points away") || hits.Load() != 1 {
		t.Errorf("%v (%v), %d requests", out, err, hits.Load())
	}
}

// TestCodebaseMoved: a 404 on a discovered codebase makes the client ask
// companyinfo again and retry once on the new codebase (reference §1).
func TestCodebaseMoved(t *testing.T) {
	t.Parallel()
	var codebase atomic.Value
	codebase.Store("v2024_1/")
	mux := http.NewServeMux()
	mux.HandleFunc("/login/companyinfo/acme", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"Codebase":"` + codebase.Load().(string) + `","CompanyID":"acme"}`))
	})
	mux.HandleFunc("/v2025_1/apis/3.0/system/info", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"version":"v2025.1"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := NewClient(Options{Site: srv.URL, Company: "acme", PublicKey: "pub", PrivateKey: "private-key", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	if root, err := c.Root(context.Background()); err != nil || !strings.HasSuffix(root, "/v2024_1/apis/3.0") {
		t.Fatalf("root %q (%v)", root, err)
	}
	codebase.Store("v2025_1/")
	var info struct{ Version string }
	if err := c.Get(context.Background(), "system/info", &info); err != nil || info.Version != "v2025.1" {
		t.Errorf("%+v (%v)", info, err)
	}
	// An unknown company is permanent and says which.
	c2, _ := NewClient(Options{Site: srv.URL, Company: "globex", PublicKey: "pub", PrivateKey: "private-key", ClientID: "cid"})
	_, err = c2.Root(context.Background())
	if out, _ := engine.Classify(err); out != engine.OutcomePermanent || errors.Is(err, ErrNotFound) {
		t.Errorf("unknown company: %v (%v)", out, err)
	}
}
