package appliance

import (
	"slices"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
)

// Remote Support's reporting API documents no Syslog report (only PRA's
// does; docs/sources.md cites the pages): an RS source asking for the
// syslog stream is refused when it is validated, naming the field and what
// to do, and an RS source selecting no stream reads Team and Vault only.
func TestRemoteSupportSourceRefusesSyslog(t *testing.T) {
	t.Parallel()
	set := NewSettings()
	set.Name, set.Host, set.ClientID, set.ClientSecret = "rs", "support.example.com", "id", engine.NewSecret("s")
	set.Product = beyondtrust.ProductRS
	set.Streams = []string{StreamTeam, StreamSyslog}
	errs := engine.Validate(set)
	if msg := errs.For("streams"); !strings.Contains(msg, "Remote Support") || !strings.Contains(msg, "syslog") {
		t.Fatalf("RS with syslog: %v", errs)
	}
	set.Streams = []string{StreamTeam, StreamVault}
	if errs := engine.Validate(set); len(errs) != 0 {
		t.Fatalf("RS with team and vault: %v", errs)
	}
	set.Streams = nil
	if got := set.Selected(); !slices.Equal(got, []string{StreamTeam, StreamVault}) {
		t.Fatalf("RS with no stream selected reads %v", got)
	}
	set.Product, set.Streams = beyondtrust.ProductPRA, []string{StreamSyslog}
	if errs := engine.Validate(set); len(errs) != 0 {
		t.Fatalf("PRA with syslog: %v", errs)
	}
}
