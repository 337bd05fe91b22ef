package autotasktest

import (
	"net/http"
	"testing"
)

func TestRandomFaultShares(t *testing.T) {
	t.Parallel()
	s, err := StartWithFaults("127.0.0.1:0", Options{}, RandomFaults{Seed: 7, ServerError: 0.2, TooMany: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	counts := map[int]int{}
	const n = 400
	for range n {
		status, _ := call(t, s, "GET", "Tickets/entityInformation", "", nil)
		counts[status]++
	}
	// Sequential requests draw in order, so a seed gives the same counts
	// every run; the bounds only say the shares are roughly honoured.
	if c := counts[http.StatusInternalServerError]; c < n*12/100 || c > n*28/100 {
		t.Errorf("%d of %d answered 500, want about 20%%: %v", c, n, counts)
	}
	if c := counts[http.StatusTooManyRequests]; c < n*5/100 || c > n*15/100 {
		t.Errorf("%d of %d answered 429, want about 10%%: %v", c, n, counts)
	}
	if counts[http.StatusOK]+counts[http.StatusInternalServerError]+counts[http.StatusTooManyRequests] != n {
		t.Errorf("unexpected statuses: %v", counts)
	}
}

func TestRandomFaultAfterWrite(t *testing.T) {
	t.Parallel()
	s, err := StartWithFaults("127.0.0.1:0", Options{}, RandomFaults{Seed: 1, ServerError: 1, AfterWrite: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	before := len(s.Notes(TicketOpen))
	status, _ := call(t, s, "POST", "Tickets/7865/Notes", `{"title":"t","description":"d","noteType":1,"publish":1}`, nil)
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", status)
	}
	if got := len(s.Notes(TicketOpen)); got != before+1 {
		t.Fatalf("%d notes after a failure after the write, want %d", got, before+1)
	}
}

func TestRandomFaultsRefuseBadShares(t *testing.T) {
	t.Parallel()
	for _, rf := range []RandomFaults{{ServerError: -0.1}, {TooMany: 1.5}, {ServerError: 0.6, Timeout: 0.6}} {
		if s, err := StartWithFaults("127.0.0.1:0", Options{}, rf); err == nil {
			s.Close()
			t.Errorf("%+v: started, want an error", rf)
		}
	}
}
