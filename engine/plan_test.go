package engine

import (
	"context"
	"errors"
	"testing"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/outbound"
)

// writeFailingApp fails the test on any write.
type writeFailingApp struct{ t *testing.T }

func (a writeFailingApp) Host() string { return "support.example.com" }
func (a writeFailingApp) Session(_ context.Context, lsid string) (*beyondtrust.Session, error) {
	return &beyondtrust.Session{LSID: lsid}, nil
}
func (a writeFailingApp) SetSessionAttributes(context.Context, string, *string, map[string]string) error {
	a.t.Error("a dry run wrote to the appliance")
	return nil
}

type setFailingLinks struct{ t *testing.T }

func (l setFailingLinks) Link(context.Context, int64, string, string) (string, bool, error) {
	return "", false, nil
}
func (l setFailingLinks) SetLink(context.Context, int64, string, string, string) error {
	l.t.Error("a dry run set a link")
	return nil
}

// In a dry run Once still finds, plans the create's write as done, and
// nothing reaches the appliance, the links or a stored checkpoint.
func TestDryRun(t *testing.T) {
	t.Parallel()
	saved := false
	job := &Job{
		Client:     writeFailingApp{t},
		Links:      setFailingLinks{t},
		Checkpoint: NewCheckpoint(nil, func(context.Context, map[string]string) error { saved = true; return nil }),
		Lease:      lostLease{},
	}
	client := outbound.New(outbound.Options{Name: "psa"})
	plan, err := DryRun(context.Background(), job, nil, func(ctx context.Context, j *Job) error {
		if !j.Planning() {
			t.Error("Planning is false in a dry run")
		}
		if s, err := j.Client.Session(ctx, "abc"); err != nil || s.LSID != "abc" {
			t.Errorf("read through the plan appliance: %v", err)
		}
		v, existing, err := j.Once(ctx, "note", func(context.Context) (string, bool, error) { return "", false, nil },
			func(ctx context.Context) (string, error) {
				_, err := client.Do(ctx, outbound.Request{Method: "POST", URL: "http://127.0.0.1:1/notes", JSON: map[string]string{"text": "hi"}})
				return "", err
			})
		if v != "" || existing || err != nil {
			t.Errorf("Once in a dry run: %q %v %v", v, existing, err)
		}
		j.Explain("contact", "contact %d", 5)
		key := "T1"
		if err := j.Client.SetSessionAttributes(ctx, "abc", &key, nil); err != nil {
			t.Error(err)
		}
		return j.Links.SetLink(ctx, 1, "abc", "ticket", "T1")
	})
	if err != nil {
		t.Fatal(err)
	}
	w := plan.Writes()
	if len(w) != 2 || w[0].Key != "note" || w[0].System != "psa" || string(w[0].Body) != `{"text":"hi"}` ||
		w[1].System != "beyondtrust" || string(w[1].Body) != `{"action":"set_session_attributes","lsid":"abc","session.custom.external_key":"T1"}` {
		t.Fatalf("writes %+v", w)
	}
	if s := plan.Steps(); len(s) != 1 || s[0] != (PlanStep{Topic: "contact", Text: "contact 5"}) {
		t.Fatalf("steps %+v", s)
	}
	if saved {
		t.Error("a dry run saved its checkpoint")
	}
}

// A sample stands in for every session.
func TestDryRunWithASample(t *testing.T) {
	t.Parallel()
	sample := &beyondtrust.Session{LSID: "sample"}
	_, err := DryRun(context.Background(), &Job{Client: writeFailingApp{t}}, sample, func(ctx context.Context, j *Job) error {
		s, err := j.Client.Session(ctx, "real")
		if err != nil || s.LSID != "sample" || s == sample {
			t.Errorf("got %+v, %v; want a copy of the sample", s, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type lostLease struct{}

func (lostLease) Check(context.Context) error { return errors.New("lease lost") }
