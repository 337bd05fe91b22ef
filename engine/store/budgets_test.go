package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Slots of a budget: at most limit held at once, an expired lease's slot
// taken over, a renewed one kept, a slot released with a hold counted
// until the hold ends and renewed by nobody.
func TestBudgetSlots(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		const ttl = 10 * time.Second
		taken := map[int]string{}
		for i := range 3 {
			lease := fmt.Sprint("a", i)
			slot, ok, err := st.TakeBudgetSlot(ctx, "b", 3, "engineA", lease, now, ttl)
			if err != nil || !ok {
				t.Fatalf("take %d: %v %v", i, ok, err)
			}
			if _, dup := taken[slot]; dup || slot < 0 || slot > 2 {
				t.Fatalf("slot %d taken twice or out of range: %v", slot, taken)
			}
			taken[slot] = lease
		}
		if _, ok, err := st.TakeBudgetSlot(ctx, "b", 3, "engineB", "b0", now, ttl); err != nil || ok {
			t.Fatalf("a fourth slot of three: %v %v", ok, err)
		}
		// Another budget is not affected.
		if _, ok, err := st.TakeBudgetSlot(ctx, "other", 1, "engineB", "o0", now, ttl); err != nil || !ok {
			t.Fatalf("other budget: %v %v", ok, err)
		}
		if taken, _, err := st.BudgetUse(ctx, []string{"b", "other", "none"}, now); err != nil ||
			taken["b"] != 3 || taken["other"] != 1 || taken["none"] != 0 {
			t.Fatalf("use %v %v", taken, err)
		}

		// engineA renews; the slots are still held past the first expiry.
		if err := st.RenewBudgetSlots(ctx, "engineA", []string{"a0", "a1", "a2"}, now.Add(2*ttl)); err != nil {
			t.Fatal(err)
		}
		later := now.Add(ttl + time.Second)
		if _, ok, err := st.TakeBudgetSlot(ctx, "b", 3, "engineB", "b1", later, ttl); err != nil || ok {
			t.Fatalf("renewed slots taken over: %v %v", ok, err)
		}
		// One slot released now, one with a hold.
		if err := st.ReleaseBudgetSlot(ctx, "b", 0, taken[0], time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := st.ReleaseBudgetSlot(ctx, "b", 1, taken[1], later.Add(ttl*5)); err != nil {
			t.Fatal(err)
		}
		// A release naming a lease that is not the slot's does nothing.
		if err := st.ReleaseBudgetSlot(ctx, "b", 2, "not-mine", time.Time{}); err != nil {
			t.Fatal(err)
		}
		slot, ok, err := st.TakeBudgetSlot(ctx, "b", 3, "engineB", "b2", later, 10*ttl)
		if err != nil || !ok || slot != 0 {
			t.Fatalf("the released slot: %d %v %v", slot, ok, err)
		}
		// engineA dies: its last slot (2) expires and is taken over; the
		// held one (1) is not renewed by engineA's renewals, and stays
		// counted until its hold ends.
		if err := st.RenewBudgetSlots(ctx, "engineA", []string{"a1", "a2"}, later.Add(ttl*10)); err != nil {
			t.Fatal(err)
		}
		if err := st.w.Exec(`UPDATE budget_slots SET lease_until = ? WHERE holder = 'engineA'`, ms(later)).Error; err != nil {
			t.Fatal(err)
		}
		slot, ok, err = st.TakeBudgetSlot(ctx, "b", 3, "engineB", "b3", later.Add(time.Millisecond), 10*ttl)
		if err != nil || !ok || slot != 2 {
			t.Fatalf("the dead engine's slot: %d %v %v", slot, ok, err)
		}
		if _, ok, err := st.TakeBudgetSlot(ctx, "b", 3, "engineB", "b4", later.Add(ttl*5-time.Millisecond), time.Millisecond); err != nil || ok {
			t.Fatalf("a slot held for a timed-out request taken: %v %v", ok, err)
		}
		slot, ok, err = st.TakeBudgetSlot(ctx, "b", 3, "engineB", "b5", later.Add(ttl*5), ttl)
		if err != nil || !ok || slot != 1 {
			t.Fatalf("the held slot after its hold: %d %v %v", slot, ok, err)
		}
		if _, _, err := st.TakeBudgetSlot(ctx, "b", 0, "engineB", "b6", later, ttl); err != nil {
			t.Fatal(err)
		}
		// A renewal extends only the leases it names: a row of the same
		// holder under another lease (a take whose answer was lost)
		// expires.
		for _, lease := range []string{"c0", "c1"} {
			if _, ok, err := st.TakeBudgetSlot(ctx, "c", 2, "engineC", lease, now, ttl); err != nil || !ok {
				t.Fatalf("take %s: %v %v", lease, ok, err)
			}
		}
		if err := st.RenewBudgetSlots(ctx, "engineC", []string{"c0"}, now.Add(3*ttl)); err != nil {
			t.Fatal(err)
		}
		if err := st.RenewBudgetSlots(ctx, "engineC", nil, now.Add(3*ttl)); err != nil {
			t.Fatal(err)
		}
		if taken, _, err := st.BudgetUse(ctx, []string{"c"}, now.Add(2*ttl)); err != nil || taken["c"] != 1 {
			t.Fatalf("after renewing one lease of two: %v %v", taken, err)
		}
	})
}

// A renewal never shortens a slot taken for longer than the renewal's
// lease (a request the remote may work on beyond it).
func TestBudgetRenewalKeepsALongerTake(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		if _, ok, err := st.TakeBudgetSlot(ctx, "long", 1, "engineA", "l0", now, time.Minute); err != nil || !ok {
			t.Fatalf("take: %v %v", ok, err)
		}
		if err := st.RenewBudgetSlots(ctx, "engineA", []string{"l0"}, now.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := st.TakeBudgetSlot(ctx, "long", 1, "engineB", "l1", now.Add(59*time.Second), time.Second); err != nil || ok {
			t.Fatalf("a slot taken for a minute went after a shorter renewal: %v %v", ok, err)
		}
		if _, ok, err := st.TakeBudgetSlot(ctx, "long", 1, "engineB", "l2", now.Add(time.Minute), time.Second); err != nil || !ok {
			t.Fatalf("the slot after its minute: %v %v", ok, err)
		}
	})
}

// Windows: perWindow requests, then RetryLater's wait until the window
// ends, then a fresh window.
func TestBudgetWindows(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		for i := range 3 {
			if _, ok, err := st.StartInBudgetWindow(ctx, "hour", 3, time.Hour, now.Add(time.Duration(i)*time.Minute)); err != nil || !ok {
				t.Fatalf("request %d: %v %v", i, ok, err)
			}
		}
		wait, ok, err := st.StartInBudgetWindow(ctx, "hour", 3, time.Hour, now.Add(10*time.Minute))
		if err != nil || ok || wait != 50*time.Minute {
			t.Fatalf("over the allowance: wait %s ok %v err %v, want 50m", wait, ok, err)
		}
		if _, used, err := st.BudgetUse(ctx, []string{"hour"}, now.Add(10*time.Minute)); err != nil || used["hour"] != 3 {
			t.Fatalf("used %v %v", used, err)
		}
		if _, used, err := st.BudgetUse(ctx, []string{"hour"}, now.Add(time.Hour)); err != nil || used["hour"] != 0 {
			t.Fatalf("used after the window %v %v", used, err)
		}
		if _, ok, err := st.StartInBudgetWindow(ctx, "hour", 3, time.Hour, now.Add(time.Hour)); err != nil || !ok {
			t.Fatalf("a new window: %v %v", ok, err)
		}
		if _, used, err := st.BudgetUse(ctx, []string{"hour"}, now.Add(time.Hour)); err != nil || used["hour"] != 1 {
			t.Fatalf("used in the new window %v %v", used, err)
		}
	})
}

// Login failures add up, are read per key, cleared and forgotten.
func TestLoginFailures(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000).UTC()
		keys := []string{"addr:10.0.0.1", "user:admin"}
		for i := range 3 {
			if err := st.AddLoginFailure(ctx, keys, now.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AddLoginFailure(ctx, []string{"user:ghost"}, now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := st.LoginFailures(ctx, []string{"addr:10.0.0.1", "user:admin", "user:nobody"})
		if err != nil {
			t.Fatal(err)
		}
		want := LoginFailures{Failures: 3, Last: now.Add(2 * time.Second)}
		if len(got) != 2 || got["user:admin"] != want || got["addr:10.0.0.1"] != want {
			t.Fatalf("failures %+v, want %+v for both keys", got, want)
		}
		if n, err := st.ForgetLoginFailures(ctx, now.Add(-time.Hour)); err != nil || n != 1 {
			t.Fatalf("forget: %d %v", n, err)
		}
		if err := st.ClearLoginFailures(ctx, []string{"user:admin"}); err != nil {
			t.Fatal(err)
		}
		got, err = st.LoginFailures(ctx, []string{"addr:10.0.0.1", "user:admin", "user:ghost"})
		if err != nil || len(got) != 1 || got["addr:10.0.0.1"].Failures != 3 {
			t.Fatalf("after clear: %+v %v", got, err)
		}
	})
}
