// Package server assembles a running Switchboard: store, service, intake,
// dispatcher, poller, JSON API and admin UI on their two listeners. The
// serve and demo commands and the end-to-end tests all start it the same way.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"switchboard/engine"
	"switchboard/engine/alert"
	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/dispatch"
	"switchboard/engine/httpapi"
	"switchboard/engine/intake"
	"switchboard/engine/metrics"
	"switchboard/engine/outbound"
	"switchboard/engine/poll"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/service"
	"switchboard/engine/sources/appliance"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/store"
)

// Defaults for the listeners, as the original Middleware Engine uses them.
const (
	DefaultIntakeAddr = ":8180"
	DefaultAdminAddr  = "127.0.0.1:53231"
)

// Options configure a server.
type Options struct {
	DataDir  string
	Database string // default: a SQLite file in DataDir
	// IntakeAddr and AdminAddr are listen addresses; ":0" picks a port.
	IntakeAddr string
	AdminAddr  string
	Logger     *slog.Logger
	Plugins    []engine.Plugin
	// SecretKey is the base64 key for secrets (SWITCHBOARD_SECRET_KEY);
	// empty uses the key file in DataDir.
	SecretKey string
	// AdminPassword creates the first admin account (SWITCHBOARD_ADMIN_PASSWORD).
	AdminPassword string
	Retention     time.Duration
	MaxBody       int64
	// Durability is what an acknowledged event survives (default: power loss).
	Durability store.Durability
	// WALLimit overrides the size past which the WAL is rewound (tests).
	WALLimit int64
	// Tokens is the appliance token cache (tests share one to count tokens).
	Tokens *beyondtrust.TokenCache
	// ApplianceRootCAs, when set, replaces the system roots for appliance
	// certificates (the demo's and the tests' simulated appliance).
	ApplianceRootCAs *x509.CertPool
	// Backoff overrides the retry schedule (tests).
	Backoff func(attempt int) time.Duration
	// Register adds routes to the admin listener after the API (the admin UI).
	Register []func(e *echo.Echo, s *Server) error
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For is believed; empty: the socket's address.
	TrustedProxies []string
	// AdminPublicNames are the host names, besides localhost and loopback
	// addresses, under which the admin listener answers.
	AdminPublicNames []string
	// IntakeAllow are the addresses or CIDR ranges the intake accepts
	// posts from (empty: any), checked against the client address above.
	IntakeAllow []string
	// IntakeRequireToken refuses posts for an Appliance Id that has no
	// outbound event token.
	IntakeRequireToken bool
	// IntakeTLSCert and IntakeTLSKey serve the intake over TLS; the files
	// are reloaded when they change.
	IntakeTLSCert, IntakeTLSKey string
	// IntakePublicURL is the base URL the appliance reaches the intake at,
	// shown in recipient URLs (empty: the listener's own address).
	IntakePublicURL string
	// Sources are the PM Cloud event sources to poll (serve --sources).
	Sources []*pmcloud.Settings
	// ApplianceSources are the appliance activity sources to poll (Team,
	// VaultAccountActivity, Syslog; serve --sources).
	ApplianceSources []*appliance.Settings
	// SourcesHTTP, when set, is the HTTP client of the sources (tests:
	// the simulator's TLS client).
	SourcesHTTP *http.Client
	// Mailer sends alert e-mails (serve --smtp-addr); nil: none.
	Mailer *alert.Mailer
	// AlertHTTP and AlertCheck override the alert webhooks' HTTP client
	// and how often failures are looked for (tests).
	AlertHTTP  *http.Client
	AlertCheck time.Duration
	// QueryTimeout bounds one investigation query (default
	// service.QueryTimeout; tests shorten it).
	QueryTimeout time.Duration
}

// templateWatchInterval is how soon an engine serves a template another
// engine sharing its database saved (the one that saved serves it at once).
const templateWatchInterval = 5 * time.Second

// Server is a running Switchboard.
type Server struct {
	opts       Options
	log        *slog.Logger
	Store      *store.Store
	Service    *service.Service
	Auth       *auth.Manager
	Metrics    *metrics.Metrics
	Dispatcher *dispatch.Dispatcher
	Poller     *poll.Poller
	Sources    *pmcloud.Runner
	Activity   *appliance.Runner
	// pmClients are the PM Cloud sources' clients, one per source
	// configured now.
	pmClients *pmcloud.Clients
	Alerts    *alert.Watcher
	Renderer  *render.Renderer
	Routes    *service.Routes
	intake    *intake.Handler
	intakeLn  net.Listener
	adminLn   net.Listener
	intakeSrv *http.Server
	adminSrv  *http.Server
	SetupURL  string
	ipx       echo.IPExtractor
	certs     *certReloader
	owner     string // this engine's name in every lease it takes

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error
}

// New opens the store and builds every part; Start begins serving.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DataDir == "" {
		opts.DataDir = "data"
	}
	if opts.Database == "" {
		opts.Database = store.DefaultPath(opts.DataDir)
	}
	if opts.IntakeAddr == "" {
		opts.IntakeAddr = DefaultIntakeAddr
	}
	if opts.AdminAddr == "" {
		opts.AdminAddr = DefaultAdminAddr
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	log := opts.Logger
	// Windows keeps access in ACLs, which mode bits do not show (Go
	// reports 0777 for every folder); `service install` sets the ACL.
	if info, err := os.Stat(opts.DataDir); err == nil && runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		log.Warn("the data directory holds the database and the secret key but other users may enter it; run chmod 700 on it", "dir", opts.DataDir, "mode", info.Mode().Perm())
	}
	ipx, err := ipExtractor(opts.TrustedProxies)
	if err != nil {
		return nil, err
	}
	allow, err := parseAllowList(opts.IntakeAllow)
	if err != nil {
		return nil, err
	}
	if err := checkPublicURL(opts.IntakePublicURL); err != nil {
		return nil, err
	}
	certs, err := newCertReloader(opts.IntakeTLSCert, opts.IntakeTLSKey, log)
	if err != nil {
		return nil, err
	}
	reg, err := engine.NewRegistry(opts.Plugins...)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, opts.Database, store.Options{Logger: log, Durability: opts.Durability, WALLimit: opts.WALLimit})
	if err != nil {
		return nil, err
	}
	// The key is checked against the database: a lost or replaced key
	// file is refused here rather than replaced by one that opens nothing.
	box, err := secretbox.Load(ctx, opts.DataDir, opts.SecretKey, st)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	if opts.Tokens == nil {
		// One cache for the configurations and the appliance sources: an
		// API account holds at most 30 tokens.
		opts.Tokens = beyondtrust.NewTokenCache()
	}
	s := &Server{opts: opts, log: log, Store: st, errs: make(chan error, 8), ipx: ipx, certs: certs}
	fail := func(err error) (*Server, error) {
		_ = st.Close()
		return nil, err
	}
	s.Renderer, err = render.New(render.Options{OverrideDir: filepath.Join(opts.DataDir, "templates"), Logger: log, PluginTemplates: reg.Templates(), PluginHelpers: reg.Helpers()})
	if err != nil {
		return fail(err)
	}
	s.Metrics = metrics.New(st, log)
	var disp *dispatch.Dispatcher
	s.Service, err = service.New(service.Options{
		Store: st, Registry: reg, Box: box, Renderer: s.Renderer, Tokens: opts.Tokens, ApplianceRootCAs: opts.ApplianceRootCAs, Logger: log, QueryTimeout: opts.QueryTimeout,
		Wake: func() {
			if disp != nil {
				disp.Wake()
			}
		},
	})
	if err != nil {
		return fail(err)
	}
	// Templates saved in the admin UI live in the database.
	if err := s.Service.SyncTemplates(ctx); err != nil {
		return fail(err)
	}
	// One name per engine process in every lease it takes: engines sharing
	// a PostgreSQL database must never release or renew each other's.
	owner := store.NewOwner()
	s.owner = owner
	disp = dispatch.New(dispatch.Options{Store: st, Configs: s.Service, Metrics: s.Metrics, Logger: log, Retention: opts.Retention, Backoff: opts.Backoff, Owner: owner})
	s.Dispatcher = disp
	if s.Routes, err = service.NewRoutes(ctx, s.Service); err != nil {
		return fail(err)
	}
	s.Poller = poll.New(poll.Options{Store: st, Targets: s.pollTargets, Wake: disp.Wake, Log: log, Owner: owner})
	s.Sources = s.newSources(disp.Wake)
	s.Activity = s.newApplianceSources(disp.Wake, owner)
	if err := s.loadSources(ctx); err != nil {
		return fail(err)
	}
	// Work queued by another engine on the same PostgreSQL database wakes
	// this one's workers (LISTEN/NOTIFY; nothing on SQLite). It stops when
	// the store closes.
	st.OnWork(context.WithoutCancel(ctx), disp.Wake)
	s.intake = intake.New(intake.Options{
		Store: st, Router: s.Routes, Metrics: s.Metrics, Logger: log, Wake: disp.Wake, Workers: disp, MaxBody: opts.MaxBody,
		Tokens: intakeTokens{s.Routes}, RequireToken: opts.IntakeRequireToken, Allow: allow,
	})
	s.Auth = auth.New(st, log)
	if s.SetupURL, err = s.Auth.Bootstrap(ctx, opts.AdminPassword); err != nil {
		return fail(err)
	}
	return s, nil
}

// pollTargets are the configurations as they are now: the poller picks up
// edits without a restart.
func (s *Server) pollTargets() []poll.Target {
	cfgs := s.Routes.Configs()
	out := make([]poll.Target, 0, len(cfgs))
	for _, c := range cfgs {
		out = append(out, poll.Target{ConfigID: c.ID, Plugin: c.Plugin.Info().ID, Appliance: c.Appliance, EnabledAt: c.EnabledAt, Client: c.Client})
	}
	return out
}

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = s.ipx
	e.Use(middleware.Recover())
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	// Ready while the database answers and its last write reached the
	// disk: a full disk fails it until a write succeeds again (the store
	// probes for that by itself).
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.Store.Ready(ctx); err != nil {
			return c.String(http.StatusServiceUnavailable, "not ready: the database cannot be written (disk full or failing?); see the log\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
	return e
}

// Start binds both listeners and starts every worker. It returns once the
// listeners accept connections.
func (s *Server) Start(ctx context.Context) error {
	var err error
	if s.intakeLn, err = net.Listen("tcp", s.opts.IntakeAddr); err != nil {
		return fmt.Errorf("intake listener %s: %w", s.opts.IntakeAddr, err)
	}
	if s.adminLn, err = net.Listen("tcp", s.opts.AdminAddr); err != nil {
		_ = s.intakeLn.Close()
		return fmt.Errorf("admin listener %s: %w", s.opts.AdminAddr, err)
	}
	ie := s.newEcho()
	s.intake.Register(ie)
	ae := s.newEcho()
	ae.Pre(hostGuard(s.opts.AdminPublicNames, s.adminLn.Addr()))
	ae.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{})))
	httpapi.New(s.Service, s.log).Register(ae, s.Auth.Middleware(), s.Auth.CSRF())
	for _, reg := range s.opts.Register {
		if err := reg(ae, s); err != nil {
			_ = s.intakeLn.Close()
			_ = s.adminLn.Close()
			return err
		}
	}
	// Failed TLS handshakes of scanners on an exposed intake go to the
	// debug log, not to stderr line by line.
	s.intakeSrv = &http.Server{Handler: ie, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	if s.certs != nil {
		s.intakeLn = tls.NewListener(s.intakeLn, s.certs.tlsConfig())
	}
	// Test waits up to service.TestTimeout before it writes its answer.
	s.adminSrv = &http.Server{Handler: ae, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.Alerts = s.newAlerts()
	s.wg.Go(func() { _ = s.Alerts.Run(runCtx) })
	s.wg.Go(func() { s.intake.Run(runCtx) })
	if s.Store.Dialect() == "postgres" {
		// Other engines on the same database edit configurations and
		// save templates too.
		s.wg.Go(func() { s.Service.WatchConfigs(runCtx, service.ConfigWatchInterval) })
		s.wg.Go(func() { s.Service.WatchTemplates(runCtx, templateWatchInterval) })
		// The remote budgets every plugin spends (Autotask's three
		// threads per endpoint, its hourly allowance) are counted in the
		// database, so they hold across the engines.
		stop := outbound.DefaultGovernor.Share(outbound.Shared{Ledger: s.Store, Holder: s.owner, Log: s.log})
		s.wg.Go(func() { <-runCtx.Done(); stop() })
	}
	s.wg.Go(func() {
		if err := s.Dispatcher.Run(runCtx); err != nil {
			s.errs <- err
		}
	})
	s.wg.Go(func() {
		if err := s.Poller.Run(runCtx); err != nil {
			s.errs <- err
		}
	})
	s.wg.Go(func() {
		if err := s.Sources.Run(runCtx); err != nil {
			s.errs <- err
		}
	})
	s.wg.Go(func() {
		if err := s.Activity.Run(runCtx); err != nil {
			s.errs <- err
		}
	})
	for _, srv := range []struct {
		h  *http.Server
		ln net.Listener
	}{{s.intakeSrv, s.intakeLn}, {s.adminSrv, s.adminLn}} {
		s.wg.Go(func() {
			if err := srv.h.Serve(srv.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- err
			}
		})
	}
	// The recipient URL without its parameters: they may hold a token.
	// intake is what an appliance posts to; listen is the socket.
	s.log.Info("switchboard started", "intake", s.IntakeBaseURL()+intake.Path, "listen", s.intakeLn.Addr().String(), "admin", s.AdminURL(), "database", s.Store.Path())
	s.announceSetup()
	return nil
}

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Errors reports a listener or worker that stopped on its own.
func (s *Server) Errors() <-chan error { return s.errs }

// IntakeURL is the base URL of the outbound-event listener.
func (s *Server) IntakeURL() string {
	if s.certs != nil {
		return "https://" + hostPort(s.intakeLn)
	}
	return "http://" + hostPort(s.intakeLn)
}

// AdminURL is the base URL of the admin listener.
func (s *Server) AdminURL() string { return "http://" + hostPort(s.adminLn) }

func hostPort(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Shutdown stops in order: the intake first (the appliance will retry what
// it could not post), then the workers (deliveries in flight finish or are
// handed back), then the admin listener, then the store.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.intakeSrv != nil {
		errs = append(errs, s.intakeSrv.Shutdown(ctx))
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.adminSrv != nil {
		errs = append(errs, s.adminSrv.Shutdown(ctx))
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("workers did not stop in time: %w", ctx.Err()))
	}
	errs = append(errs, s.Store.Close())
	s.log.Info("switchboard stopped")
	return errors.Join(errs...)
}

// SetupLinkFile is the file in the data directory that holds the one-time
// setup link while no admin account exists.
const SetupLinkFile = "setup-link.txt"

// announceSetup puts the one-time setup link where only the operator reads
// it: a 0600 file in the data directory (serve also prints it on the
// terminal). The log only says where: log lines travel to shippers.
func (s *Server) announceSetup() {
	path := filepath.Join(s.opts.DataDir, SetupLinkFile)
	if s.SetupURL == "" {
		_ = os.Remove(path)
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("remove the old setup link file", "path", path, "err", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = fmt.Fprintln(f, s.AdminURL()+s.SetupURL)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		s.log.Error("write the setup link file", "path", path, "err", err)
		return
	}
	s.log.Info("no admin account yet: the one-time setup link is in this file (readable by this user only)", "path", path)
}
