package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// finishGroup commits the finishes of attempts together.
//
// On SQLite a finish rides on the next commit of new events (see
// finishRide): it waits, for at most wait, for the intake's group commit or
// a poller's or source's insert, which writes it inside its own
// transaction, before it inserts and claims. An appliance posting one event
// at a time then pays one transaction and one sync per post, not one for
// the post and another for the finish of the delivery before it, and the
// next event of a session is claimed at insert because the one before it is
// already finished in that transaction. A finish no event commit takes
// within wait, or the one that fills a batch of maxFinishes, is written in a
// transaction of its own.
//
// On PostgreSQL (wait 0) a finish that finds no finish transaction running
// writes its own at once; finishes that arrive while one runs wait, and when
// it ends the first of them writes all that waited (up to maxFinishes) in
// one transaction.
//
// Either way each finish is fenced on its own (one whose attempt lost its
// lease gets ErrLeaseLost and writes nothing, the others commit), and its
// caller is answered only after the transaction that holds it committed.
type finishGroup struct {
	// wait is how long a finish waits for an event commit to carry it; 0
	// writes finishes in transactions of their own.
	wait time.Duration

	mu      sync.Mutex
	busy    bool
	waiting []*pendingFinish
	// gen numbers the timer of the oldest waiting finish, so that a timer
	// that fires after its finishes were taken does nothing.
	gen    uint64
	timer  *time.Timer
	closed bool
	// alone counts the running writeAlone loops, which Close waits for.
	alone sync.WaitGroup
}

// finishRideWait is how long a finish waits for an event commit to carry
// it. A finish that misses the next post's commit (it was still being
// delivered when that began) waits for the one after, a post's turn later:
// BenchmarkSequentialRouted at power under a load average of 17 carried
// 48 % of finishes at 1 ms, 81 % at 3 ms, 96 % at 5 ms and 94 % at 10 ms
// (docs/performance.md). 5 ms is short beside a delivery's own remote
// call, and a lone last finish is written that soon after.
const finishRideWait = 5 * time.Millisecond

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
	if g.wait > 0 {
		return g.ride(s, p)
	}
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
	s.finishAlone(context.WithoutCancel(ctx), batch)
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

// ride queues p for the next event commit and waits for its answer. The
// first finish queued arms a timer for what no event commit takes by then,
// and the finish that fills a batch does not wait for it.
func (g *finishGroup) ride(s *Store, p *pendingFinish) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		s.finishAlone(context.Background(), []*pendingFinish{p})
		return <-p.done
	}
	g.waiting = append(g.waiting, p)
	switch {
	case len(g.waiting) >= maxFinishes:
		g.aloneLocked(s)
	case g.timer == nil:
		gen := g.gen
		g.timer = time.AfterFunc(g.wait, func() { g.expire(s, gen) })
	}
	g.mu.Unlock()
	return <-p.done
}

// expire writes the finishes the timer numbered gen was armed for, unless
// an event commit took them first.
func (g *finishGroup) expire(s *Store, gen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gen != g.gen {
		return
	}
	g.timer = nil
	g.aloneLocked(s)
}

// aloneLocked starts writing the waiting finishes in transactions of their
// own, unless that already runs: then its next turn takes them. One such
// transaction at a time gathers the finishes that arrive while it waits for
// the writer, as the intake's commits gather posts. g.mu is held.
func (g *finishGroup) aloneLocked(s *Store) {
	if g.busy || len(g.waiting) == 0 {
		return
	}
	g.busy = true
	batch := g.takeLocked()
	g.alone.Add(1)
	go g.writeAlone(s, batch)
}

// writeAlone writes batch, then whatever waits when it is done, until
// nothing does.
func (g *finishGroup) writeAlone(s *Store, batch []*pendingFinish) {
	defer g.alone.Done()
	for len(batch) > 0 {
		s.finishAlone(context.Background(), batch)
		g.mu.Lock()
		batch = g.takeLocked()
		if len(batch) == 0 {
			g.busy = false
		}
		g.mu.Unlock()
	}
}

// requeue puts back the finishes an event commit carried but did not
// commit, first in line, to be written on their own: the event commit
// still holds the writer, so not by this goroutine.
func (g *finishGroup) requeue(s *Store, batch []*pendingFinish) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		go s.finishAlone(context.Background(), batch)
		return
	}
	g.waiting = append(batch[:len(batch):len(batch)], g.waiting...)
	g.aloneLocked(s)
}

// takeLocked takes up to maxFinishes waiting finishes and disarms their
// timer; finishes left over get a timer of their own. g.mu is held.
func (g *finishGroup) takeLocked() []*pendingFinish {
	n := min(len(g.waiting), maxFinishes)
	if n == 0 {
		return nil
	}
	batch := g.waiting[:n:n]
	g.waiting = g.waiting[n:]
	if len(g.waiting) == 0 {
		g.waiting = nil
	}
	g.gen++
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	return batch
}

// take hands the waiting finishes to an event commit (none on PostgreSQL,
// whose finishes do not ride).
func (g *finishGroup) take(s *Store) []*pendingFinish {
	if g.wait == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	batch := g.takeLocked()
	if len(g.waiting) > 0 && g.timer == nil {
		gen := g.gen
		g.timer = time.AfterFunc(g.wait, func() { g.expire(s, gen) })
	}
	return batch
}

// close writes the finishes still waiting and makes later ones write at
// once, before the store closes its connections.
func (g *finishGroup) close(s *Store) {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.alone.Wait()
	g.mu.Lock()
	var batches [][]*pendingFinish
	for len(g.waiting) > 0 {
		batches = append(batches, g.takeLocked())
	}
	g.mu.Unlock()
	for _, b := range batches {
		s.finishAlone(context.Background(), b)
	}
}

// finishAlone writes a batch of finishes in a transaction of their own and
// answers each. A transaction that fails for a reason of one finish's data
// is written again finish by finish, so that only that finish fails; when
// the database itself is unavailable every finish fails at once.
func (s *Store) finishAlone(ctx context.Context, batch []*pendingFinish) {
	defer answerOnPanic(batch)
	now := ms(time.Now())
	results := make([]error, len(batch))
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		ex := tx.Statement.ConnPool
		for i, p := range batch {
			results[i] = s.finishOne(ctx, ex, &p.f, p.checkpoint, now)
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
			s.finishAlone(ctx, []*pendingFinish{p})
		}
	}
}

// answerOnPanic answers the finishes of a batch whose writing panicked,
// so that no worker waits for ever, and panics on.
func answerOnPanic(batch []*pendingFinish) {
	v := recover()
	if v == nil {
		return
	}
	for _, p := range batch {
		select {
		case p.done <- fmt.Errorf("store: finish delivery %d: panic: %v", p.f.ID, v):
		default:
		}
	}
	panic(v)
}

// riders are the finishes an event commit carries (see finishGroup).
type riders struct {
	batch   []*pendingFinish
	results []error
	// aside is true when the finishes were undone inside the transaction
	// (one was refused for its data): they are written on their own.
	aside bool
}

// board writes the waiting finishes in tx, the transaction of an event
// commit, before its events are inserted and claimed. They are written
// under a savepoint: a finish refused for its data undoes the finishes
// alone, never the events, and they are then written in a transaction of
// their own (settle), where the refused one fails alone.
func (s *Store) board(ctx context.Context, tx *sql.Tx) *riders {
	batch := s.finishes.take(s)
	if len(batch) == 0 {
		return nil
	}
	r := &riders{batch: batch, results: make([]error, len(batch))}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT finishes"); err != nil {
		r.aside = true
		return r
	}
	now := ms(time.Now())
	for i, p := range batch {
		r.results[i] = s.finishOne(ctx, tx, &p.f, p.checkpoint, now)
		if r.results[i] != nil && !errors.Is(r.results[i], ErrLeaseLost) {
			r.aside = true
			break
		}
	}
	if r.aside {
		// Undone, or the transaction ends: either way they are written
		// again on their own.
		_, _ = tx.ExecContext(ctx, "ROLLBACK TO finishes")
	}
	if _, err := tx.ExecContext(ctx, "RELEASE finishes"); err != nil {
		r.aside = true
	}
	return r
}

// settle answers the finishes an event commit carried once it has ended:
// with their own results when it committed them, and otherwise after
// writing them in a transaction of their own.
func (r *riders) settle(s *Store, committed bool) {
	if r == nil {
		return
	}
	if committed && !r.aside {
		for i, p := range r.batch {
			p.done <- finishError(p.f.ID, r.results[i])
		}
		return
	}
	s.finishes.requeue(s, r.batch)
}

func finishError(id int64, err error) error {
	if err == nil {
		return nil
	}
	return classify(fmt.Sprintf("finish delivery %d", id), err)
}

// FinishesWaiting returns how many finishes wait for a commit of new events
// to carry them.
func (s *Store) FinishesWaiting() int {
	s.finishes.mu.Lock()
	defer s.finishes.mu.Unlock()
	if s.finishes.wait == 0 {
		return 0
	}
	return len(s.finishes.waiting)
}
