package connector

import (
	"errors"
	"sync"
	"testing"
)

type fakeClient struct {
	n       int
	cleaned bool
}

func (f *fakeClient) Cleanup() { f.cleaned = true }

func TestClientsProvisionReuseAndCleanup(t *testing.T) {
	t.Parallel()
	var c Clients[*fakeClient]
	built := 0
	provision := func() (*fakeClient, error) { built++; return &fakeClient{n: built}, nil }
	a, _ := c.Get(1, Fingerprint("site", "key"), provision)
	b, _ := c.Get(1, Fingerprint("site", "key"), provision)
	if a != b || built != 1 {
		t.Fatalf("the same settings provisioned again: %d builds", built)
	}
	changed, _ := c.Get(1, Fingerprint("site", "new key"), provision)
	if changed == a || !a.cleaned || changed.cleaned || built != 2 {
		t.Fatalf("changed settings: old cleaned %v, builds %d", a.cleaned, built)
	}
	other, _ := c.Get(2, Fingerprint("site", "new key"), provision)
	if other == changed || c.Len() != 2 {
		t.Fatal("a configuration shares another's client")
	}
	if _, err := c.Get(1, "bad", func() (*fakeClient, error) { return nil, errors.New("bad site") }); err == nil {
		t.Fatal("a failed provision returned no error")
	}
	if got, _ := c.Get(1, Fingerprint("site", "new key"), provision); got != changed {
		t.Fatal("a failed provision dropped the working client")
	}
	c.Forget(2)
	if !other.cleaned || c.Len() != 1 {
		t.Fatal("Forget did not clean up")
	}
	t0, _ := c.Get(0, "x", provision)
	t1, _ := c.Get(0, "x", provision)
	if t0 == t1 {
		t.Fatal("an unsaved configuration's client was cached")
	}
}

func TestFingerprintSeparatesParts(t *testing.T) {
	t.Parallel()
	if Fingerprint("ab", "c") == Fingerprint("a", "bc") {
		t.Fatal("parts run together")
	}
}

func TestKeyedMutex(t *testing.T) {
	t.Parallel()
	var k KeyedMutex
	var wg sync.WaitGroup
	inside := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := k.Lock("7|lsid")
			inside++
			inside--
			unlock()
		}()
	}
	wg.Wait()
	if len(k.locks) != 0 {
		t.Fatalf("%d locks left", len(k.locks))
	}
}
