package auth

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestThrottleRuleDelay(t *testing.T) {
	t.Parallel()
	rule := throttleRule{free: 3, base: time.Second, limit: 10 * time.Second}
	tests := []struct {
		count int
		want  time.Duration
	}{
		{0, 0},
		{2, 0},
		{3, time.Second},
		{4, 2 * time.Second},
		{6, 8 * time.Second},
		{7, 10 * time.Second},
		{1000, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := rule.delay(tt.count); got != tt.want {
			t.Errorf("delay(%d) = %s, want %s", tt.count, got, tt.want)
		}
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Unix(1_700_000_000, 0)
	_, st := newTestManager(t)
	th := newThrottle(st, func() time.Time { return now })
	fail := func(addr, user string) {
		t.Helper()
		if err := th.fail(ctx, addr, user); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(addr, user string) time.Duration {
		t.Helper()
		w, _, err := th.wait(ctx, addr, user)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}

	for range userRule.free - 1 {
		fail("10.0.0.1", "admin")
	}
	if w := wait("10.0.0.1", "admin"); w != 0 {
		t.Fatalf("wait after %d failures = %s, want 0", userRule.free-1, w)
	}
	fail("10.0.0.1", "admin")
	if w := wait("10.0.0.1", "admin"); w != time.Second {
		t.Fatalf("wait after %d failures = %s, want 1s", userRule.free, w)
	}
	// The username is slowed down from any address, the address for any
	// username.
	if w := wait("10.0.0.2", "admin"); w != time.Second {
		t.Errorf("wait for same user, other address = %s, want 1s", w)
	}
	if w := wait("10.0.0.1", "other"); w != time.Second {
		t.Errorf("wait for same address, other user = %s, want 1s", w)
	}
	if w := wait("10.0.0.2", "other"); w != 0 {
		t.Errorf("wait for unrelated login = %s, want 0", w)
	}

	now = now.Add(400 * time.Millisecond)
	if w := wait("10.0.0.1", "admin"); w != 600*time.Millisecond {
		t.Errorf("wait after 400ms = %s, want 600ms", w)
	}

	for range 20 {
		fail("10.0.0.1", "admin")
	}
	if w := wait("10.0.0.3", "admin"); w != userRule.limit {
		t.Errorf("user wait = %s, want the cap %s", w, userRule.limit)
	}
	if w := wait("10.0.0.1", "someone"); w != addrRule.limit {
		t.Errorf("address wait = %s, want the cap %s", w, addrRule.limit)
	}

	if err := th.succeed(ctx, "10.0.0.1", "admin"); err != nil {
		t.Fatal(err)
	}
	if w := wait("10.0.0.1", "admin"); w != 0 {
		t.Errorf("wait after success = %s, want 0", w)
	}

	// A username no account has (too long, not UTF-8) is kept as a hash,
	// and throttled all the same.
	for _, odd := range []string{strings.Repeat("x", 5000), "\xff\xfeadmin"} {
		for range userRule.free {
			fail("10.0.0.9", odd)
		}
		if w := wait("10.0.0.8", odd); w != time.Second {
			t.Errorf("wait for an odd username = %s, want 1s", w)
		}
	}

	fail("10.9.9.9", "ghost")
	now = now.Add(forgetAfter + time.Minute)
	fail("10.0.0.4", "new")
	if got, err := st.LoginFailures(ctx, []string{"user:ghost", "user:new"}); err != nil || len(got) != 1 {
		t.Errorf("failures idle for over an hour were not forgotten: %v %v", got, err)
	}
}

// Guesses sent all at once are throttled as if sent one after another:
// each must see the failures of those before it, or a guesser with many
// connections gets a password check for every one of them.
func TestThrottleConcurrentGuesses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, _ := newTestManager(t)
	if _, err := m.Bootstrap(ctx, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	const guesses = 40
	var wg sync.WaitGroup
	var checked, throttled atomic.Int64
	start := make(chan struct{})
	for i := range guesses {
		wg.Go(func() {
			<-start
			_, err := m.Verify(ctx, "admin", fmt.Sprint("guess", i), fmt.Sprintf("192.0.2.%d", i))
			var th *ThrottledError
			switch {
			case errors.Is(err, ErrInvalidCredentials):
				checked.Add(1)
			case errors.As(err, &th):
				throttled.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := checked.Load(); n > int64(userRule.free) {
		t.Fatalf("%d of %d simultaneous guesses at one account were checked, %d throttled; the throttle allows %d", n, guesses, throttled.Load(), userRule.free)
	}
}
