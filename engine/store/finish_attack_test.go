package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A finish still waiting for an event commit when the store closes is
// written by Close, fenced like any other: the attempt that kept its lease
// is recorded (a clean stop loses no outcome), and the one whose lease ran
// out meanwhile and whose delivery another engine process (here a second
// store on the same file, as after a restart) rescued and claimed again
// writes nothing, so the new attempt is neither overwritten nor followed by
// a second note.
func TestFinishesWaitingAtCloseAreWrittenAndFenced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sb.db")
	old, err := Open(ctx, path, Options{FinishWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, old)
	kept, _ := postClaiming(t, old, cfg, "kept", "kept")
	lost, _ := postClaiming(t, old, cfg, "lost", "lost")
	keptDone := finishLater(old, kept, kept.LeaseToken, "kept")
	lostDone := finishLater(old, lost, lost.LeaseToken, "written after its lease")
	waitFinishes(t, old, 2)

	// Another process rescues the delivery whose lease ran out (both did,
	// by its clock; the one it rescues first is the one it claims).
	other, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	later := time.Now().Add(2 * time.Minute)
	if err := other.w.Exec(`UPDATE deliveries SET lease_until = ? WHERE id = ?`, ms(time.Now().Add(time.Hour)), kept.ID).Error; err != nil {
		t.Fatal(err)
	}
	if n, err := other.Rescue(ctx, later, func(int) time.Duration { return 0 }); err != nil || n != 1 {
		t.Fatalf("rescue: %d %v; want the one expired lease", n, err)
	}
	again, err := other.Claim(ctx, "p", 5, "other", time.Minute, later)
	if err != nil || len(again) != 1 || again[0].ID != lost.ID {
		t.Fatalf("claim after rescue: %+v %v", again, err)
	}

	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := answer(t, keptDone); err != nil {
		t.Errorf("finish waiting at close: %v", err)
	}
	if err := answer(t, lostDone); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("finish of a rescued attempt waiting at close: %v, want ErrLeaseLost", err)
	}
	if got, _ := other.GetDelivery(ctx, kept.ID); got.State != StateDone || got.Result != "kept" {
		t.Errorf("kept: %s %q, want done", got.State, got.Result)
	}
	got, _ := other.GetDelivery(ctx, lost.ID)
	if got.State != StateRunning || got.LeaseToken != again[0].LeaseToken || got.Result != "" {
		t.Errorf("rescued: %s, token kept %v, result %q; want the new attempt untouched", got.State, got.LeaseToken == again[0].LeaseToken, got.Result)
	}
	if err := other.FinishAttempt(ctx, Finish{ID: lost.ID, Token: again[0].LeaseToken, State: StateDone, Outcome: "done", Started: later}); err != nil {
		t.Fatalf("the new attempt's finish: %v", err)
	}
}

// answer waits for a finish's answer; a finish never answered fails the
// test rather than hanging it.
func answer(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Fatal("a finish waiting at close was never answered")
		return nil
	}
}
