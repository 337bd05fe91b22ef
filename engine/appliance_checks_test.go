package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

func TestApplianceChecks(t *testing.T) {
	t.Parallel()
	a := bttest.New(
		bttest.WithAccount(bttest.Account{ClientID: "full", ClientSecret: "full-secret", Reporting: true, Command: "full"}),
		bttest.WithAccount(bttest.Account{ClientID: "reader", ClientSecret: "reader-secret", Reporting: true, Command: "read_only"}),
		bttest.WithAccount(bttest.Account{ClientID: "cmdonly", ClientSecret: "cmdonly-secret", Reporting: false, Command: "full"}),
		bttest.WithAccount(bttest.Account{ClientID: "nocmd", ClientSecret: "nocmd-secret", Reporting: true, Command: "deny"}),
	)
	t.Cleanup(a.Close)

	type want struct{ tls, oauth, perms, message string }
	tests := []struct {
		name        string
		id, secret  string
		needCommand bool
		edit        func(o *beyondtrust.Options, s *ApplianceSettings)
		want        want
	}{
		{name: "all good", id: "full", secret: "full-secret", needCommand: true, want: want{CheckOK, CheckOK, CheckOK, "command API full access"}},
		{name: "reporting only is enough without commands", id: "reader", secret: "reader-secret", want: want{CheckOK, CheckOK, CheckOK, "session reports readable"}},
		{name: "command needed but read only", id: "reader", secret: "reader-secret", needCommand: true, want: want{CheckOK, CheckOK, CheckFail, "Command API: Full Access"}},
		{name: "reporting missing", id: "cmdonly", secret: "cmdonly-secret", want: want{CheckOK, CheckOK, CheckFail, "Allow Access to Support Session Reports and Recordings"}},
		{name: "no command API at all", id: "nocmd", secret: "nocmd-secret", want: want{CheckOK, CheckOK, CheckWarn, "this server's clock"}},
		{name: "wrong secret", id: "full", secret: "nope", want: want{CheckOK, CheckFail, CheckSkipped, "did not pass"}},
		{name: "no client id", id: "", secret: "", want: want{CheckOK, CheckFail, CheckSkipped, "did not pass"}},
		{name: "untrusted certificate", id: "full", secret: "full-secret", edit: func(o *beyondtrust.Options, _ *ApplianceSettings) { o.RootCAs = nil },
			want: want{CheckFail, CheckSkipped, CheckSkipped, "did not pass"}},
		{name: "allow invalid certificates", id: "full", secret: "full-secret", edit: func(o *beyondtrust.Options, s *ApplianceSettings) {
			o.RootCAs, o.AllowInvalidCerts, s.AllowInvalidCerts = nil, true, true
		}, want: want{CheckWarn, CheckOK, CheckOK, "session reports readable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := a.Options()
			opts.ClientID, opts.ClientSecret = tt.id, tt.secret
			settings := DefaultApplianceSettings(nil)
			settings.Host, settings.ClientID, settings.ClientSecret = a.Host(), tt.id, NewSecret(tt.secret)
			if tt.edit != nil {
				tt.edit(&opts, &settings)
			}
			cfg := &TestConfig{Appliance: settings, Client: beyondtrust.NewClient(opts, nil)}
			checks := ApplianceChecks(t.Context(), cfg, tt.needCommand)
			if len(checks) != 3 {
				t.Fatalf("%d checks, want 3: %+v", len(checks), checks)
			}
			got := want{checks[0].Status, checks[1].Status, checks[2].Status, checks[2].Message}
			if got.tls != tt.want.tls || got.oauth != tt.want.oauth || got.perms != tt.want.perms || !strings.Contains(got.message, tt.want.message) {
				t.Errorf("got %+v, want %+v\n%+v", got, tt.want, checks)
			}
			for i, id := range []string{CheckApplianceTLS, CheckApplianceOAuth, CheckAppliancePermissions} {
				if checks[i].ID != id {
					t.Errorf("check %d is %q, want %q", i, checks[i].ID, id)
				}
			}
			for _, c := range checks {
				if tt.secret != "" && (strings.Contains(c.Message, tt.secret) || strings.Contains(c.Detail, tt.secret)) {
					t.Errorf("check %s leaks the secret: %+v", c.ID, c)
				}
			}
		})
	}
}

func TestApplianceChecksUnreachable(t *testing.T) {
	t.Parallel()
	settings := DefaultApplianceSettings(nil)
	settings.Host, settings.ClientID, settings.ClientSecret = "127.0.0.1:1", "x", NewSecret("y")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	checks := ApplianceChecks(ctx, &TestConfig{Appliance: settings}, false)
	if checks[0].Status != CheckFail || !strings.Contains(checks[0].Message, "check HTTPS 443") || checks[0].Detail == "" {
		t.Errorf("tls check = %+v, want a failure naming port 443 with the upstream detail", checks[0])
	}
	if checks[1].Status != CheckSkipped || checks[2].Status != CheckSkipped {
		t.Errorf("dependent checks = %+v, want skipped", checks[1:])
	}
}
