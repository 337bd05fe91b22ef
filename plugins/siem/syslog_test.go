package siem

import (
	"encoding/json"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/plugins/siem/siemtest"
)

func startSyslog(t *testing.T, opts siemtest.SyslogOptions) *siemtest.Syslog {
	t.Helper()
	r, err := siemtest.NewSyslog(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func syslogSettings(transport, addr string) *Settings {
	set := NewSettings()
	set.Destination, set.SyslogTransport, set.SyslogAddress = DestSyslog, transport, addr
	return set
}

func TestSyslogTransports(t *testing.T) {
	t.Parallel()
	client, err := siemtest.NewCert("Switchboard sender")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		transport string
		mutual    bool
	}{{TransportTCP, false}, {TransportTLS, false}, {TransportTLS, true}, {TransportUDP, false}} {
		name := c.transport
		if c.mutual {
			name += " with client certificate"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			opts := siemtest.SyslogOptions{Transport: c.transport}
			if c.mutual {
				opts.ClientCA = client.PEM
			}
			rec := startSyslog(t, opts)
			s := h.typical("bbbb00000000000000000000000000" + map[bool]string{false: "01", true: "02"}[c.mutual])
			set := syslogSettings(c.transport, rec.Addr)
			set.TLSCA = rec.Cert.PEM
			if c.mutual {
				set.TLSClientCert, set.TLSClientKey = client.PEM, engine.NewSecret(client.KeyPEM)
			}
			if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
				t.Fatalf("outcome %v: %v", out, err)
			}
			msgs := waitMessages(t, rec, len(s.Events)+1)
			if errs := rec.Errors(); len(errs) > 0 {
				t.Fatalf("receiver errors: %v", errs)
			}
			chat := msgs[2]
			if chat.Priority != 134 || chat.AppName != "switchboard" || chat.MsgID != "chat-message" || chat.Hostname != "access.example.com" {
				t.Errorf("header %+v", chat)
			}
			sd := chat.SD["switchboard@32473"]
			if sd["id"] != s.LSID+":2:chat-message" || sd["lsid"] != s.LSID || sd["jumpGroup"] != "Sekoia.io integration" {
				t.Errorf("structured data %v", chat.SD)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(chat.Msg), &doc); err != nil {
				t.Fatalf("MSG is not the ECS JSON: %v", err)
			}
			if c.mutual && !strings.Contains(chat.Peer, "Switchboard sender") {
				t.Errorf("peer %q", chat.Peer)
			}
		})
	}
}

// waitMessages waits for a UDP receiver to read what was sent (a stream
// receiver has it once the connection is closed and drained).
func waitMessages(t *testing.T, r *siemtest.Syslog, n int) []siemtest.Message {
	t.Helper()
	for range 500 {
		if m := r.Messages(); len(m) >= n {
			return m
		}
		sleepBrief()
	}
	t.Fatalf("the receiver got %d messages, want %d (errors %v)", len(r.Messages()), n, r.Errors())
	return nil
}

// TestSyslogMultiLineFraming: octet counting carries a message whose MSG
// holds line breaks (a CEF or JSON line never does, a raw text MSG may).
func TestSyslogMultiLineFraming(t *testing.T) {
	t.Parallel()
	rec := startSyslog(t, siemtest.SyslogOptions{Transport: TransportTCP})
	d, err := newSyslog(syslogSettings(TransportTCP, rec.Addr))
	if err != nil {
		t.Fatal(err)
	}
	s := praSession()
	ev := SessionEvents(s, Origin{Host: "access.example.com"})[0]
	batch := []Encoded{
		{ID: "a", Kind: "chat-message", Event: &ev, Body: []byte("line one\nline two\r\nline ] \"three\"")},
		{ID: `b"]\`, Kind: "x", Event: &ev, Body: []byte("émoji ✓")},
	}
	out := d.send(t.Context(), batch)
	d.close()
	if out.err != nil {
		t.Fatal(out.err)
	}
	msgs := waitMessages(t, rec, 2)
	if msgs[0].Msg != "line one\nline two\r\nline ] \"three\"" || msgs[1].Msg != "émoji ✓" || msgs[1].SD["switchboard@32473"]["id"] != `b"]\` {
		t.Errorf("messages %+v", msgs)
	}
}

func TestSyslogDroppedConnectionRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startSyslog(t, siemtest.SyslogOptions{Transport: TransportTLS})
	s := h.typical("bbbb0000000000000000000000000003")
	rec.DropNext(1)
	set := syslogSettings(TransportTLS, rec.Addr)
	set.TLSCA = rec.Cert.PEM
	job := h.job(set, s.LSID)
	if out, _, err := h.handle(job); out != engine.OutcomeRetry {
		t.Fatalf("dropped connection: %v %v", out, err)
	}
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("retry: %v %v", out, err)
	}
	if n := len(waitMessages(t, rec, len(s.Events)+1)); n != len(s.Events)+1 {
		t.Errorf("%d messages", n)
	}
}

func TestSyslogUDPSizeLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startSyslog(t, siemtest.SyslogOptions{Transport: TransportUDP})
	s := h.typical("bbbb0000000000000000000000000004")
	set := syslogSettings(TransportUDP, rec.Addr)
	set.UDPMaxBytes = 480
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
		t.Fatal(out, err)
	}
	for _, m := range waitMessages(t, rec, len(s.Events)+1) {
		if m.Size > 480 {
			t.Errorf("datagram of %d octets", m.Size)
		}
	}
}

func TestParseMessageStrict(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"<192>1 - - - - - -", "<13>2 - - - - - -", "<13>1 2024-11-28 16:02:15 h a p m -", "<13>1 - - - - - [x a=\"b]\"]",
		"<13>1 - - - - - [x a=\"b\"", "<13>1 - - - - -x", "13>1 - - - - - -",
	} {
		if _, err := siemtest.ParseMessage([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := siemtest.ParseMessage([]byte(`<134>1 2024-11-28T16:02:15.000Z h app 1 id [bt@32473 lsid="x\]y"] ` + "\xEF\xBB\xBF{}")); err != nil {
		t.Error(err)
	}
}
