package appliance

import (
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// An appliance whose clock runs three hours behind ours (more than a
// window): what it records after a poll, stamped by its own clock, is
// found by the next poll. The windows and the cursor's bound come from the
// appliance's time as get_api_info gives it (reference §4), not from ours.
func TestAnApplianceClockBehindLosesNothing(t *testing.T) {
	t.Parallel()
	const behind = 3 * time.Hour
	for _, stream := range []string{StreamTeam, StreamVault} {
		t.Run(stream, func(t *testing.T) {
			t.Parallel()
			var f *fixture
			f = newFixture(t, beyondtrust.ProductPRA, bttest.WithClock(func() time.Time { return f.clock.Now().Add(-behind) }))
			add := func(at time.Time, what string) {
				if stream == StreamTeam {
					f.team(at, "Conference Member Added", [2]string{"user_id", what})
				} else {
					f.vault(at, "Password Changed "+what)
				}
			}
			add(f.sim.Now().Add(-10*time.Minute), "before")
			if c := f.mustPoll(stream); c.New != 1 {
				t.Fatalf("first poll stored %d, want 1", c.New)
			}
			if cur := f.cursor(stream).Cursor(); cur.After(f.sim.Now()) {
				t.Fatalf("cursor %s is past the appliance's clock %s", cur, f.sim.Now())
			}
			for i, what := range []string{"after-1", "after-2"} {
				f.clock.Add(time.Minute)
				add(f.sim.Now().Add(-time.Duration(30-i)*time.Second), what)
				if c := f.mustPoll(stream); c.New != 1 {
					t.Fatalf("an activity the appliance recorded after poll %d, at %s by its clock, was not stored (%+v; cursor %s)",
						i+1, f.sim.Now(), c, f.cursor(stream).Cursor())
				}
			}
		})
	}
}

// An appliance whose clock ran three hours ahead, then was set right: the
// cursor never went past our present, so what it records after the fix is
// found (what it recorded ahead is read again and dropped by dedupe).
func TestAnApplianceClockAheadThenSetRightLosesNothing(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	skew.Store(int64(3 * time.Hour))
	var f *fixture
	f = newFixture(t, beyondtrust.ProductPRA, bttest.WithClock(func() time.Time { return f.clock.Now().Add(time.Duration(skew.Load())) }))
	f.team(f.sim.Now().Add(-time.Minute), "Conference Member Added", [2]string{"user_id", "ahead"})
	if c := f.mustPoll(StreamTeam); c.New != 1 {
		t.Fatalf("first poll stored %d, want 1", c.New)
	}
	if cur := f.cursor(StreamTeam).Cursor(); cur.After(f.clock.Now()) {
		t.Fatalf("cursor %s is past our present %s", cur, f.clock.Now())
	}
	skew.Store(0)
	f.clock.Add(time.Minute)
	f.team(f.sim.Now().Add(-30*time.Second), "Conference Member Added", [2]string{"user_id", "set right"})
	if c := f.mustPoll(StreamTeam); c.New != 1 {
		t.Fatalf("the activity after the clock was set right was not stored: %+v, cursor %s", c, f.cursor(StreamTeam).Cursor())
	}
}
