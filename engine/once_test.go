package engine

import (
	"context"
	"errors"
	"testing"

	"switchboard/engine/outbound"
)

type leaseOf struct{ err error }

func (l leaseOf) Check(context.Context) error { return l.err }

func TestOnce(t *testing.T) {
	t.Parallel()
	timedOut := &outbound.Error{Op: "POST notes", Timeout: 1}
	cases := []struct {
		name      string
		saved     map[string]string
		found     bool
		createErr []error // one per create call
		lease     error
		want      string
		existing  bool
		creates   int
		wantErr   error
	}{
		{name: "checkpointed", saved: map[string]string{"note": "7"}, want: "7"},
		{name: "found by marker", found: true, want: "found", existing: true},
		{name: "created", want: "new", creates: 1},
		{name: "lease lost: no create", lease: ErrLeaseLost, wantErr: ErrLeaseLost},
		{name: "timeout, then created", createErr: []error{timedOut, nil}, want: "new", creates: 2},
		{name: "timeouts spent", createErr: []error{timedOut, timedOut, timedOut}, wantErr: timedOut, creates: 3},
		{name: "other errors are not retried", createErr: []error{errors.New("boom")}, creates: 1, wantErr: errors.New("boom")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := &Job{Checkpoint: NewCheckpoint(tc.saved, nil)}
			if tc.lease != nil {
				j.Lease = leaseOf{tc.lease}
			}
			creates := 0
			v, existing, err := j.Once(context.Background(), "note",
				func(context.Context) (string, bool, error) { return "found", tc.found, nil },
				func(context.Context) (string, error) {
					creates++
					if creates <= len(tc.createErr) && tc.createErr[creates-1] != nil {
						return "", tc.createErr[creates-1]
					}
					return "new", nil
				})
			if tc.wantErr != nil {
				if err == nil || (!errors.Is(err, tc.wantErr) && err.Error() != tc.wantErr.Error()) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
			} else if err != nil || v != tc.want || existing != tc.existing {
				t.Fatalf("got %q existing=%v err=%v", v, existing, err)
			}
			if creates != tc.creates {
				t.Errorf("%d creates, want %d", creates, tc.creates)
			}
			if got, _ := j.Checkpoint.Get("note"); tc.wantErr == nil && got != tc.want {
				t.Errorf("checkpoint %q", got)
			}
		})
	}
}
