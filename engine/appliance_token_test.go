package engine

import (
	"strings"
	"testing"
)

func TestIntakeTokenProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		token string
		ok    bool
	}{
		{"", true},
		{strings.Repeat("a", MinIntakeToken), true},
		{"0123456789abcdef-_.~ABCDEF", true},
		{strings.Repeat("a", MinIntakeToken-1), false},
		{strings.Repeat("a", MaxIntakeToken+1), false},
		{"0123456789abcdef&x=1", false},
		{"0123456789abcdef 01", false},
		{"0123456789abcdef%20", false},
	} {
		msg := IntakeTokenProblem(tc.token)
		if (msg == "") != tc.ok {
			t.Errorf("IntakeTokenProblem(%q) = %q, want ok=%v", tc.token, msg, tc.ok)
		}
		if tc.token != "" && strings.Contains(msg, tc.token) {
			t.Errorf("the message quotes the token: %q", msg)
		}
	}
}

func TestValidateSettingsRefusesABadToken(t *testing.T) {
	t.Parallel()
	a := DefaultApplianceSettings(nil)
	a.Host = "support.example.com"
	a.IntakeToken = NewSecret("short")
	errs := a.ValidateSettings()
	if len(errs) != 1 || errs[0].Field != "intake_token" {
		t.Fatalf("errors = %v, want one on intake_token", errs)
	}
}

func TestIntakeTokenMatches(t *testing.T) {
	t.Parallel()
	old, cur := NewSecret("old-token-0123456789"), NewSecret("new-token-0123456789")
	for _, tc := range []struct {
		presented string
		accepted  []Secret
		want      bool
	}{
		{"old-token-0123456789", []Secret{old, cur}, true},
		{"new-token-0123456789", []Secret{old, cur}, true},
		{"new-token-012345678", []Secret{old, cur}, false},
		{"new-token-01234567890", []Secret{old, cur}, false},
		{"", []Secret{old, cur}, false},
		{"", []Secret{{}}, false},
		{"anything-0123456789", nil, false},
	} {
		if got := IntakeTokenMatches(tc.presented, tc.accepted); got != tc.want {
			t.Errorf("IntakeTokenMatches(%q) = %v, want %v", tc.presented, got, tc.want)
		}
	}
}
