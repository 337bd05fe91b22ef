// Package appliance is the B Series appliance activity source: with an
// appliance's OAuth API account it polls the reporting API's Team
// (SupportTeam on Remote Support) and VaultAccountActivity reports and the
// Syslog report download, and stores each activity as a record, delivered
// like an event to the configurations the source names. Each stream has
// its own cursor, committed with its records in one transaction, and
// records are deduplicated by a hash of what they say.
package appliance

import (
	"fmt"
	"slices"
	"strings"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/sources/sourcefile"
)

// Names of what the source stores.
const (
	// Source is the stored events' source.
	Source = "appliance"
	// DocumentField is the form field holding the record's JSON document.
	DocumentField = "document"
)

// Streams of appliance activity.
const (
	StreamTeam   = "team"
	StreamVault  = "vault"
	StreamSyslog = "syslog"
)

// EventName is the stored event name of each stream; a SIEM configuration's
// Event Types filter tells them apart.
var EventName = map[string]string{
	StreamTeam:   "appliance_team_activity",
	StreamVault:  "appliance_vault_account_activity",
	StreamSyslog: "appliance_syslog",
}

// Defaults of Settings.
const (
	DefaultInterval    = 300  // seconds; Sekoia's Team and Vault connectors poll every 300 s
	DefaultFirstFetch  = 1440 // minutes; Sekoia starts a day back
	DefaultMaxPerCycle = 10000
	// DefaultWindow (minutes) is the longest span one Team or Vault request
	// asks for.
	DefaultWindow = 60
	// MaxWindowsPerPoll bounds the requests of one poll of one stream.
	MaxWindowsPerPoll = 48
)

// Settings configure one appliance activity source.
type Settings struct {
	Name              string        `json:"name" validate:"required,max=100" label:"Source Name"`
	Host              string        `json:"host" validate:"required,max=300" label:"B Series Appliance Host Name" help:"The appliance's host name, without https://."`
	Product           string        `json:"product" validate:"oneof=rs pra" default:"pra" label:"Product"`
	ClientID          string        `json:"client_id" validate:"required,max=200" label:"OAuth Client ID"`
	ClientSecret      engine.Secret `json:"client_secret" binds:"host,client_id,allow_invalid_certs" label:"OAuth Client Secret"`
	Streams           []string      `json:"streams" options:"team=Team activity,vault=Vault account activity,syslog=Syslog" label:"Streams" help:"What to read; all three when none is selected."`
	Interval          int           `json:"interval" validate:"gte=30,lte=86400" default:"300" label:"Polling Interval (seconds)"`
	FirstFetch        int           `json:"first_fetch_minutes" validate:"gte=0,lte=43200" default:"1440" label:"First Fetch (minutes)"`
	MaxPerCycle       int           `json:"max_per_cycle" validate:"gte=1,lte=1000000" default:"10000" label:"Records per Poll"`
	Window            int           `json:"window_minutes" validate:"gte=1,lte=1440" default:"60" label:"Request Window (minutes)" help:"Team and Vault are asked for at most this long a span per request, window after window from the cursor (at most 48 per poll)."`
	AllowInvalidCerts bool          `json:"allow_invalid_certs" label:"Allow Invalid Certificates"`
	DeliverTo         []string      `json:"deliver_to" label:"Deliver To"`
	Disabled          bool          `json:"disabled" label:"Disabled"`
}

// NewSettings returns the defaults.
func NewSettings() *Settings {
	return &Settings{Product: beyondtrust.ProductPRA, Interval: DefaultInterval, FirstFetch: DefaultFirstFetch, MaxPerCycle: DefaultMaxPerCycle, Window: DefaultWindow}
}

// ValidateSettings checks what tags cannot.
func (s *Settings) ValidateSettings() engine.FieldErrors {
	var out engine.FieldErrors
	if msg := hostProblem(s.Host); msg != "" && s.Host != "" {
		out = append(out, engine.FieldError{Field: "host", Message: msg})
	}
	if !s.ClientSecret.IsSet() {
		out = append(out, engine.FieldError{Field: "client_secret", Message: "is required"})
	}
	for _, st := range s.Streams {
		if _, ok := EventName[st]; !ok {
			out = append(out, engine.FieldError{Field: "streams", Message: fmt.Sprintf("%q is not a stream: use team, vault or syslog", st)})
		}
	}
	if s.Product == beyondtrust.ProductRS && slices.Contains(s.Streams, StreamSyslog) {
		out = append(out, engine.FieldError{Field: "streams", Message: "syslog is read from Privileged Remote Access only: " +
			"Remote Support's reporting API documents no Syslog report. Leave syslog out, or send the appliance's syslog to a SIEM directly"})
	}
	return out
}

func hostProblem(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	switch {
	case strings.Contains(h, "://"):
		return "enter the host name only, without https://"
	case strings.ContainsAny(h, "/ \t?#@"):
		return "enter a host name such as access.example.com, without a path"
	}
	return ""
}

// Selected is the streams to poll, in a fixed order. Remote Support has
// no Syslog report: an RS source never reads syslog.
func (s *Settings) Selected() []string {
	all := []string{StreamTeam, StreamVault, StreamSyslog}
	if s.Product == beyondtrust.ProductRS {
		all = all[:2]
	}
	if len(s.Streams) == 0 {
		return all
	}
	var out []string
	for _, st := range all {
		if slices.Contains(s.Streams, st) {
			out = append(out, st)
		}
	}
	return out
}

// ID is one stream's stable id in the store (its cursor row).
func (s *Settings) ID(stream string) string { return Source + "/" + s.Name + "/" + stream }

// Options are the client options of the source's appliance.
func (s *Settings) Options() beyondtrust.Options {
	return beyondtrust.Options{Host: s.Host, ClientID: s.ClientID, ClientSecret: s.ClientSecret.Reveal(),
		Product: s.Product, AllowInvalidCerts: s.AllowInvalidCerts}
}

// fileSource is one appliance entry of a sources file.
type fileSource struct {
	Kind string `json:"kind"` // "appliance"
	Settings
	ClientSecretEnv string `json:"client_secret_env"`
}

func (f *fileSource) SecretRef() (*engine.Secret, string) { return &f.ClientSecret, f.ClientSecretEnv }
func (f *fileSource) Validated() any                      { return &f.Settings }
func (f *fileSource) SourceName() string                  { return f.Name }

// LoadFile reads the appliance sources (entries with "kind": "appliance")
// of a sources file, decoded strictly and validated; other entries are left
// to their own loaders. The client secret comes from the environment
// variable named by client_secret_env, or from the file itself only when no
// one but its owner can read it.
func LoadFile(path string, getenv func(string) (string, bool)) ([]*Settings, error) {
	entries, _, err := sourcefile.Load(path, sourcefile.KindAppliance, "appliance", getenv,
		func() *fileSource { return &fileSource{Settings: *NewSettings()} })
	if err != nil {
		return nil, err
	}
	out := make([]*Settings, len(entries))
	for i, e := range entries {
		out[i] = &e.Settings
	}
	return out, nil
}
