// Package siemtest holds local SIEM receivers for tests, the demo and
// `switchboard simulate`, built only from shared/reference/siem-forwarding.md:
// Splunk HEC (with indexer acknowledgement and its error codes), the
// Elasticsearch bulk API (per-item results, create conflicts), the Sekoia.io
// HTTP intake, a webhook receiver that checks the HMAC-SHA256 signature, and
// a strict RFC 5424 syslog receiver over TCP (octet counting), TLS and UDP.
// Each can be told to fail the next requests.
package siemtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials the receivers of the demo and `switchboard simulate` accept.
const (
	DefaultHECToken  = "5b1c0d3e-0000-4000-8000-00000000de30"
	DefaultAPIKey    = "c3dpdGNoYm9hcmQtZGVtbzpkZW1vLWtleQ=="
	DefaultIntakeKey = "switchboard-demo-intake-key"
)

// Fault is how a receiver answers one coming request instead of normally.
type Fault struct {
	Status     int
	Body       string
	RetryAfter string
	// AfterWrite carries the request out before answering with the fault:
	// the sender cannot tell that its events were stored.
	AfterWrite bool
	// Delay holds the answer this long (or until the sender gives up):
	// a receiver that times out.
	Delay time.Duration
}

// faults is a queue of faults, one per request.
// It also counts the requests, for Posts.
type faults struct {
	mu    sync.Mutex
	q     []Fault
	posts atomic.Int64
}

// Posts counts the requests received (the data endpoint's only).
func (f *faults) Posts() int { return int(f.posts.Load()) }

// begin counts a request and takes its fault: one that answers before
// the request is carried out is written here (done), one that answers
// after is returned for the handler to write.
func (f *faults) begin(w http.ResponseWriter, r *http.Request) (after Fault, faulty, done bool) {
	f.posts.Add(1)
	x, ok := f.next()
	if ok && !x.AfterWrite {
		x.write(w, r)
		return x, true, true
	}
	return x, ok, false
}

// FailNext queues faults for the next requests, one each.
func (f *faults) FailNext(fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.q = append(f.q, fs...)
}

func (f *faults) next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.q) == 0 {
		return Fault{}, false
	}
	x := f.q[0]
	f.q = f.q[1:]
	return x, true
}

func (x Fault) write(w http.ResponseWriter, r *http.Request) {
	if x.Delay > 0 {
		// Read the request first: only then does the server notice the
		// sender hanging up, and the wait ends with it.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(x.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if x.RetryAfter != "" {
		w.Header().Set("Retry-After", x.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(x.Status)
	_, _ = w.Write([]byte(x.Body))
}

// Cert is a self-signed ECDSA certificate for 127.0.0.1, ::1 and
// localhost, with its PEM for a sender's CA setting.
type Cert struct {
	TLS tls.Certificate
	PEM string
	// KeyPEM is the private key, for a client certificate.
	KeyPEM string
}

// NewCert makes a certificate usable as a server's or a client's.
func NewCert(org string) (Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Cert{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return Cert{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{Organization: []string{org}, CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Cert{}, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Cert{}, err
	}
	return Cert{
		TLS:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		PEM:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})),
	}, nil
}

// server starts h on addr ("" for a free loopback port), over TLS with
// cert when tlsOn.
func server(addr string, h http.Handler, tlsOn bool) (*httptest.Server, Cert, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, Cert{}, err
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	if !tlsOn {
		srv.Start()
		return srv, Cert{}, nil
	}
	cert, err := NewCert("Switchboard SIEM receiver")
	if err != nil {
		ln.Close()
		return nil, Cert{}, err
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	return srv, cert, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
