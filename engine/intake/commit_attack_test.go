package intake

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine/metrics"
	"switchboard/engine/store"
)

// fakeTxStore stands for the store with the one property the committer
// relies on: a batch is one transaction, all stored or none. Keys starting
// with "bad" are refused as data; now and then the whole store is down.
type fakeTxStore struct {
	mu        sync.Mutex
	committed map[string]bool
	down      bool
}

func (f *fakeTxStore) insert(ctx context.Context, batch []*store.NewEvent) ([]store.Inserted, error) {
	time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, fmt.Errorf("%w: disk gone", store.ErrUnavailable)
	}
	for _, ne := range batch {
		if strings.HasPrefix(ne.Event.DedupeKey, "bad") {
			return nil, errors.New("FOREIGN KEY constraint failed")
		}
	}
	out := make([]store.Inserted, len(batch))
	for i, ne := range batch {
		f.committed[ne.Event.DedupeKey] = true
		out[i] = store.Inserted{EventID: int64(i + 1)}
	}
	return out, nil
}

func (f *fakeTxStore) has(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.committed[key]
}

// Many posts, some bad, the store failing for a while, and a stop at a
// random moment: every post is answered, an acknowledged post was
// committed before its answer, a bad post never is acknowledged, and a
// good post fails only because the store was down or the intake stopping.
func TestCommitterUnderConcurrentPostsAndRandomStop(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		f := &fakeTxStore{committed: map[string]bool{}}
		c := newCommitter(nil, nil, 1+rand.IntN(8), metrics.New(nil, nil))
		c.insert = f.insert
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { c.run(ctx); close(stopped) }()
		var wg sync.WaitGroup
		errs := make(chan error, 400)
		for i := range 200 {
			wg.Go(func() {
				key := fmt.Sprint("good", round, "-", i)
				if i%7 == 3 {
					key = fmt.Sprint("bad", round, "-", i)
				}
				reqCtx, reqCancel := context.WithCancel(context.Background())
				if i%5 == 0 {
					reqCancel() // the client went away already
				}
				defer reqCancel()
				_, err := c.submit(reqCtx, queued(key).ev)
				switch {
				case err == nil && strings.HasPrefix(key, "bad"):
					errs <- fmt.Errorf("bad post %s acknowledged", key)
				case err == nil && !f.has(key):
					errs <- fmt.Errorf("post %s acknowledged before its commit", key)
				case err != nil && strings.HasPrefix(key, "good") &&
					!errors.Is(err, errStopped) && !errors.Is(err, store.ErrUnavailable):
					errs <- fmt.Errorf("good post %s failed: %v", key, err)
				case err != nil && f.has(key):
					errs <- fmt.Errorf("post %s refused (%v) but stored", key, err)
				}
			})
			if i == 60 {
				f.mu.Lock()
				f.down = true
				f.mu.Unlock()
			}
			if i == 80 {
				f.mu.Lock()
				f.down = false
				f.mu.Unlock()
			}
			if i == 100+rand.IntN(100) {
				cancel()
			}
		}
		cancel()
		all := make(chan struct{})
		go func() { wg.Wait(); close(all) }()
		select {
		case <-all:
		case <-time.After(time.Minute): // a hang guard, not a timing assertion
			t.Fatal("a post waits forever")
		}
		<-stopped
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
