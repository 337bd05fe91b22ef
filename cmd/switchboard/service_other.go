//go:build !windows

package main

import (
	"context"
	"errors"
	"io"
)

// errNotWindows answers `switchboard service` on other systems.
var errNotWindows = errors.New("service: Windows services are for Windows; on Linux run Switchboard with the systemd unit " +
	"deploy/switchboard.service (install steps in docs/operations.md, \"Run it as a service\")")

// runService: a Windows service needs Windows; elsewhere the command says
// where to look instead.
func runService(_ context.Context, _ serviceRequest, _, _ io.Writer) error {
	return errNotWindows
}
