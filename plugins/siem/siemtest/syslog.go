package siemtest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Message is one parsed RFC 5424 message.
type Message struct {
	Priority  int
	Timestamp string
	Hostname  string
	AppName   string
	ProcID    string
	MsgID     string
	// SD holds the structured data: SD-ID → param → value (unescaped).
	SD  map[string]map[string]string
	Msg string // after the BOM
	// Size is the message's length in octets.
	Size int
	// Peer is the client certificate's subject on TLS, else "".
	Peer string
}

// SyslogOptions configure a syslog receiver.
type SyslogOptions struct {
	// Transport is "tcp", "tls" or "udp".
	Transport string
	Addr      string // "" for a free loopback port
	// ClientCA, when set, requires TLS clients to present a certificate
	// signed by it (mutual TLS).
	ClientCA string
}

// Syslog receives RFC 5424 messages: octet-counted on TCP and TLS
// (RFC 6587 section 3.4.1, mandatory for RFC 5425), one per datagram on
// UDP. A framing or format error is recorded and, on a stream, closes the
// connection, as a strict receiver does.
type Syslog struct {
	Cert Cert
	Addr string

	ln   net.Listener
	pc   net.PacketConn
	wg   sync.WaitGroup
	mu   sync.Mutex
	msgs []Message
	errs []string
	drop int // connections to close on arrival
}

// NewSyslog starts a syslog receiver.
func NewSyslog(opts SyslogOptions) (*Syslog, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s := &Syslog{}
	switch opts.Transport {
	case "udp":
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, err
		}
		s.pc, s.Addr = pc, pc.LocalAddr().String()
		s.wg.Add(1)
		go s.serveUDP()
		return s, nil
	case "tcp", "tls":
	default:
		return nil, fmt.Errorf("siemtest: transport %q: use tcp, tls or udp", opts.Transport)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if opts.Transport == "tls" {
		cert, err := NewCert("Switchboard syslog receiver")
		if err != nil {
			ln.Close()
			return nil, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
		if opts.ClientCA != "" {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM([]byte(opts.ClientCA))
			cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		s.Cert = cert
		ln = tls.NewListener(ln, cfg)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.serveStream()
	return s, nil
}

// Close stops the receiver.
func (s *Syslog) Close() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.pc != nil {
		s.pc.Close()
	}
	s.wg.Wait()
}

// DropNext closes the next n connections as soon as they are accepted.
func (s *Syslog) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop += n
}

// Messages returns the messages received, in order.
func (s *Syslog) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Errors returns the framing and format errors seen.
func (s *Syslog) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

func (s *Syslog) record(m Message, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs = append(s.errs, err.Error())
		return
	}
	s.msgs = append(s.msgs, m)
}

func (s *Syslog) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, _, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := ParseMessage(buf[:n])
		s.record(m, err)
	}
}

func (s *Syslog) serveStream() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		drop := s.drop > 0
		if drop {
			s.drop--
		}
		s.mu.Unlock()
		if drop {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.readFrames(c)
		}()
	}
}

// maxFrame bounds a frame's announced length.
const maxFrame = 1 << 20

// readFrames reads MSG-LEN SP SYSLOG-MSG frames until the stream ends.
func (s *Syslog) readFrames(c net.Conn) {
	peer := ""
	if tc, ok := c.(*tls.Conn); ok {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			s.record(Message{}, fmt.Errorf("tls handshake: %w", err))
			return
		}
		_ = c.SetDeadline(time.Time{})
		if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
			peer = pc[0].Subject.String()
		}
	}
	r := bufio.NewReader(c)
	for {
		n, err := frameLen(r)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			s.record(Message{}, err)
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			s.record(Message{}, fmt.Errorf("frame of %d octets cut short: %w", n, err))
			return
		}
		m, err := ParseMessage(buf)
		m.Peer = peer
		s.record(m, err)
		if err != nil {
			return
		}
	}
}

// frameLen reads MSG-LEN (NONZERO-DIGIT *DIGIT) and the space after it.
func frameLen(r *bufio.Reader) (int, error) {
	n := 0
	for i := 0; ; i++ {
		c, err := r.ReadByte()
		if err != nil {
			if i == 0 {
				return 0, io.EOF
			}
			return 0, fmt.Errorf("frame length cut short: %w", err)
		}
		switch {
		case c == ' ' && i > 0:
			return n, nil
		case c >= '1' && c <= '9', c == '0' && i > 0:
			n = n*10 + int(c-'0')
			if n > maxFrame {
				return 0, fmt.Errorf("frame length over %d", maxFrame)
			}
		default:
			return 0, fmt.Errorf("octet-counting framing: unexpected byte %q at position %d of MSG-LEN", c, i)
		}
	}
}

// ParseMessage parses one RFC 5424 message strictly.
func ParseMessage(b []byte) (Message, error) {
	m := Message{Size: len(b)}
	rest := string(b)
	if !strings.HasPrefix(rest, "<") {
		return m, errors.New("rfc5424: no PRI")
	}
	end := strings.IndexByte(rest, '>')
	if end < 2 || end > 4 {
		return m, errors.New("rfc5424: bad PRI")
	}
	pri, err := strconv.Atoi(rest[1:end])
	if err != nil || pri < 0 || pri > 191 || (len(rest[1:end]) > 1 && rest[1] == '0') {
		return m, fmt.Errorf("rfc5424: PRI %q out of 0..191", rest[1:end])
	}
	m.Priority = pri
	rest = rest[end+1:]
	if !strings.HasPrefix(rest, "1 ") {
		return m, errors.New("rfc5424: VERSION is not 1")
	}
	rest = rest[2:]
	fields := make([]string, 5)
	limits := []int{0, 255, 48, 128, 32}
	for i := range fields {
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 {
			return m, fmt.Errorf("rfc5424: header field %d missing", i+1)
		}
		fields[i], rest = rest[:sp], rest[sp+1:]
		for _, c := range []byte(fields[i]) {
			if c < 33 || c > 126 {
				return m, fmt.Errorf("rfc5424: header field %d has a non-printable octet", i+1)
			}
		}
		if i > 0 && len(fields[i]) > limits[i] {
			return m, fmt.Errorf("rfc5424: header field %d longer than %d", i+1, limits[i])
		}
	}
	if ts := fields[0]; ts != "-" {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.Contains(ts, "T") {
			return m, fmt.Errorf("rfc5424: TIMESTAMP %q is not RFC 3339", ts)
		}
		if dot := strings.IndexByte(ts, '.'); dot >= 0 {
			frac := strings.IndexAny(ts[dot:], "Z+-")
			if frac-1 > 6 {
				return m, errors.New("rfc5424: more than 6 fractional digits")
			}
		}
	}
	m.Timestamp, m.Hostname, m.AppName, m.ProcID, m.MsgID = fields[0], fields[1], fields[2], fields[3], fields[4]
	sd, rest, err := parseSD(rest)
	if err != nil {
		return m, err
	}
	m.SD = sd
	if rest != "" {
		if !strings.HasPrefix(rest, " ") {
			return m, errors.New("rfc5424: no space between STRUCTURED-DATA and MSG")
		}
		msg := rest[1:]
		if strings.HasPrefix(msg, "\xEF\xBB\xBF") {
			msg = msg[3:]
			if !utf8.ValidString(msg) {
				return m, errors.New("rfc5424: MSG has a BOM but is not UTF-8")
			}
		}
		m.Msg = msg
	}
	return m, nil
}

// parseSD reads "-" or one or more [SD-ID *(SP PARAM-NAME="value")].
func parseSD(s string) (map[string]map[string]string, string, error) {
	if strings.HasPrefix(s, "-") {
		return nil, s[1:], nil
	}
	out := map[string]map[string]string{}
	for strings.HasPrefix(s, "[") {
		s = s[1:]
		id, rest, err := sdName(s)
		if err != nil {
			return nil, "", err
		}
		params := map[string]string{}
		out[id] = params
		s = rest
		for strings.HasPrefix(s, " ") {
			name, rest, err := sdName(s[1:])
			if err != nil {
				return nil, "", err
			}
			if !strings.HasPrefix(rest, `="`) {
				return nil, "", fmt.Errorf("rfc5424: SD-PARAM %q has no =\"", name)
			}
			rest = rest[2:]
			var v strings.Builder
			closed := false
			for i := 0; i < len(rest); i++ {
				c := rest[i]
				if c == '\\' && i+1 < len(rest) && (rest[i+1] == '"' || rest[i+1] == '\\' || rest[i+1] == ']') {
					v.WriteByte(rest[i+1])
					i++
					continue
				}
				if c == ']' {
					return nil, "", fmt.Errorf("rfc5424: unescaped ] in PARAM-VALUE of %q", name)
				}
				if c == '"' {
					s, closed = rest[i+1:], true
					break
				}
				v.WriteByte(c)
			}
			if !closed {
				return nil, "", fmt.Errorf("rfc5424: PARAM-VALUE of %q not closed", name)
			}
			params[name] = v.String()
		}
		if !strings.HasPrefix(s, "]") {
			return nil, "", errors.New("rfc5424: SD-ELEMENT not closed by ]")
		}
		s = s[1:]
	}
	if len(out) == 0 {
		return nil, "", errors.New("rfc5424: STRUCTURED-DATA is neither - nor [")
	}
	return out, s, nil
}

// sdName reads an SD-NAME: 1 to 32 printable octets but '=', ' ', ']', '"'.
func sdName(s string) (string, string, error) {
	i := 0
	for i < len(s) && s[i] > 32 && s[i] < 127 && s[i] != '=' && s[i] != ']' && s[i] != '"' {
		i++
	}
	if i == 0 || i > 32 {
		return "", "", fmt.Errorf("rfc5424: SD-NAME of %d octets", i)
	}
	return s[:i], s[i:], nil
}
