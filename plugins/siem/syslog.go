package siem

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// syslogMaxBytes is one write's size: messages are framed one after
// another on the stream.
const syslogMaxBytes = 1 << 20

// udpMaxDatagram is the largest UDP payload over IPv4: a longer message
// cannot be sent at all, whatever UDPMaxBytes says.
const udpMaxDatagram = 65507

// syslogDest writes RFC 5424 messages: octet-counted on TCP and TLS
// (RFC 6587, RFC 5425), one per datagram on UDP (RFC 5426).
type syslogDest struct {
	set  *Settings
	dial func(ctx context.Context) (net.Conn, error)
	conn net.Conn
	w    *bufio.Writer
	pid  string
}

func newSyslog(set *Settings) (*syslogDest, error) {
	d := &syslogDest{set: set, pid: strconv.Itoa(os.Getpid())}
	transport := set.SyslogTransport
	switch transport {
	case TransportUDP:
		d.dial = func(ctx context.Context) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "udp", set.SyslogAddress)
		}
	case TransportTCP:
		d.dial = func(ctx context.Context) (net.Conn, error) {
			nd := net.Dialer{Timeout: 15 * time.Second}
			return nd.DialContext(ctx, "tcp", set.SyslogAddress)
		}
	default:
		cfg, err := set.tlsConfig()
		if err != nil {
			return nil, err
		}
		if host, _, err := net.SplitHostPort(set.SyslogAddress); err == nil && cfg.ServerName == "" {
			cfg.ServerName = host
		}
		d.dial = func(ctx context.Context) (net.Conn, error) {
			td := tls.Dialer{NetDialer: &net.Dialer{Timeout: 15 * time.Second}, Config: cfg}
			return td.DialContext(ctx, "tcp", set.SyslogAddress)
		}
	}
	return d, nil
}

func (d *syslogDest) name() string {
	return "syslog " + strings.ToUpper(d.set.SyslogTransport) + " " + d.set.SyslogAddress
}

func (d *syslogDest) maxBytes() int { return syslogMaxBytes }

func (d *syslogDest) size(e Encoded) int { return len(e.Body) + 160 + 2*len(e.ID) }

func (d *syslogDest) close() {
	if d.conn != nil {
		_ = d.conn.Close()
		d.conn = nil
	}
}

func (d *syslogDest) connect(ctx context.Context) error {
	if d.conn != nil {
		return nil
	}
	c, err := d.dial(ctx)
	if err != nil {
		return fmt.Errorf("siem: %s: %w", d.name(), err)
	}
	d.conn, d.w = c, bufio.NewWriterSize(c, 64<<10)
	return nil
}

func (d *syslogDest) send(ctx context.Context, batch []Encoded) outcome {
	if err := d.connect(ctx); err != nil {
		return outcome{err: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = d.conn.SetWriteDeadline(dl)
	}
	udp := d.set.SyslogTransport == TransportUDP
	var msg []byte
	for _, e := range batch {
		msg = d.message(msg[:0], e)
		if udp {
			if _, err := d.conn.Write(d.datagram(msg)); err != nil {
				d.close()
				return outcome{err: fmt.Errorf("siem: %s: %w", d.name(), err)}
			}
			continue
		}
		d.w.WriteString(strconv.Itoa(len(msg)))
		d.w.WriteByte(' ')
		d.w.Write(msg)
	}
	if !udp {
		if err := d.w.Flush(); err != nil {
			// What reached the receiver is unknown: the batch is sent
			// again on a new connection (docs/siem.md: at least once).
			d.close()
			return outcome{err: fmt.Errorf("siem: %s: %w", d.name(), err)}
		}
	}
	return outcome{accepted: all(len(batch))}
}

// plan is what send would write: on TCP and TLS the octet-counted frames,
// on UDP each datagram (cut to the limit) on a line of its own; method is
// the transport, path the address.
func (d *syslogDest) plan(batch []Encoded) planned {
	var body, msg []byte
	for _, e := range batch {
		msg = d.message(msg[:0], e)
		if d.set.SyslogTransport == TransportUDP {
			body = append(body, d.datagram(msg)...)
			body = append(body, '\n')
			continue
		}
		body = strconv.AppendInt(body, int64(len(msg)), 10)
		body = append(body, ' ')
		body = append(body, msg...)
	}
	return planned{method: strings.ToUpper(d.set.SyslogTransport), path: d.set.SyslogAddress, body: body}
}

// datagram cuts a message to the UDP size limit.
func (d *syslogDest) datagram(msg []byte) []byte {
	limit := d.set.UDPMaxBytes
	if limit <= 0 || limit > udpMaxDatagram {
		limit = udpMaxDatagram // no limit set: still one datagram
	}
	if len(msg) > limit {
		msg = truncateUTF8(msg, limit)
	}
	return msg
}

// message builds one RFC 5424 message: PRI VERSION TIMESTAMP HOSTNAME
// APP-NAME PROCID MSGID, structured data with the event and session ids,
// then the event after a UTF-8 BOM.
func (d *syslogDest) message(b []byte, e Encoded) []byte {
	pri := d.set.SyslogFacility*8 + 6 // informational
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(pri), 10)
	b = append(b, ">1 "...)
	b = e.Event.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, ' ')
	b = appendHeaderField(b, e.Event.Host, 255)
	b = append(b, " switchboard "...)
	b = append(b, d.pid...)
	b = append(b, ' ')
	b = appendHeaderField(b, e.Kind, 32)
	b = append(b, " ["...)
	b = append(b, d.set.SyslogSDID...)
	b = appendParam(b, "id", e.ID)
	if s := e.Event.Session; s != nil {
		b = appendParam(b, "lsid", s.LSID)
		b = appendParam(b, "product", s.Product)
		if s.JumpGroup.Name != "" {
			b = appendParam(b, "jumpGroup", s.JumpGroup.Name)
		}
		if s.PublicSite.Name != "" {
			b = appendParam(b, "publicSite", s.PublicSite.Name)
		}
	}
	b = append(b, "] \xEF\xBB\xBF"...)
	return append(b, e.Body...)
}

// appendHeaderField keeps a header field within RFC 5424's printable
// US-ASCII and length rules; an empty one is the nil value "-".
func appendHeaderField(b []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b = append(b, c)
			n++
		}
	}
	if n == 0 {
		b = append(b, '-')
	}
	return b
}

// appendParam writes ` name="value"` with '"', '\' and ']' escaped.
func appendParam(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=', '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '"', '\\', ']':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// truncateUTF8 cuts b to at most n bytes without splitting a character.
func truncateUTF8(b []byte, n int) []byte {
	b = b[:n]
	for len(b) > 0 {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}
