package siem

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/rusage"
	"switchboard/plugins/siem/siemtest"
)

// benchEvents is the size of the benchmark's session report: a long PRA
// session with a mix of the reference's event types.
const benchEvents = 2000

// benchSession stores a session of n events in the appliance simulator.
func benchSession(h *harness, lsid string, n int) *bt.Session {
	mix := []bt.SessionEvent{
		{Type: "Chat Message", PerformedBy: admin, Body: "Checking the service account's rights\nthen restarting the agent."},
		{Type: "Session Foreground Window Changed", PerformedBy: system, Data: nv("exeName", "mmc.exe", "windowName", "Services (Local)")},
		{Type: "Session Mouse Left Clicked", PerformedBy: system, Data: nv("exeName", "mmc.exe", "windowName", "Services (Local)", "targetName", "Restart")},
		{Type: "File Upload", PerformedBy: admin, Destination: customerActor, Data: nv("filename", `C:\Users\jdoe\Downloads\agent-fix.msi`, "filesize", "1296708")},
		{Type: "Remote Shell Event", PerformedBy: system, Data: nv("text", "Get-Service -Name agent | Restart-Service")},
		{Type: "Special Action Executed", PerformedBy: admin, Data: nv("action_name", "Windows Security (Ctrl-Alt-Del)")},
	}
	events := make([]bt.SessionEvent, n)
	for i := range events {
		events[i] = mix[i%len(mix)]
		events[i].Timestamp = t0.Add(time.Duration(i) * time.Second)
	}
	s := praSession(events...)
	s.LSID = lsid
	h.app.AddSession(s)
	return s
}

// held is how a benchmark learns what its receiver holds: once it holds
// want events or gave up waiting, the count, and the receiver's CPU time
// when it runs in a process of its own (sep).
type held func(want int) (n int, cpu time.Duration, sep bool, err error)

// inProcess waits for a receiver in this process.
func inProcess(count func() int) held {
	return func(want int) (int, time.Duration, bool, error) {
		// Syslog over TCP is read asynchronously: wait for the tail.
		for i := 0; i < 500 && count() < want; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		return count(), 0, false, nil
	}
}

// inChild waits for a receiver in a child process.
func inChild(c *childReceiver) held {
	return func(want int) (int, time.Duration, bool, error) {
		n, cpu, err := c.wait(want)
		return n, cpu, true, err
	}
}

// benchForward forwards the stored session through Handle (report fetched
// from the appliance simulator over HTTPS, encoded, sent in batches, each
// batch recorded in the checkpoint) once per iteration, and reports
// events/s and the time from the session end delivery starting to the
// last event accepted by the receiver.
func benchForward(b *testing.B, set func(h *harness) *Settings, wait held) {
	h := newHarness(b)
	cfg := set(h)
	start, cpuStart, _, err := wait(0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := rusage.CPU()
	b.ResetTimer()
	var total time.Duration
	for i := range b.N {
		// A session per run: Elastic would take a rerun's events for
		// duplicates.
		b.StopTimer()
		s := benchSession(h, fmt.Sprintf("ffff%028d", i), benchEvents)
		job := h.job(cfg, s.LSID)
		b.StartTimer()
		t := time.Now()
		if out, _, err := h.handle(job); out != engine.OutcomeDone {
			b.Fatalf("outcome %v: %v", out, err)
		}
		total += time.Since(t)
	}
	b.StopTimer()
	cpu := rusage.CPU() - cpu0
	want := b.N * (benchEvents + 1)
	got, recvCPU, sep, err := wait(start + want)
	if err != nil {
		b.Fatal(err)
	}
	if got-start != want {
		b.Fatalf("the receiver holds %d events, want %d", got-start, want)
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(benchEvents+1)/per.Seconds(), "events/s")
	// On a shared machine wall time says more about the neighbours than
	// about the code: also report events per CPU second of this process
	// (plugin and appliance simulator, and the receiver unless it runs in
	// a child process, whose own figure is then reported apart).
	b.ReportMetric(float64(want)/cpu.Seconds(), "events/cpu-s")
	if sep {
		b.ReportMetric(float64(want)/(recvCPU-cpuStart).Seconds(), "receiver-events/cpu-s")
	}
	b.ReportMetric(float64(per.Milliseconds()), "ms/session")
}

func BenchmarkForward(b *testing.B) {
	// The receivers the target is about run in a child process: this
	// process's CPU is then the plugin's (and the appliance simulator's).
	b.Run("hec", func(b *testing.B) {
		c := startChildReceiver(b, "hec")
		benchForward(b, func(*harness) *Settings { return hecSettings(c.addr) }, inChild(c))
	})
	b.Run("syslog-tcp", func(b *testing.B) {
		c := startChildReceiver(b, "syslog-tcp")
		benchForward(b, func(*harness) *Settings { return syslogSettings(TransportTCP, c.addr) }, inChild(c))
	})
	b.Run("hec-in-process", func(b *testing.B) {
		rec := startHEC(b, siemtest.HECOptions{})
		benchForward(b, func(*harness) *Settings { return hecSettings(rec.URL) }, inProcess(rec.Held))
	})
	b.Run("elastic", func(b *testing.B) {
		rec := startElastic(b, false)
		benchForward(b, func(*harness) *Settings { return elasticSettings(rec.URL) }, inProcess(rec.Held))
	})
	b.Run("sekoia", func(b *testing.B) {
		rec := startSekoia(b, false)
		benchForward(b, func(*harness) *Settings { return sekoiaSettings(rec.URL) }, inProcess(rec.Held))
	})
	// The plugin's own work without the network, the receivers or the
	// appliance simulator: a parsed report of benchEvents events turned
	// into events, encoded, and framed as HEC or syslog-TCP would send
	// them, per CPU second of this process.
	for _, c := range []struct{ name, format, frame string }{
		{"plugin-hec-ecs", FormatECS, "hec"}, {"plugin-syslog-ecs", FormatECS, "syslog"},
		{"plugin-syslog-cef", FormatCEF, "syslog"}, {"plugin-hec-raw", FormatRaw, "hec"},
	} {
		b.Run(c.name, func(b *testing.B) { benchPlugin(b, c.format, c.frame) })
	}
}

func benchPlugin(b *testing.B, format, frame string) {
	h := newHarness(b)
	s := benchSession(h, "ffff0000000000000000000000000000", benchEvents)
	set := &Settings{HECSourcetype: "beyondtrust:ecs", SyslogSDID: "switchboard@32473", SyslogFacility: 13}
	hd, sd := &hec{set: set}, &syslogDest{set: set, pid: "1"}
	var body, msg []byte
	b.ReportAllocs()
	cpu0 := rusage.CPU()
	b.ResetTimer()
	for range b.N {
		events := SessionEvents(s, Origin{ApplianceID: "Default", Host: "access.example.com"})
		body = body[:0]
		for i := range events {
			enc, err := Encode(format, &events[i], Redaction{})
			if err != nil {
				b.Fatal(err)
			}
			if frame == "hec" {
				body = hd.envelope(body, enc)
				continue
			}
			msg = sd.message(msg[:0], enc)
			body = strconv.AppendInt(body, int64(len(msg)), 10)
			body = append(body, ' ')
			body = append(body, msg...)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*(benchEvents+1))/(rusage.CPU()-cpu0).Seconds(), "events/cpu-s")
}
