package siem

import (
	"slices"
	"testing"

	"switchboard/engine"
	"switchboard/engine/plugintest"
)

func TestSettingsConformance(t *testing.T) {
	t.Parallel()
	plugintest.CheckSettings(t, New())
}

// TestEventTypeOptions keeps the Event Types choices and EventTypes the same.
func TestEventTypeOptions(t *testing.T) {
	t.Parallel()
	var values []string
	for _, f := range engine.Fields(NewSettings(), Events) {
		if f.Name == "event_types" {
			for _, o := range f.Options {
				values = append(values, o.Value)
			}
		}
	}
	if !slices.Equal(values, EventTypes) {
		t.Errorf("options %v\nEventTypes %v", values, EventTypes)
	}
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*Settings)
		field string
	}{
		{"HEC without URL", func(s *Settings) { s.Credential = engine.NewSecret("x") }, "url"},
		{"plain HTTP elsewhere", func(s *Settings) { s.URL, s.Credential = "http://splunk.example.com:8088", engine.NewSecret("x") }, "url"},
		{"no token", func(s *Settings) { s.URL = "https://splunk.example.com:8088" }, "credential"},
		{"ack without channel", func(s *Settings) {
			s.URL, s.Credential, s.HECAck = "https://splunk.example.com:8088", engine.NewSecret("x"), true
		}, "hec_channel"},
		{"syslog without address", func(s *Settings) { s.Destination = DestSyslog }, "syslog_address"},
		{"syslog address without port", func(s *Settings) { s.Destination, s.SyslogAddress = DestSyslog, "siem.example.com" }, "syslog_address"},
		{"bad SD-ID", func(s *Settings) { s.Destination, s.SyslogAddress, s.SyslogSDID = DestSyslog, "h:514", "a b" }, "syslog_sd_id"},
		{"client cert without key", func(s *Settings) {
			s.Destination, s.SyslogAddress, s.TLSClientCert = DestSyslog, "h:6514", "-----BEGIN CERTIFICATE-----"
		}, "tls_client_cert"},
		{"unknown event type", func(s *Settings) {
			s.Destination, s.SyslogAddress, s.EventTypes = DestSyslog, "h:6514", []string{"Nope"}
		}, "event_types"},
		{"bad format", func(s *Settings) { s.Destination, s.SyslogAddress, s.Format = DestSyslog, "h:6514", "xml" }, "format"},
	}
	for _, c := range cases {
		s := NewSettings()
		c.edit(s)
		errs := engine.Validate(s)
		if errs.For(c.field) == "" {
			t.Errorf("%s: no error on %s (got %v)", c.name, c.field, errs)
		}
	}
	ok := NewSettings()
	ok.URL, ok.Credential = "https://splunk.example.com:8088", engine.NewSecret("x")
	if errs := engine.Validate(ok); len(errs) > 0 {
		t.Errorf("valid settings refused: %v", errs)
	}
}
