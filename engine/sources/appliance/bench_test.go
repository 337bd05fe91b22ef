package appliance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// benchRecords is how many records each stream's benchmark reads in one
// poll: a busy appliance's day, read by the first poll (First Fetch is a
// day by default).
const benchRecords = 6000

// BenchmarkPoll measures one first poll of each stream at default settings:
// benchRecords records of the last day read from the bttest appliance over
// HTTPS (Team and Vault in 24 hourly windows of XML, Syslog as one ZIP
// download whose messages are reassembled from segments), each stored and
// deduped by the poll's own commit into a fresh SQLite store with one
// delivery. Besides records per second of wall time it reports records per
// CPU second of the process (the simulator serves from the same process,
// so this counts its XML and ZIP writing too): on a shared machine the
// wall clock says more about the neighbours than about the code.
func BenchmarkPoll(b *testing.B) {
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	sim := bttest.New(bttest.WithProduct(beyondtrust.ProductPRA), bttest.WithClock(func() time.Time { return now }))
	defer sim.Close()
	step := 24 * time.Hour / (benchRecords + 1)
	for i := range benchRecords {
		at := now.Add(-24 * time.Hour).Add(time.Duration(i+1) * step)
		sim.AddTeamEvent(bttest.TeamEvent{TeamID: fmt.Sprint(1 + i%4), TeamName: fmt.Sprint("Team ", 1+i%4), Time: at, Type: "Conference Member Added",
			PerformedByType: "representative", PerformedBy: "John Doe",
			Data: [][2]string{{"os", "Windows 11"}, {"public_ip", "4.3.2.1:41286"}, {"user_id", fmt.Sprint(i % 50)}}})
		sim.AddVaultActivity(bttest.VaultActivity{Time: at, Type: "Password Changed", Account: fmt.Sprint(i % 300), PerformedByID: "2",
			PerformedByType: "User", PerformedBy: "John Doe", Data: "Password rotated"})
		addBenchSyslog(sim, at, i)
	}
	for _, stream := range []string{StreamTeam, StreamVault, StreamSyslog} {
		b.Run(stream, func(b *testing.B) {
			storetest.BenchPolls(b, func() func() (int, error) {
				st := storetest.Open(b)
				cfg := storetest.Config(b, st, "siem", "Default")
				set := NewSettings()
				o := sim.Options()
				set.Name, set.Host, set.ClientID, set.ClientSecret = "pra1", o.Host, o.ClientID, engine.NewSecret(o.ClientSecret)
				cs := &Clients{Tokens: beyondtrust.NewTokenCache(), RootCAs: sim.CertPool()}
				tgt := Target{Settings: set, Client: cs.For(set), EnabledAt: now,
					Deliveries: []store.NewDelivery{{ConfigID: cfg, Plugin: "siem", MaxAttempts: 5}}}
				p := &Poller{Store: st, Owner: "bench", Now: func() time.Time { return now }, TempDir: b.TempDir()}
				return func() (int, error) {
					cyc, err := p.Poll(context.Background(), tgt, stream)
					if err == nil && cyc.New != benchRecords {
						err = fmt.Errorf("stored %+v, want %d", cyc, benchRecords)
					}
					return cyc.New, err
				}
			})
		})
	}
}

// addBenchSyslog appends message number i: one in three split into three
// numbered segments, served out of order, as Sekoia's fixtures show them.
func addBenchSyslog(sim *bttest.Appliance, at time.Time, i int) {
	head := fmt.Sprintf("site=test.beyondtrustcloud.com;when=%d;who=JOHN DOE (john.doe@example.org);who_ip=1.2.3.4;", at.Unix())
	if i%3 != 0 {
		sim.AddSyslog(syslogLine(at, 24183, i+1, 1, 1, head+"event=login"))
		return
	}
	sim.AddSyslog(
		syslogLine(at, 24183, i+1, 2, 3, "event=user_changed;"),
		syslogLine(at, 24183, i+1, 1, 3, head),
		syslogLine(at, 24183, i+1, 3, 3, fmt.Sprintf("old_username=user%d@example.com", i)),
	)
}
