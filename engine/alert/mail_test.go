package alert

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink is a local SMTP server: EHLO, STARTTLS (unless plain), AUTH PLAIN,
// MAIL, RCPT, DATA, QUIT. It records what a client said, and before TLS
// whether it tried to log in.
type sink struct {
	ln    net.Listener
	cert  tls.Certificate
	plain bool // offers no STARTTLS

	mu          sync.Mutex
	authInClear bool
	auth        string
	from        string
	rcpt        []string
	data        []string
}

// testCert borrows httptest's certificate for 127.0.0.1 and the pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	return srv.TLS.Certificates[0], srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}

func newSink(t *testing.T, plain bool) (*sink, *x509.CertPool) {
	cert, pool := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln, cert: cert, plain: plain}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, pool
}

func (s *sink) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(conn)
	secure := false
	_ = tp.PrintfLine("220 sink ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			switch {
			case !secure && !s.plain:
				_ = tp.PrintfLine("250-sink\r\n250 STARTTLS")
			default:
				_ = tp.PrintfLine("250-sink\r\n250 AUTH PLAIN")
			}
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if tc.Handshake() != nil {
				return
			}
			conn, tp, secure = tc, textproto.NewConn(tc), true
		case "AUTH":
			s.mu.Lock()
			s.authInClear = s.authInClear || !secure
			s.auth = arg
			s.mu.Unlock()
			_ = tp.PrintfLine("235 ok")
		case "MAIL":
			s.mu.Lock()
			s.from = arg
			s.mu.Unlock()
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			s.mu.Lock()
			s.rcpt = append(s.rcpt, arg)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.data = append(s.data, string(b))
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 what")
		}
	}
}

func TestMailOverSTARTTLS(t *testing.T) {
	t.Parallel()
	s, pool := newSink(t, false)
	m := &Mailer{Addr: s.ln.Addr().String(), From: "Switchboard <switchboard@example.com>", Username: "relay", Password: "relay-pass", RootCAs: pool}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	n := Notice{Kind: KindDeliveriesFailed, ConfigID: 4, Configuration: "Acme\r\nBcc: evil@example.com", Plugin: "autotask", Count: 3,
		Since: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), LastError: "autotask: 401 — check the API user's secret\n.\nQUIT", URL: "https://sb.example.com/events?config=4&state=failed"}
	if err := m.Send(context.Background(), []string{"noc@example.com", "oncall@example.com"}, Subject(n), Body(n)); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authInClear {
		t.Fatal("logged in before STARTTLS")
	}
	if want := "PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00relay\x00relay-pass")); s.auth != want {
		t.Fatalf("AUTH %q", s.auth)
	}
	if s.from != "FROM:<switchboard@example.com>" || len(s.rcpt) != 2 || len(s.data) != 1 {
		t.Fatalf("from %q rcpt %q data %d", s.from, s.rcpt, len(s.data))
	}
	msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(s.data[0])))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" {
		t.Fatal("the configuration's name added a header")
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != `Switchboard: 3 deliveries of "Acme\r\nBcc: evil@example.com" failed` {
		t.Fatalf("subject %q %v", subject, err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	for _, want := range []string{"3 deliveries of configuration", "Last error: autotask: 401 — check the API user's secret\n.\nQUIT", "Open: https://sb.example.com/events?config=4&state=failed"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestMailRefusesAServerWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	s, pool := newSink(t, true)
	m := &Mailer{Addr: s.ln.Addr().String(), From: "switchboard@example.com", Username: "relay", Password: "relay-pass", RootCAs: pool}
	err := m.Send(context.Background(), []string{"noc@example.com"}, "s", "b")
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || strings.Contains(err.Error(), "relay-pass") {
		t.Fatalf("plain server: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth != "" || len(s.data) != 0 {
		t.Fatalf("sent to a server without TLS: auth %q, %d messages", s.auth, len(s.data))
	}
}

func TestMailerCheck(t *testing.T) {
	t.Parallel()
	for _, m := range []Mailer{{Addr: "smtp.example.com", From: "a@example.com"}, {Addr: "smtp.example.com:587", From: "not an address"}, {Addr: "h:587", From: "a@example.com", Password: "p"}} {
		if err := m.Check(); err == nil || strings.Contains(err.Error(), "p\"") {
			t.Errorf("%+v: %v", m, err)
		}
	}
}
