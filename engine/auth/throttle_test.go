package auth

import (
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
	now := time.Unix(1_700_000_000, 0)
	th := newThrottle(func() time.Time { return now })

	for range userRule.free - 1 {
		th.fail("10.0.0.1", "admin")
	}
	if w := th.wait("10.0.0.1", "admin"); w != 0 {
		t.Fatalf("wait after %d failures = %s, want 0", userRule.free-1, w)
	}
	th.fail("10.0.0.1", "admin")
	if w := th.wait("10.0.0.1", "admin"); w != time.Second {
		t.Fatalf("wait after %d failures = %s, want 1s", userRule.free, w)
	}
	// The username is slowed down from any address, the address for any
	// username.
	if w := th.wait("10.0.0.2", "admin"); w != time.Second {
		t.Errorf("wait for same user, other address = %s, want 1s", w)
	}
	if w := th.wait("10.0.0.1", "other"); w != time.Second {
		t.Errorf("wait for same address, other user = %s, want 1s", w)
	}
	if w := th.wait("10.0.0.2", "other"); w != 0 {
		t.Errorf("wait for unrelated login = %s, want 0", w)
	}

	now = now.Add(400 * time.Millisecond)
	if w := th.wait("10.0.0.1", "admin"); w != 600*time.Millisecond {
		t.Errorf("wait after 400ms = %s, want 600ms", w)
	}

	for range 20 {
		th.fail("10.0.0.1", "admin")
	}
	if w := th.wait("10.0.0.3", "admin"); w != userRule.limit {
		t.Errorf("user wait = %s, want the cap %s", w, userRule.limit)
	}
	if w := th.wait("10.0.0.1", "someone"); w != addrRule.limit {
		t.Errorf("address wait = %s, want the cap %s", w, addrRule.limit)
	}

	th.succeed("10.0.0.1", "admin")
	if w := th.wait("10.0.0.1", "admin"); w != 0 {
		t.Errorf("wait after success = %s, want 0", w)
	}

	th.fail("10.9.9.9", "ghost")
	now = now.Add(forgetAfter + time.Minute)
	th.fail("10.0.0.4", "new")
	if _, ok := th.entries["user:ghost"]; ok {
		t.Error("failures idle for over an hour were not forgotten")
	}
}
