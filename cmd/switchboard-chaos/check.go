package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the engine's own SQLite driver, for integrity_check

	"switchboard/engine"
	"switchboard/plugins/autotask/autotasktest"
)

// report is what one run measured and found.
type report struct {
	opts    options
	dataDir string
	schema  *pgSchema // the PostgreSQL schema the engines shared
	started time.Time

	elapsed, killPhase, drain time.Duration
	sessions, kills           int
	downtimes                 []time.Duration
	acked, dropped, posts     int
	storedEvents              int
	states                    map[string]int
	attempts                  int
	tickets, notes, entries   int
	walPeak, walAfter         int64
	integrity                 string
	autotask                  map[string]autotasktest.Stats

	problems []string
}

func (r *report) fail(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// checkEvents: every event the engine acknowledged is stored, once, and
// the appliance dropped none. The stored events are counted from the
// database the engines left (the API's event list leaves fields out), by
// the key the intake deduplicates with.
func (r *report) checkEvents(sent, dropped []url.Values, count map[string]int) {
	for _, n := range count {
		r.storedEvents += n
	}
	for _, f := range sent {
		switch n := count[engine.DedupeKey(engine.DefaultApplianceID, f.Get("event"), f.Get("lsid"), f.Get("timestamp"), f)]; {
		case n == 0:
			r.fail("lost: %s of session %s (timestamp %s) got a 200 but is not stored", f.Get("event"), f.Get("lsid"), f.Get("timestamp"))
		case n > 1:
			r.fail("stored %d times: %s of session %s (timestamp %s)", n, f.Get("event"), f.Get("lsid"), f.Get("timestamp"))
		}
	}
	if len(dropped) > 0 {
		r.fail("the appliance dropped %d events after its retry duration", len(dropped))
	}
}

// sqliteDedupeKeys counts the events of a SQLite database by
// deduplication key.
func sqliteDedupeKeys(dbPath string) (map[string]int, error) {
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return countDedupeKeys(db)
}

// countDedupeKeys counts a database's events by deduplication key.
func countDedupeKeys(db *sql.DB) (map[string]int, error) {
	rows, err := db.Query("SELECT dedupe_key FROM events")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	count := map[string]int{}
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return nil, err
		}
		count[key]++
	}
	return count, rows.Err()
}

// checkDeliveries: every delivery finished, none failed.
func (r *report) checkDeliveries(ds []delivery) {
	bad := 0
	for _, d := range ds {
		r.states[d.State]++
		r.attempts += d.Attempts
		if d.State != "done" && d.State != "skipped" {
			if bad++; bad <= 10 {
				r.fail("delivery %d (%s of session %s) is %s after %d attempts: %s", d.ID, d.Event, d.LSID, d.State, d.Attempts, d.LastError)
			}
		}
	}
	if bad > 10 {
		r.fail("… and %d more deliveries not done or skipped", bad-10)
	}
}

// checkTickets: every session has exactly one ticket (created for it,
// externalID bt:<lsid>), and on it exactly one note (the report) and one
// time entry, the only writes this configuration makes.
func (r *report) checkTickets(psa *autotasktest.Server, lsids []string) {
	byExternal := map[string][]autotasktest.Ticket{}
	for _, t := range psa.Tickets() {
		if t.ExternalID != "" {
			byExternal[t.ExternalID] = append(byExternal[t.ExternalID], t)
		}
	}
	for _, lsid := range lsids {
		ts := byExternal["bt:"+lsid]
		r.tickets += len(ts)
		if len(ts) != 1 {
			r.fail("session %s has %d tickets, want 1", lsid, len(ts))
			continue
		}
		notes, entries := psa.Notes(ts[0].ID), psa.TimeEntries(ts[0].ID)
		r.notes += len(notes)
		r.entries += len(entries)
		if len(notes) != 1 {
			r.fail("session %s: ticket %s has %d notes, want 1 report note: %v", lsid, ts[0].TicketNumber, len(notes), noteTitles(notes))
		}
		if len(entries) != 1 {
			r.fail("session %s: ticket %s has %d time entries, want 1", lsid, ts[0].TicketNumber, len(entries))
		}
	}
}

// checkThreads: the engines together never sent more than Autotask's
// thread limit to one endpoint at once. The simulator serves at most that
// many and refuses the next (Itgenatr005), so a refusal is the proof that
// the cluster tried one more.
func (r *report) checkThreads() {
	for endpoint, s := range r.autotask {
		if s.ThreadRejected > 0 || s.MaxConcurrent > autotasktest.ThreadLimit {
			r.fail("Autotask %s: %d requests refused by the thread limit of %d (at most %d served at once): the engines sent more at once than the limit",
				endpoint, s.ThreadRejected, autotasktest.ThreadLimit, s.MaxConcurrent)
		}
	}
}

func noteTitles(ns []autotasktest.Note) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("%d %q", n.ID, n.Title)
	}
	return out
}

// checkStore runs PRAGMA integrity_check on the database the engine left.
func (r *report) checkStore(dbPath string) {
	if fi, err := os.Stat(dbPath + "-wal"); err == nil {
		r.walAfter = fi.Size()
	}
	if r.walPeak > r.opts.walBound {
		r.fail("the WAL reached %s, over its bound of %s", mib(r.walPeak), mib(r.opts.walBound))
	}
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=5000")
	if err != nil {
		r.fail("open the database: %v", err)
		return
	}
	defer db.Close()
	var lines []string
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		r.fail("integrity_check: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			r.fail("integrity_check: %v", err)
			return
		}
		lines = append(lines, s)
	}
	r.integrity = strings.Join(lines, "; ")
	if r.integrity != "ok" {
		r.fail("integrity_check: %s", r.integrity)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func (r *report) print(w io.Writer) {
	o := r.opts
	f := o.faults
	db := "SQLite"
	if r.schema != nil {
		db = "PostgreSQL (schema " + r.schema.name + ")"
	}
	fmt.Fprintf(w, "switchboard-chaos: %d engine(s) on %s\n", o.engines, db)
	fmt.Fprintf(w, "  %d sessions, %d kills every %s–%s, seed %d, Autotask faults %.0f%% 500 (%.0f%% of them after the write), %.0f%% 429, %.0f%% timeouts\n",
		o.sessions, o.kills, o.minGap, o.maxGap, o.seed, 100*f.ServerError, 100*f.AfterWrite, 100*f.TooMany, 100*f.Timeout)
	fmt.Fprintf(w, "  elapsed          %s (kills over the first %s; drained %s after the last restart)\n", r.elapsed.Round(time.Millisecond), r.killPhase.Round(time.Millisecond), r.drain.Round(time.Millisecond))
	fmt.Fprintf(w, "  outbound events  %d acknowledged, %d dropped, %d posts (%d refused or cut off), %d stored\n", r.acked, r.dropped, r.posts, r.posts-r.acked, r.storedEvents)
	if len(r.downtimes) > 0 {
		d := slices.Clone(r.downtimes)
		slices.Sort(d)
		fmt.Fprintf(w, "  engine kills     %d, ready again after median %s, max %s\n", r.kills, d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	var states []string
	total := 0
	for s, n := range r.states {
		states = append(states, fmt.Sprintf("%d %s", n, s))
		total += n
	}
	slices.Sort(states)
	fmt.Fprintf(w, "  deliveries       %d: %s; %d attempts\n", total, strings.Join(states, ", "), r.attempts)
	reqs, refused, most := 0, 0, 0
	for _, s := range r.autotask {
		reqs += s.Requests
		refused += s.ThreadRejected
		most = max(most, s.MaxConcurrent)
	}
	fmt.Fprintf(w, "  Autotask         %d tickets, %d notes, %d time entries for %d sessions; %d requests, %d refused by the thread limit, at most %d at once on one endpoint\n", r.tickets, r.notes, r.entries, r.sessions, reqs, refused, most)
	if r.schema == nil {
		fmt.Fprintf(w, "  WAL              peak %s (bound %s), %s after shutdown\n", mib(r.walPeak), mib(o.walBound), mib(r.walAfter))
		fmt.Fprintf(w, "  integrity_check  %s\n", r.integrity)
	}
	if len(r.problems) == 0 {
		fmt.Fprintf(w, "  result           PASS\n")
		return
	}
	fmt.Fprintf(w, "  result           FAIL, %d problems:\n", len(r.problems))
	for _, p := range r.problems {
		fmt.Fprintf(w, "    - %s\n", p)
	}
}
