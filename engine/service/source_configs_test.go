package service

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/sources/appliance"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/store"
)

// withSourceKinds registers both kinds of source, listing only the stored
// ones (a server lists the sources file's too).
func withSourceKinds(svc *Service) {
	svc.SetSources(
		&pmcloud.Catalog{Clients: &pmcloud.Clients{}, List: func() []*pmcloud.Settings {
			var out []*pmcloud.Settings
			for _, src := range svc.StoredSources(pmcloud.Source) {
				out = append(out, src.Settings.(*pmcloud.Settings))
			}
			return out
		}},
		&appliance.Catalog{Clients: &appliance.Clients{}, List: func() []*appliance.Settings { return nil }},
	)
}

const pmSource = `{"name":"acme","services_url":"https://acme-services.pm.beyondtrustcloud.com","client_id":"id1","client_secret":"s3cret-value","deliver_to":["SIEM"]}`

func TestStoredSourceLifecycle(t *testing.T) {
	var logs bytes.Buffer
	svc, st := newService(t, &logs)
	withSourceKinds(svc)
	ctx := context.Background()
	if err := svc.LoadSources(ctx); err != nil {
		t.Fatal(err)
	}

	// A bad field is refused with its name; nothing is stored.
	_, err := svc.CreateSource(ctx, "ann", SourceInput{Kind: "pmcloud", Settings: []byte(`{"name":"acme","services_url":"http://x","client_id":"id1","interval":5}`)})
	var fe engine.FieldErrors
	if !errors.As(err, &fe) || fe.For("interval") == "" || fe.For("services_url") == "" || fe.For("client_secret") == "" {
		t.Fatalf("bad source: %v", err)
	}
	if _, err := svc.CreateSource(ctx, "ann", SourceInput{Kind: "nope", Settings: []byte(`{}`)}); !errors.As(err, &fe) || fe.For("kind") == "" {
		t.Fatalf("unknown kind: %v", err)
	}

	sc, err := svc.CreateSource(ctx, "ann", SourceInput{Kind: "pmcloud", Settings: []byte(pmSource)})
	if err != nil {
		t.Fatal(err)
	}
	if !sc.SecretsSet["client_secret"] || sc.Settings.(*pmcloud.Settings).ClientSecret.IsSet() {
		t.Fatalf("secret shown or not set: %+v", sc)
	}
	row, err := st.GetSourceConfig(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row.Settings, "s3cret") || bytes.Contains(row.Secrets, []byte("s3cret")) || len(row.Secrets) == 0 {
		t.Fatalf("secret stored in clear: %q / %q", row.Settings, row.Secrets)
	}
	// Polled at once: the cache holds it with its secret.
	got := svc.StoredSources(pmcloud.Source)
	if len(got) != 1 || got[0].Settings.(*pmcloud.Settings).ClientSecret.Reveal() != "s3cret-value" {
		t.Fatalf("stored sources: %+v", got)
	}
	// The Polling page's table shows it as a database source.
	views, err := svc.Sources(ctx)
	if err != nil || len(views) != 1 || views[0].ID != sc.ID || views[0].Origin != engine.SourceFromDatabase {
		t.Fatalf("views: %+v %v", views, err)
	}

	// An edit that leaves the secret empty keeps it; one that moves the
	// URL asks for it again.
	if _, err := svc.UpdateSource(ctx, "ann", sc.ID, SourceInput{Settings: []byte(`{"name":"acme","services_url":"https://acme-services.pm.beyondtrustcloud.com","client_id":"id1","interval":600}`)}); err != nil {
		t.Fatal(err)
	}
	if got := svc.StoredSources(pmcloud.Source)[0].Settings.(*pmcloud.Settings); got.Interval != 600 || got.ClientSecret.Reveal() != "s3cret-value" {
		t.Fatalf("after edit: %+v", got)
	}
	_, err = svc.UpdateSource(ctx, "ann", sc.ID, SourceInput{Settings: []byte(`{"name":"acme","services_url":"https://evil-services.pm.beyondtrustcloud.com","client_id":"id1"}`)})
	if !errors.As(err, &fe) || !strings.Contains(fe.For("client_secret"), "type it again") {
		t.Fatalf("moved URL kept the secret: %v", err)
	}
	// A stale version is refused.
	if _, err := svc.UpdateSource(ctx, "ann", sc.ID, SourceInput{Version: 1, Settings: []byte(pmSource)}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}

	cp, err := svc.CopySource(ctx, "ann", sc.ID)
	if err != nil || cp.Name != "Copy of acme" || !cp.Disabled || !cp.SecretsSet["client_secret"] {
		t.Fatalf("copy: %+v %v", cp, err)
	}
	// Names are unique across stored sources.
	if _, err := svc.CreateSource(ctx, "ann", SourceInput{Kind: "pmcloud", Settings: []byte(pmSource)}); !errors.As(err, &fe) || fe.For("name") == "" {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := svc.SetSourceDisabled(ctx, "ann", sc.ID, true); err != nil {
		t.Fatal(err)
	}
	if !svc.StoredSources(pmcloud.Source)[0].Settings.SourceDisabled() {
		t.Fatal("not disabled")
	}
	if err := svc.DeleteSource(ctx, "ann", cp.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(svc.StoredSources(pmcloud.Source)); n != 1 {
		t.Fatalf("after delete: %d sources", n)
	}
	audit, err := st.Audit(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+" "+a.Summary)
		if strings.Contains(a.Changes, "s3cret") {
			t.Fatalf("secret in the audit: %s", a.Changes)
		}
	}
	joined := strings.Join(actions, "\n")
	for _, want := range []string{"create created pmcloud source acme", "update updated source acme", "copy copied source acme as Copy of acme", "disable disabled source acme", "delete deleted source Copy of acme"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %q:\n%s", want, joined)
		}
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Fatal("secret in the logs")
	}
}

// A stored source may not take the name of a sources file's source, and a
// database holding one stops the start with both named.
func TestStoredSourceNameCollision(t *testing.T) {
	svc, _ := newService(t, nil)
	withSourceKinds(svc)
	ctx := context.Background()
	if err := svc.LoadSources(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateSource(ctx, "ann", SourceInput{Kind: "pmcloud", Settings: []byte(pmSource)}); err != nil {
		t.Fatal(err)
	}
	svc.SetFileSources(map[string]string{"acme": "appliance"})
	err := svc.LoadSources(ctx)
	if err == nil || !strings.Contains(err.Error(), `"acme" is configured twice`) {
		t.Fatalf("collision at start: %v", err)
	}
	var fe engine.FieldErrors
	_, err = svc.CreateSource(ctx, "ann", SourceInput{Kind: "pmcloud", Settings: []byte(strings.Replace(pmSource, `"name":"acme"`, `"name":"acme"`, 1))})
	if !errors.As(err, &fe) || !strings.Contains(fe.For("name"), "sources file") {
		t.Fatalf("file name taken: %v", err)
	}
}

// A stored appliance source's secret is kept by an edit only while what
// decides where it goes is unchanged: turning certificate checks off lets
// whoever answers in the appliance's place read it, so the secret must be
// typed again, as a configuration's appliance section asks.
func TestStoredSourceSecretBindsCertificateChecks(t *testing.T) {
	svc, _ := newService(t, nil)
	withSourceKinds(svc)
	ctx := context.Background()
	if err := svc.LoadSources(ctx); err != nil {
		t.Fatal(err)
	}
	sc, err := svc.CreateSource(ctx, "ann", SourceInput{Kind: "appliance", Settings: []byte(`{"name":"pra","host":"pra.example.com","client_id":"id1","client_secret":"s3cret-value"}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.UpdateSource(ctx, "ann", sc.ID, SourceInput{Settings: []byte(`{"name":"pra","host":"pra.example.com","client_id":"id1","allow_invalid_certs":true}`)})
	var fe engine.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(fe.For("client_secret"), "type it again") {
		t.Fatalf("certificate checks turned off with the stored secret kept: %v", err)
	}
	if _, err := svc.UpdateSource(ctx, "ann", sc.ID, SourceInput{Settings: []byte(`{"name":"pra","host":"pra.example.com","client_id":"id1","client_secret":"s3cret-value","allow_invalid_certs":true}`)}); err != nil {
		t.Fatalf("with the secret typed again: %v", err)
	}
}
