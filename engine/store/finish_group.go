package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// finishGroup commits the finishes of attempts together, as the intake
// commits posts: a finish that finds no finish transaction running writes
// its own at once; finishes that arrive while one runs wait, and when it
// ends the first of them writes all that waited (up to maxFinishes) in one
// transaction. Under load the workers of a plugin share a commit and its
// sync instead of queueing for the one writer one by one; alone, a finish
// pays for its own transaction and nothing else. Each finish is still
// fenced on its own: one whose attempt lost its lease gets ErrLeaseLost and
// writes nothing, and the others commit.
type finishGroup struct {
	mu      sync.Mutex
	busy    bool
	waiting []*pendingFinish
}

// maxFinishes caps the finishes of one transaction.
const maxFinishes = 64

type pendingFinish struct {
	f          Finish
	checkpoint string // the JSON of f.Checkpoint, or ""
	done       chan error
	// lead, when sent on done's twin, hands this finish the next batch.
	lead chan []*pendingFinish
}

// submit writes p's finish, leading a transaction or joining the next one,
// and returns its own result.
func (g *finishGroup) submit(ctx context.Context, s *Store, p *pendingFinish) error {
	p.lead = make(chan []*pendingFinish, 1)
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		g.run(ctx, s, []*pendingFinish{p})
		return <-p.done
	}
	g.waiting = append(g.waiting, p)
	g.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case batch := <-p.lead:
		g.run(ctx, s, batch)
		return <-p.done
	}
}

// run commits batch, then hands the finishes that arrived meanwhile to the
// first of them, or ends the busy spell. The commit is not cancelled with
// the leading finish's context: it answers the others too.
func (g *finishGroup) run(ctx context.Context, s *Store, batch []*pendingFinish) {
	defer g.handOff()
	defer func() {
		if v := recover(); v != nil {
			for _, p := range batch {
				select {
				case p.done <- fmt.Errorf("store: finish delivery %d: panic: %v", p.f.ID, v):
				default:
				}
			}
			panic(v)
		}
	}()
	s.finishBatch(context.WithoutCancel(ctx), batch)
}

func (g *finishGroup) handOff() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiting) == 0 {
		g.busy = false
		return
	}
	n := min(len(g.waiting), maxFinishes)
	next := g.waiting[:n:n]
	g.waiting = g.waiting[n:]
	if len(g.waiting) == 0 {
		g.waiting = nil
	}
	next[0].lead <- next
}

// finishBatch writes a batch of finishes in one transaction and answers
// each. A transaction that fails for a reason of one finish's data is
// written again finish by finish, so that only that finish fails; when the
// database itself is unavailable every finish fails at once.
func (s *Store) finishBatch(ctx context.Context, batch []*pendingFinish) {
	now := ms(time.Now())
	results := make([]error, len(batch))
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		for i, p := range batch {
			results[i] = finishOne(tx, &p.f, p.checkpoint, now)
			if results[i] != nil && !errors.Is(results[i], ErrLeaseLost) {
				return results[i]
			}
		}
		return nil
	})
	switch {
	case err == nil:
		for i, p := range batch {
			p.done <- finishError(p.f.ID, results[i])
		}
	case len(batch) == 1 || errors.Is(err, ErrUnavailable):
		for _, p := range batch {
			p.done <- finishError(p.f.ID, err)
		}
	default:
		for _, p := range batch {
			s.finishBatch(ctx, []*pendingFinish{p})
		}
	}
}

func finishError(id int64, err error) error {
	if err == nil {
		return nil
	}
	return classify(fmt.Sprintf("finish delivery %d", id), err)
}
