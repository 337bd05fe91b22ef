package bttest

import (
	"archive/zip"
	"bytes"
	"strings"
)

// JumpItemRow is one Jump Item of the EndpointLicenseUsage report (PRA).
// The report answers a ZIP archive holding jump_items.csv: a header line,
// then one line per Jump Item with, in this order, its name, hostname or
// IP, Jumpoint, remote application name, license ("yes"), Jump method and
// Jump Group. That is all a public source shows of it — the client of
// https://github.com/FrodeHus/BeyondTrustConnector
// (BeyondTrustConnector/LicenseUsageUpdater.cs, Service/BeyondTrustService.cs)
// — so the simulator serves that file and nothing else.
type JumpItemRow struct {
	Name, Host, Jumpoint, RemoteApplication, License, JumpMethod, JumpGroup string
}

// licenseHeader stands for the header line of jump_items.csv, whose words
// no public source shows; clients skip it, as the cited one does.
const licenseHeader = `"Jump Item","Hostname/IP","Jumpoint","Remote Application","License","Jump Method","Jump Group"`

// AddJumpItem adds Jump Items to the PRA EndpointLicenseUsage report.
func (a *Appliance) AddJumpItem(rows ...JumpItemRow) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.jumpItems = append(a.jumpItems, rows...)
}

// endpointLicenseArchive is the EndpointLicenseUsage answer. a.mu is held.
func (a *Appliance) endpointLicenseArchive() string {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	lines := []string{licenseHeader}
	for _, r := range a.jumpItems {
		lines = append(lines, strings.Join([]string{q(r.Name), q(r.Host), q(r.Jumpoint), q(r.RemoteApplication),
			q(r.License), q(r.JumpMethod), q(r.JumpGroup)}, ","))
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("jump_items.csv")
	if err == nil {
		_, err = w.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		panic("bttest: build the EndpointLicenseUsage archive: " + err.Error())
	}
	return buf.String()
}
