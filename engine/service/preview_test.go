package service

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"switchboard/engine"
	"switchboard/engine/outbound"
)

// planPlugin reads the session, explains, and tries every kind of write:
// a remote create through the kit, the appliance's external key and a
// link. Its remote fails the test on any request.
type planPlugin struct {
	secretPlugin
	remote string
	sent   *atomic.Int32
}

func (p planPlugin) PreviewEvents() []string { return []string{engine.EventSessionEnd} }

func (p planPlugin) Handle(ctx context.Context, job *engine.Job) error {
	sess, err := job.Client.Session(ctx, job.Event.LSID)
	if err != nil {
		return err
	}
	if sess.ExternalKey == "skip" {
		return engine.Skip("the session names no ticket")
	}
	v, _ := sess.Attribute("customer_email")
	job.Explain("contact", "the session's customer_email is %q", v)
	client := outbound.New(outbound.Options{Name: "psa"})
	if _, _, err := job.Once(ctx, "note", func(context.Context) (string, bool, error) { return "", false, nil },
		func(ctx context.Context) (string, error) {
			_, err := client.Do(ctx, outbound.Request{Method: http.MethodPost, URL: p.remote + "/notes", JSON: map[string]string{"ticket": sess.ExternalKey}})
			return "1", err
		}); err != nil {
		return err
	}
	key := "T1"
	if err := job.Client.SetSessionAttributes(ctx, sess.LSID, &key, nil); err != nil {
		return err
	}
	return job.Links.SetLink(ctx, job.ConfigID, sess.LSID, "psa.ticket", "T1")
}

func TestPreviewDeliveryWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var sent atomic.Int32
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		t.Errorf("a preview wrote to the remote: %s %s", r.Method, r.URL.Path)
	}))
	defer remote.Close()
	svc, st := newServiceWith(t, nil, planPlugin{remote: remote.URL, sent: &sent})
	cfg, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u"}))
	if err != nil {
		t.Fatal(err)
	}
	key := "T20240101.0001"
	p, err := svc.PreviewDelivery(ctx, "admin", cfg.ID, PreviewRequest{Event: engine.EventSessionEnd, ExternalKey: &key, Custom: map[string]string{"customer_email": "jane@contoso.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Outcome != PreviewWrites || !p.Sample || len(p.Writes) != 2 || p.Writes[0].Key != "note" || string(p.Writes[0].Body) != `{"ticket":"T20240101.0001"}` || p.Writes[1].System != "beyondtrust" {
		t.Fatalf("preview %+v", p)
	}
	if len(p.Steps) != 1 || p.Steps[0].Text != `the session's customer_email is "jane@contoso.example"` {
		t.Errorf("steps %+v", p.Steps)
	}
	if _, ok, _ := st.Link(ctx, cfg.ID, p.LSID, "psa.ticket"); ok {
		t.Error("a preview stored a link")
	}
	audit, _ := st.Audit(ctx, 10)
	if len(audit) == 0 || audit[0].Action != "preview" || !strings.Contains(audit[0].Summary, "nothing written") {
		t.Errorf("audit %+v", audit)
	}
	skip := "skip"
	p, err = svc.PreviewDelivery(ctx, "admin", cfg.ID, PreviewRequest{Event: engine.EventSessionEnd, ExternalKey: &skip})
	if err != nil || p.Outcome != PreviewSkipped || p.Reason != "the session names no ticket" || len(p.Writes) != 0 {
		t.Fatalf("skipped preview %+v, %v", p, err)
	}
	if sent.Load() != 0 {
		t.Fatal("the remote was written to")
	}
}

func TestPreviewDeliveryRefusesBadRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _ := newServiceWith(t, nil, planPlugin{remote: "http://127.0.0.1:1"})
	cfg, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u"}))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 1025)
	key := "T1"
	for name, req := range map[string]PreviewRequest{
		"unknown event":           {Event: "support_conference_begin"},
		"no event":                {},
		"lsid with a slash":       {Event: engine.EventSessionEnd, LSID: "../x"},
		"lsid too long":           {Event: engine.EventSessionEnd, LSID: strings.Repeat("a", 65)},
		"key with a real session": {Event: engine.EventSessionEnd, LSID: "abc", ExternalKey: &key},
		"key too long":            {Event: engine.EventSessionEnd, ExternalKey: &long},
		"bad custom code":         {Event: engine.EventSessionEnd, Custom: map[string]string{"a b": "x"}},
		"custom too long":         {Event: engine.EventSessionEnd, Custom: map[string]string{"a": long}},
	} {
		_, err := svc.PreviewDelivery(ctx, "admin", cfg.ID, req)
		var refused *ErrPreviewRefused
		if !errors.As(err, &refused) {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
	plain, _ := newServiceWith(t, nil, secretPlugin{})
	other, err := plain.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u"}))
	if err != nil {
		t.Fatal(err)
	}
	var refused *ErrPreviewRefused
	if _, err := plain.PreviewDelivery(ctx, "admin", other.ID, PreviewRequest{Event: engine.EventSessionEnd}); !errors.As(err, &refused) || !strings.Contains(err.Error(), "cannot preview") {
		t.Errorf("a plugin without previews: %v", err)
	}
}
