package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Mailer sends alerts through one SMTP server, always over STARTTLS: an
// alert names systems and errors, and the login must not travel in the
// clear.
type Mailer struct {
	// Addr is the server's host:port (submission is usually 587).
	Addr string
	From string
	// Username and Password log in with AUTH PLAIN when Username is set.
	Username, Password string
	// RootCAs replaces the system roots (tests, a private CA).
	RootCAs *x509.CertPool
	Timeout time.Duration
}

// Check says what is wrong with the mailer's settings, before any send.
func (m *Mailer) Check() error {
	if _, _, err := net.SplitHostPort(m.Addr); err != nil {
		return fmt.Errorf("--smtp-addr %q: give host:port, e.g. smtp.example.com:587", m.Addr)
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		return fmt.Errorf("--smtp-from %q: give the sender's e-mail address", m.From)
	}
	if m.Username == "" && m.Password != "" {
		return errors.New("an SMTP password is set without --smtp-username")
	}
	return nil
}

// Send mails subject and body to every address in to.
func (m *Mailer) Send(ctx context.Context, to []string, subject, body string) error {
	if err := m.send(ctx, to, subject, body); err != nil {
		return fmt.Errorf("alert e-mail via %s: %w", m.Addr, err)
	}
	return nil
}

func (m *Mailer) send(ctx context.Context, to []string, subject, body string) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, _ := net.SplitHostPort(m.Addr)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("switchboard"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return errors.New("the server does not offer STARTTLS; Switchboard sends no mail in the clear")
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	cfg.RootCAs = m.RootCAs
	if err := c.StartTLS(cfg); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("login as %s: %w", m.Username, err)
		}
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("sender %q: %w", m.From, err)
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("recipient %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.message(to, subject, body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message builds the mail: headers that cannot be split by what the
// subject holds, and a quoted-printable UTF-8 body.
func (m *Mailer) message(to []string, subject, body string) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "switchboard.invalid"
	if a, err := mail.ParseAddress(m.From); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	fmt.Fprintf(&b, "From: %s\r\n", m.From)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// oneLine keeps a header value on its line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Subject is an alert e-mail's subject.
func Subject(n Notice) string {
	if n.Kind == KindPollingFailing {
		return fmt.Sprintf("Switchboard: polling of %q is failing", n.Configuration)
	}
	return fmt.Sprintf("Switchboard: %d deliveries of %q failed", n.Count, n.Configuration)
}

// Body is an alert e-mail's text.
func Body(n Notice) string {
	var b strings.Builder
	if n.Kind == KindPollingFailing {
		fmt.Fprintf(&b, "Polling of configuration %q (%s, id %d) has failed since %s.\n", n.Configuration, n.Plugin, n.ConfigID, n.Since.UTC().Format(time.RFC3339))
		b.WriteString("Nothing is lost: the poll cursor does not move while polling fails.\n")
	} else {
		fmt.Fprintf(&b, "%d deliveries of configuration %q (%s, id %d) failed for good since %s.\n", n.Count, n.Configuration, n.Plugin, n.ConfigID, n.Since.UTC().Format(time.RFC3339))
		b.WriteString("Fix the cause, then use Retry all failed on the configuration's failed view.\n")
	}
	fmt.Fprintf(&b, "\nLast error: %s\n", n.LastError)
	if n.URL != "" {
		fmt.Fprintf(&b, "\nOpen: %s\n", n.URL)
	}
	return b.String()
}
