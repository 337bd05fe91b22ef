package appliance

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
)

// answers records, for every report request, its time parameters and how
// many activities its answer held.
type answers struct {
	Reports
	mu    sync.Mutex
	forms []url.Values
	sizes []int
}

func (a *answers) Report(ctx context.Context, name string, form url.Values, parse func(io.Reader) error) error {
	var body bytes.Buffer
	err := a.Reports.Report(ctx, name, form, func(r io.Reader) error { return parse(io.TeeReader(r, &body)) })
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forms = append(a.forms, form)
	a.sizes = append(a.sizes, strings.Count(body.String(), "<event ")+strings.Count(body.String(), "<vault_account_activity "))
	return err
}

// A busy window (more activities than a poll may store) is halved and
// asked again until its answer holds no more, down to one second; the
// cursor moves only over windows read whole, and every activity is stored
// once over the polls that follow.
func TestABusyWindowIsHalved(t *testing.T) {
	t.Parallel()
	for _, stream := range []string{StreamTeam, StreamVault} {
		t.Run(stream, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, beyondtrust.ProductPRA)
			rec := &answers{Reports: f.tgt.Client}
			f.tgt.Client = rec
			f.tgt.Settings.FirstFetch, f.tgt.Settings.MaxPerCycle = 180, 5
			now := f.clock.Now()
			// 24 activities in one busy quarter of an hour, 2 hours back,
			// four of them in one second.
			for i := range 20 {
				at := now.Add(-2*time.Hour + time.Duration(i*45)*time.Second)
				if stream == StreamTeam {
					f.team(at, "Conference Member Added", [2]string{"user_id", strconv.Itoa(i)})
				} else {
					f.vault(at, "Password Changed "+strconv.Itoa(i))
				}
			}
			for i := range 4 {
				at := now.Add(-2*time.Hour + 30*time.Second)
				if stream == StreamTeam {
					f.team(at, "Conference Member Departed", [2]string{"user_id", "s" + strconv.Itoa(i)})
				} else {
					f.vault(at, "Account Deleted "+strconv.Itoa(i))
				}
			}
			stored := 0
			for range 30 {
				c := f.mustPoll(stream)
				stored += c.New
				if stored == 24 {
					break
				}
			}
			if stored != 24 {
				t.Fatalf("stored %d activities, want 24", stored)
			}
			if docs, _ := f.docs(stream); len(docs) != 24 {
				t.Fatalf("%d documents, want 24", len(docs))
			}
			halved := false
			for i, form := range rec.forms {
				dur, _ := strconv.Atoi(form.Get("duration"))
				if dur > 0 && dur < DefaultWindow*60 {
					halved = true
				}
				if rec.sizes[i] > 5 && dur != 1 && i+1 < len(rec.forms) {
					next := rec.forms[i+1]
					nd, _ := strconv.Atoi(next.Get("duration"))
					if next.Get("end_time") != form.Get("end_time") || (dur != 0 && nd != dur/2) {
						t.Errorf("an answer of %d activities (%v) was not asked again halved: then %v", rec.sizes[i], form, next)
					}
				}
			}
			if !halved {
				t.Fatalf("no window was halved: %v", rec.forms)
			}
		})
	}
}
