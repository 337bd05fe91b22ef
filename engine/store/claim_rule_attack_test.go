package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Claim at insert decides exactly as Claim would a moment later, whatever
// the session's other deliveries are doing: random sessions, each with
// earlier deliveries of this or another configuration, of this or another
// session, in every state (due or not), and a batch of one to four new
// events (of the session, of another, of none), are played twice, once
// claimed at insert and once stored plainly and then claimed; each new
// delivery is claimed both ways or neither. A cheaper
// claim statement that drops or bends a case of the session rule would
// run two deliveries of a session at once, or stall one.
func TestClaimAtInsertDecidesAsClaimDoes(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		mine, other := newConfig(t, st), newConfig(t, st)
		rng := rand.New(rand.NewPCG(42, 17))
		states := []string{StatePending, StateRetrying, StateRunning, StateDone, StateFailed, StateSkipped}
		now := time.Now()
		type prior struct {
			cfg         *Config
			sameSession bool
			state       string
			future      bool
		}
		for sc := range 60 {
			var priors []prior
			for range rng.IntN(3) {
				cfg := mine
				if rng.IntN(4) == 0 {
					cfg = other
				}
				priors = append(priors, prior{cfg: cfg, sameSession: rng.IntN(4) != 0, state: states[rng.IntN(len(states))], future: rng.IntN(3) == 0})
			}
			// The new events, posted in one batch: of the session, of another
			// session, or of none, so that the batch's own earlier ones count.
			sessions := make([]int, 1+rng.IntN(4))
			for i := range sessions {
				sessions[i] = rng.IntN(3)
			}
			claimed := map[string][]bool{}
			for _, way := range []string{"insert", "claim"} {
				lsid := fmt.Sprintf("%s-%d", way, sc)
				plugin := "p-" + lsid
				for i, p := range priors {
					key := fmt.Sprintf("%s-prior-%d", lsid, i)
					e := newEvent(key, NewDelivery{ConfigID: p.cfg.ID, Plugin: plugin, MaxAttempts: 5})
					e.Event.LSID = key
					if p.sameSession {
						e.Event.LSID = lsid
					}
					res, err := st.InsertEvents(ctx, []*NewEvent{e}, nil)
					if err != nil {
						t.Fatal(err)
					}
					runAt := now.Add(-time.Second)
					if p.future {
						runAt = now.Add(time.Hour)
					}
					lease, token := int64(0), ""
					if p.state == StateRunning {
						lease, token = ms(now.Add(time.Hour)), "tok"
					}
					if err := st.w.Exec(`UPDATE deliveries SET state = ?, run_at = ?, lease_until = ?, lease_token = ? WHERE event_id = ?`,
						p.state, ms(runAt), lease, token, res[0].EventID).Error; err != nil {
						t.Fatal(err)
					}
				}
				var batch []*NewEvent
				for i, session := range sessions {
					e := newEvent(fmt.Sprintf("%s-new-%d", lsid, i), NewDelivery{ConfigID: mine.ID, Plugin: plugin, MaxAttempts: 5})
					e.Event.LSID = []string{lsid, lsid + "-b", ""}[session]
					batch = append(batch, e)
				}
				ws := &slots{free: map[string]int{plugin: 10}}
				got := make([]bool, len(batch))
				if way == "insert" {
					res, err := st.InsertEventsClaiming(ctx, batch, ws.claim("w", time.Now()))
					if err != nil {
						t.Fatal(err)
					}
					for i := range res {
						got[i] = len(res[i].Claimed) == 1
					}
					claimed[way] = got
					continue
				}
				res, err := st.InsertEvents(ctx, batch, nil)
				if err != nil {
					t.Fatal(err)
				}
				ds, err := st.Claim(ctx, plugin, 20, "w", time.Minute, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					for i := range res {
						if d.EventID == res[i].EventID {
							got[i] = true
						}
					}
				}
				claimed[way] = got
			}
			if fmt.Sprint(claimed["insert"]) != fmt.Sprint(claimed["claim"]) {
				t.Errorf("scenario %d (%+v, new events of sessions %v): claimed at insert %v, by Claim %v",
					sc, priors, sessions, claimed["insert"], claimed["claim"])
			}
		}
	})
}
