package siem

import (
	"testing"

	"switchboard/engine"
)

// A stored credential is kept by an edit only while where it goes is
// unchanged. Trusting another CA or no certificate check changes where it
// goes as surely as a new URL does (whoever answers for the destination
// reads the token), so each must ask for the credential again, as the
// appliance section's allow_invalid_certificates does.
func TestCredentialBindsCertificateTrust(t *testing.T) {
	t.Parallel()
	old := &Settings{Destination: "hec", URL: "https://splunk.example.com:8088", Credential: engine.NewSecret("hec-token")}
	for name, change := range map[string]func(*Settings){
		"tls_insecure": func(s *Settings) { s.TLSInsecure = true },
		"tls_ca":       func(s *Settings) { s.TLSCA = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n" },
	} {
		next := *old
		change(&next)
		for _, ref := range engine.Secrets(&next) {
			if ref.Name != "credential" {
				continue
			}
			if changed := engine.ChangedBindings(old, &next, ref.Binds); len(changed) == 0 {
				t.Errorf("%s changed and the stored credential would be kept (binds %v)", name, ref.Binds)
			}
		}
	}
}
