package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// engineProc is `switchboard serve` as a child process on one data
// directory and fixed ports, so that the appliance's recipient URL stays
// valid across kills and restarts.
type engineProc struct {
	bin, dataDir         string
	intakeAddr, adminURL string
	password             string
	logPath              string
	// database is the --database URL (empty: SQLite in dataDir) and
	// secretKey the SWITCHBOARD_SECRET_KEY that engines sharing it need.
	database, secretKey string

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed when the current process has been waited for.
	exited chan struct{}
	err    error
}

func newEngine(bin, dataDir, password string) (*engineProc, error) {
	intake, err := freeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return &engineProc{
		bin: bin, dataDir: dataDir, intakeAddr: intake, adminURL: "http://" + admin,
		password: password, logPath: filepath.Join(dataDir, "engine.log"),
	}, nil
}

// freeAddr picks a free loopback port below Linux's ephemeral range
// (32768–60999 by default). An engine keeps its ports across kills, and a
// port from the ephemeral range could be handed, between a kill and the
// restart, to another process's outgoing connection or ":0" listener: the
// restarted engine would then fail with "address already in use".
func freeAddr() (string, error) {
	for range 200 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr, nil
	}
	return "", errors.New("no free loopback port between 20000 and 32000")
}

// intakeURL is the HTTP recipient URL the simulated appliance posts to.
func (e *engineProc) intakeURL() string { return "http://" + e.intakeAddr }

// start runs the engine; its log is appended to engine.log in the data dir.
func (e *engineProc) start() error {
	logf, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "---- %s: start\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(e.bin, "serve", "--data-dir", e.dataDir,
		"--intake-addr", e.intakeAddr, "--admin-addr", e.adminURL[len("http://"):], "--log-level", "info")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_ADMIN_PASSWORD="+e.password)
	if e.database != "" {
		// Through the environment, not argv: ps shows arguments.
		cmd.Env = append(cmd.Env, "SWITCHBOARD_DATABASE="+e.database, "SWITCHBOARD_SECRET_KEY="+e.secretKey)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", e.bin, err)
	}
	exited := make(chan struct{})
	e.mu.Lock()
	e.cmd, e.exited, e.err = cmd, exited, nil
	e.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		e.mu.Lock()
		e.err = err
		e.mu.Unlock()
		close(exited)
	}()
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (e *engineProc) kill() {
	e.mu.Lock()
	cmd, exited := e.cmd, e.exited
	e.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop asks the engine to shut down (SIGTERM) and returns its exit error:
// a clean shutdown exits 0 (and a race-enabled build that saw a race does
// not).
func (e *engineProc) stop(grace time.Duration) error {
	e.mu.Lock()
	cmd, exited := e.cmd, e.exited
	e.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		e.kill()
		return fmt.Errorf("the engine did not stop within %s of SIGTERM", grace)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// started reports whether start ever ran the engine.
func (e *engineProc) started() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cmd != nil
}

// running reports whether the current process is still alive.
func (e *engineProc) running() bool {
	e.mu.Lock()
	exited := e.exited
	e.mu.Unlock()
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// waitReady waits until the intake answers /healthz and the admin
// listener serves /metrics (both without a password: the API's Basic
// authentication costs a bcrypt hash per request), or the process exits.
func (e *engineProc) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	ready := func(u string) bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for {
		if ready(e.intakeURL()+"/healthz") && ready(e.adminURL+"/metrics") {
			return nil
		}
		if !e.running() {
			return errors.New("the engine exited while starting; see " + e.logPath)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the engine was not ready within %s; see %s", limit, e.logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// walWatch samples the size of the database's WAL file until stopped and
// keeps the largest seen.
type walWatch struct {
	path string
	max  int64
	stop chan struct{}
	done chan struct{}
}

func watchWAL(dbPath string, every time.Duration) *walWatch {
	w := &walWatch{path: dbPath + "-wal", stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if fi, err := os.Stat(w.path); err == nil && fi.Size() > w.max {
				w.max = fi.Size()
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// peak stops the watch and returns the largest WAL size seen.
func (w *walWatch) peak() int64 {
	close(w.stop)
	<-w.done
	return w.max
}
