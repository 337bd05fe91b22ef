package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

const (
	// serviceLogName is the log file the service writes in its data dir:
	// a service has no console.
	serviceLogName = "switchboard.log"
	// serviceLogMax is the size at which the log is set aside (as
	// switchboard.log.1, replacing the previous one): at most about twice
	// this is kept.
	serviceLogMax = 10 << 20
	// serviceDataDirACL is the data dir's access list as SDDL: full
	// control for LocalSystem (the service's account) and Administrators,
	// inherited by everything inside, nothing inherited from above. The
	// folder holds the database and the secret key, and ProgramData lets
	// every local user read what it holds by default.
	serviceDataDirACL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
)

// serviceStopWait bounds how long stop waits for the service to report
// stopped: serve drains in-flight deliveries first (as the systemd unit's
// TimeoutStopSec).
const serviceStopWait = 90 * time.Second

func runService(ctx context.Context, req serviceRequest, stdout, stderr io.Writer) error {
	switch req.Action {
	case "run":
		return serviceRun(req)
	case "install":
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("service install: find this program's path: %w", err)
		}
		if err := checkServiceExe(exe, stdout); err != nil {
			return err
		}
		return serviceInstall(installSpec(req, exe), stdout)
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("service %s: connect to the Service Control Manager (run it as Administrator): %w", req.Action, err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("service %s: the %s service is not installed (switchboard service install): %w", req.Action, serviceName, err)
	}
	defer s.Close()
	switch req.Action {
	case "uninstall":
		if err := s.Delete(); err != nil {
			return fmt.Errorf("service uninstall: %w", err)
		}
		fmt.Fprintf(stdout, "Removed the %s service (a running one goes when it stops). Its data dir is kept.\n", serviceName)
	case "start":
		err := s.Start()
		if errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
			// As systemctl start: the wanted state is there.
			fmt.Fprintf(stdout, "The %s service is already running.\n", serviceName)
			return nil
		}
		if err != nil {
			return fmt.Errorf("service start: %w; see %s in the data dir", err, serviceLogName)
		}
		fmt.Fprintf(stdout, "Started the %s service.\n", serviceName)
	case "stop":
		if err := stopService(ctx, s); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Stopped the %s service.\n", serviceName)
	}
	return nil
}

func serviceInstall(spec serviceSpec, stdout io.Writer) error {
	if err := os.MkdirAll(spec.DataDir, 0o700); err != nil {
		return fmt.Errorf("service install: create the data dir: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString(serviceDataDirACL)
	if err != nil {
		return fmt.Errorf("service install: data dir access list: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("service install: data dir access list: %w", err)
	}
	if err := windows.SetNamedSecurityInfo(spec.DataDir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("service install: restrict the data dir %s to SYSTEM and Administrators: %w", spec.DataDir, err)
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("service install: connect to the Service Control Manager (run it as Administrator): %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(spec.Name); err == nil {
		s.Close()
		return fmt.Errorf("service install: a %s service is already installed; switchboard service uninstall removes it", spec.Name)
	}
	s, err := m.CreateService(spec.Name, spec.Exe, mgr.Config{
		DisplayName: spec.DisplayName, Description: spec.Description, StartType: mgr.StartAutomatic,
	}, spec.Args...)
	if err != nil {
		return fmt.Errorf("service install: %w", err)
	}
	defer s.Close()
	// The rest is refinement: a system that refuses it (Wine does) still
	// gets a working service, and the admin is told what is missing.
	if spec.DelayedAutoStart {
		cfg, err := s.Config()
		if err == nil {
			cfg.DelayedAutoStart = true
			err = s.UpdateConfig(cfg)
		}
		if err != nil {
			fmt.Fprintf(stdout, "Warning: the service starts at boot without waiting for the network (delayed start not set: %v).\n", err)
		}
	}
	// Restart after a failure, as the systemd unit's Restart=on-failure;
	// serve ending with an error counts as one.
	restart := mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: 5 * time.Second}
	err = s.SetRecoveryActions([]mgr.RecoveryAction{restart, restart, restart}, 24*60*60)
	if err == nil {
		err = s.SetRecoveryActionsOnNonCrashFailures(true)
	}
	if err != nil {
		fmt.Fprintf(stdout, "Warning: the service is not restarted after a failure (recovery actions not set: %v).\n", err)
	}
	fmt.Fprintf(stdout, "Installed the %s service (automatic start): %s %v\nData dir: %s (SYSTEM and Administrators only)\nLog: %s\nStart it with: switchboard service start\n",
		spec.Name, spec.Exe, spec.Args, spec.DataDir, filepath.Join(spec.DataDir, serviceLogName))
	return nil
}

func stopService(ctx context.Context, s *mgr.Service) error {
	st, err := s.Control(svc.Stop)
	if err != nil {
		return fmt.Errorf("service stop: %w", err)
	}
	deadline := time.Now().Add(serviceStopWait)
	for st.State != svc.Stopped {
		if time.Now().After(deadline) {
			return fmt.Errorf("service stop: still stopping after %s; see the log in the data dir", serviceStopWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		if st, err = s.Query(); err != nil {
			return fmt.Errorf("service stop: %w", err)
		}
	}
	return nil
}

// serviceRun is the entry point the Service Control Manager starts: serve,
// logging to the data dir, until the SCM says stop.
func serviceRun(req serviceRequest) error {
	err := svc.Run(serviceName, &windowsService{req: req})
	if errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
		return errors.New("service run is what the Service Control Manager starts; in a console use: switchboard serve --data-dir " + req.DataDir)
	}
	return err
}

// windowsService runs serve under the Service Control Manager.
type windowsService struct{ req serviceRequest }

// Exit codes the SCM records (Event Viewer, sc query) when serve fails.
const (
	serviceExitServe = 1 // serve stopped with an error: see the log
	serviceExitLog   = 2 // the log file in the data dir cannot be opened
)

func (w *windowsService) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	if err := os.MkdirAll(w.req.DataDir, 0o700); err != nil {
		return true, serviceExitLog
	}
	log, err := openRotatingLog(filepath.Join(w.req.DataDir, serviceLogName), serviceLogMax)
	if err != nil {
		return true, serviceExitLog
	}
	defer log.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, w.req.serveArgs(), log, log) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			// serve ended by itself: a failure the SCM's recovery
			// actions restart after.
			fmt.Fprintln(log, "switchboard: serve stopped:", err)
			return true, serviceExitServe
		case r := <-requests:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				cancel()
				return drain(done, status, log)
			}
		}
	}
}

// drain waits for serve to finish its in-flight deliveries, telling the
// SCM it is still stopping.
func drain(done <-chan error, status chan<- svc.Status, log io.Writer) (bool, uint32) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	stopping := svc.Status{State: svc.StopPending, WaitHint: uint32((10 * time.Second).Milliseconds())}
	status <- stopping
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintln(log, "switchboard: serve stopped:", err)
				return true, serviceExitServe
			}
			return false, 0
		case <-tick.C:
			stopping.CheckPoint++
			status <- stopping
		}
	}
}
