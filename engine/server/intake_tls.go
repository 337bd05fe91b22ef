package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// certReloader serves the intake's certificate from two files and picks up
// a renewal without a restart: each handshake stats both files (a cheap
// system call) and reloads the pair when either changed — a new file
// renamed over the old, as certbot and cert-manager do, or one rewritten in
// place. A pair that does not load (a renewal half-written, a key that does
// not fit) keeps the last good certificate in service and is logged once.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	// seen are the files as they were at the last load attempt.
	seen [2]os.FileInfo
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case keyFile == "":
		return nil, errors.New("--intake-tls-cert needs --intake-tls-key: the private key of the certificate")
	case certFile == "":
		return nil, errors.New("--intake-tls-key needs --intake-tls-cert: the certificate (chain) of the key")
	}
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	seen, err := r.stat()
	if err != nil {
		return nil, err
	}
	if err := r.load(seen); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) stat() ([2]os.FileInfo, error) {
	var out [2]os.FileInfo
	for i, name := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return out, fmt.Errorf("intake TLS: %w", err)
		}
		out[i] = fi
	}
	return out, nil
}

// load reads the pair; on failure the certificate in service stays.
func (r *certReloader) load(seen [2]os.FileInfo) error {
	r.seen = seen
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		// The error names the files and the problem, never key material.
		return fmt.Errorf("intake TLS: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert = &cert
	return nil
}

func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// getCertificate is the listener's tls.Config.GetCertificate.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen, err := r.stat()
	if err != nil {
		if r.seen[0] != nil {
			r.log.Error("intake TLS files cannot be read; the last loaded certificate stays in service", "err", err)
			r.seen = [2]os.FileInfo{}
		}
		return r.cert, nil
	}
	if sameFile(seen[0], r.seen[0]) && sameFile(seen[1], r.seen[1]) {
		return r.cert, nil
	}
	if err := r.load(seen); err != nil {
		r.log.Error("the renewed intake certificate does not load; the last loaded one stays in service until the files change again", "err", err)
		return r.cert, nil
	}
	r.log.Info("intake TLS certificate reloaded", "cert", r.certFile, "not_after", r.cert.Leaf.NotAfter)
	return r.cert, nil
}

// tlsConfig is the intake listener's TLS configuration.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.getCertificate}
}
