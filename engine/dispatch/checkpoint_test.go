package dispatch

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"

	_ "github.com/mattn/go-sqlite3"
)

// The checkpoint of an attempt's last remote write is saved by the
// transaction that finishes the attempt, not by one of its own; an earlier
// one is saved before the next remote write begins (CheckLease), so a crash
// between two writes still finds the first recorded.
func TestLastCheckpointRidesOnTheFinish(t *testing.T) {
	t.Parallel()
	var r *rig
	stored := func(job *engine.Job) (map[string]string, error) {
		d, err := r.st.GetDelivery(context.Background(), job.DeliveryID)
		return d.CheckpointValues(), err
	}
	var afterSet, afterCheck atomic.Value
	r = newRigWith(t, &testPlugin{id: "t", handle: func(ctx context.Context, job *engine.Job) error {
		if err := job.Checkpoint.Set(ctx, "note", "101"); err != nil {
			return err
		}
		cp, err := stored(job)
		if err != nil {
			return err
		}
		afterSet.Store(cp)
		// The next remote write is announced by CheckLease: the note's
		// checkpoint must be durable before it goes out.
		if err := job.CheckLease(ctx); err != nil {
			return err
		}
		if cp, err = stored(job); err != nil {
			return err
		}
		afterCheck.Store(cp)
		return job.Checkpoint.Set(ctx, "time_entry", "202")
	}}, nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateDone {
		t.Fatalf("state %s: %s", d.State, d.LastError)
	}
	if cp, _ := afterSet.Load().(map[string]string); cp["note"] != "" {
		t.Errorf("Set wrote the checkpoint at once (%v); it should wait for the next write or the finish", cp)
	}
	if cp, _ := afterCheck.Load().(map[string]string); cp["note"] != "101" {
		t.Errorf("after CheckLease the stored checkpoint is %v; the note's record must be durable before the next write", cp)
	}
	if got := d.CheckpointValues(); got["note"] != "101" || got["time_entry"] != "202" {
		t.Fatalf("checkpoint %v; want both writes recorded, the last by the finish", got)
	}
}

// A checkpoint set just before the plugin fails is carried by the finish
// of the failed attempt, so the retry does not repeat the write.
func TestUnsavedCheckpointOfAFailedAttemptIsKept(t *testing.T) {
	t.Parallel()
	var writes atomic.Int32
	r := newRigWith(t, &testPlugin{id: "t", handle: func(ctx context.Context, job *engine.Job) error {
		if _, done := job.Checkpoint.Get("note"); !done {
			writes.Add(1)
			if err := job.Checkpoint.Set(ctx, "note", "7"); err != nil {
				return err
			}
			return errors.New("the time entry failed")
		}
		return nil
	}}, nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateDone || writes.Load() != 1 || d.Attempts != 2 {
		t.Fatalf("state %s attempts %d writes %d checkpoint %v; want done on the second attempt with one write",
			d.State, d.Attempts, writes.Load(), d.CheckpointValues())
	}
}

// When the finish cannot be recorded for a reason other than a lost lease
// (the database refused the write), the checkpoint is still saved on its
// own, as it was before it rode on the finish: the write it records is
// not repeated when the delivery is rescued.
func TestCheckpointSavedWhenTheFinishFails(t *testing.T) {
	t.Parallel()
	var r *rig
	finished := make(chan struct{})
	r = newRigWith(t, &testPlugin{id: "t", handle: func(ctx context.Context, job *engine.Job) error {
		defer close(finished)
		// From here on the database refuses to mark a delivery done, as
		// a failing disk would refuse the finish's transaction.
		db, err := sql.Open("sqlite3", r.st.Path())
		if err != nil {
			return err
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TRIGGER refuse_done BEFORE UPDATE OF state ON deliveries
			WHEN NEW.state = 'done' BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END`); err != nil {
			return err
		}
		return job.Checkpoint.Set(ctx, "note", "9")
	}}, nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	ev := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	r.run(t)
	<-finished
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := r.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: ev})
		if err != nil {
			t.Fatal(err)
		}
		if ds[0].CheckpointValues()["note"] == "9" {
			if ds[0].State != store.StateRunning {
				t.Fatalf("state %s; the refused finish should have left it running", ds[0].State)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint %v, state %s: the note's checkpoint was lost with the refused finish",
				ds[0].CheckpointValues(), ds[0].State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
