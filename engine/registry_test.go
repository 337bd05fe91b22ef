package engine

import (
	"context"
	"strings"
	"testing"
)

type namedPlugin struct {
	id       string
	settings func() any
}

func (p namedPlugin) Info() Info { return Info{ID: p.id, NewSettings: p.settings} }

func (namedPlugin) Handle(context.Context, *Job) error { return nil }

func TestRegistryRefusesBadPlugins(t *testing.T) {
	t.Parallel()
	ok := func() any { return &struct{}{} }
	cases := []struct {
		plugins []Plugin
		want    string
	}{
		{[]Plugin{namedPlugin{"a", ok}, namedPlugin{"a", ok}}, `plugin ID "a" is registered twice`},
		{[]Plugin{namedPlugin{"", ok}}, "has no ID"},
		{[]Plugin{namedPlugin{"b", nil}}, "has no NewSettings"},
	}
	for _, c := range cases {
		if _, err := NewRegistry(c.plugins...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want %q", err, c.want)
		}
	}
	r, err := NewRegistry(namedPlugin{"z", ok}, namedPlugin{"a", ok})
	if err != nil {
		t.Fatal(err)
	}
	if all := r.All(); len(all) != 2 || all[0].Info().ID != "a" {
		t.Fatalf("All() not sorted: %v", all)
	}
	if _, found := r.Get("z"); !found {
		t.Fatal("Get(z) found nothing")
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	base := context.DeadlineExceeded
	for _, c := range []struct {
		err  error
		want Outcome
	}{
		{nil, OutcomeDone},
		{base, OutcomeRetry},
		{Permanent(base), OutcomePermanent},
		{RetryAfter(5, base), OutcomeRetryAfter},
		{Skip("nothing to do"), OutcomeSkipped},
		{markedPermanent{}, OutcomePermanent},
	} {
		if got, _ := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if _, d := Classify(RetryAfter(7, base)); d != 7 {
		t.Errorf("RetryAfter delay %v, want 7", d)
	}
}

type markedPermanent struct{}

func (markedPermanent) Error() string        { return "bad client secret" }
func (markedPermanent) PermanentError() bool { return true }
