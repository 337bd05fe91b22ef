package engine

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Event names as the appliance posts them.
const (
	EventSessionBegin        = "support_conference_begin"
	EventSessionEnd          = "support_conference_end"
	EventMemberAdded         = "support_conference_member_added"
	EventMemberDeparted      = "support_conference_member_departed"
	EventOwnerChanged        = "support_conference_owner_changed"
	EventCustomerSurveyDone  = "support_conference_customer_exit_survey_completed"
	EventRepSurveyDone       = "support_conference_rep_exit_survey_completed"
	ProductRemoteSupport     = "rs"
	ProductPrivilegedAccess  = "pra"
	DefaultApplianceID       = "Default"
	DefaultPollingInterval   = 60
	DefaultRetryAttemptLimit = 24
)

var eventLabels = map[string]string{
	EventSessionBegin:       "Support Session Start",
	EventSessionEnd:         "Support Session End",
	EventMemberAdded:        "Someone Joins a Support Session",
	EventMemberDeparted:     "Someone Leaves a Support Session",
	EventOwnerChanged:       "Support Session Ownership Changes",
	EventCustomerSurveyDone: "Customer Exit Survey is Completed",
	EventRepSurveyDone:      "Representative Survey is Completed",
}

// EventLabel is the name the appliance's "Events to Send" list uses.
func EventLabel(event string) string {
	if l, ok := eventLabels[event]; ok {
		return l
	}
	return event
}

// ApplianceSettings is the section every configuration has, whatever its
// plugin, in the words BeyondTrust admins know from the Middleware Engine.
type ApplianceSettings struct {
	Name                string   `json:"name" validate:"required,max=100" label:"Plugin Configuration Name" help:"A name that tells this configuration apart, e.g. the customer or appliance it serves."`
	ApplianceID         string   `json:"appliance_id" validate:"required,max=64,printascii" default:"Default" label:"Appliance Id" help:"Must match the appliance= value of the outbound event URL on the B Series Appliance. Required even when only polling is used."`
	IntakeToken         Secret   `json:"intake_token" binds:"-" label:"Outbound Event Token" help:"Optional. A random value (16 to 128 letters, digits, '-', '_', '.' or '~'; e.g. the output of openssl rand -hex 32) that the appliance must send in the outbound event URL as token=. Once any configuration of this Appliance Id has one, posts without a valid token are refused; every configuration's token of the Appliance Id is accepted, so a new one can be added before the old one is removed."`
	Host                string   `json:"host" validate:"required,max=253" label:"B Series Appliance Host Name" placeholder:"support.example.com" help:"The appliance's host name only: no https:// and no /login."`
	ClientID            string   `json:"client_id" validate:"max=200" label:"Integration API OAuth Client ID" help:"From /login > Management > API Configuration."`
	ClientSecret        Secret   `json:"client_secret" binds:"host,client_id,use_non_tls,allow_invalid_certificates" label:"Integration API OAuth Client Secret"`
	Locale              string   `json:"locale" validate:"required" default:"en-us" options:"en-us=English (US),en-gb=English (UK),de=Deutsch,es=Español,es-la=Español (Latinoamérica),fi=Suomi,fr=Français,fr-fr=Français (France),it=Italiano,ja=日本語,ko=한국어,nl=Nederlands,pt-br=Português (Brasil),sv=Svenska,tr=Türkçe,zh-hans=简体中文,zh-hant=繁體中文" kind:"select" label:"Locale Used for API Calls" help:"Language of the session data the appliance returns (chat system messages, survey labels)."`
	Disabled            bool     `json:"disabled" label:"Disabled" help:"A disabled configuration receives no deliveries and is not polled."`
	AllowInvalidCerts   bool     `json:"allow_invalid_certificates" label:"Allow Invalid Certificates" help:"Accept a self-signed or expired appliance certificate. Only for test appliances."`
	UseNonTLS           bool     `json:"use_non_tls" label:"Use Non-TLS Connections" help:"Talk plain HTTP to the appliance. Not possible with OAuth."`
	Product             string   `json:"product" validate:"required,oneof=rs pra" default:"rs" kind:"select" options:"rs=Remote Support,pra=Privileged Remote Access" label:"Product"`
	OutboundEvents      []string `json:"outbound_events" options:"@events" label:"Outbound Event Types" help:"Events this configuration handles when the appliance posts them."`
	PollingEvents       []string `json:"polling_events" options:"@events" label:"Polling Event Types" help:"Events Switchboard finds by polling the appliance's reporting API. Leave empty to not poll."`
	PollingInterval     int      `json:"polling_interval" validate:"gte=10,lte=86400" default:"60" label:"Polling Interval (seconds)"`
	PollingBackfill     int      `json:"polling_backfill_hours" validate:"gte=0,lte=720" default:"0" label:"Polling Backfill (hours)" help:"When polling starts, also pick up sessions that ended this many hours before."`
	RetryAttemptLimit   int      `json:"retry_attempt_limit" validate:"gte=0,lte=100" default:"24" label:"Retry Attempt Limit" help:"How many times a failed delivery is tried again before it is marked failed. The default 24 spans about 31 hours (10 s, 30 s, 1 min, … then every 2 hours)."`
	RetryOutboundEvents []string `json:"retry_outbound_events" options:"@events" label:"Retry Outbound Event Types" help:"Posted events whose failed deliveries are retried. Others fail at the first error."`
	RetryPollingEvents  []string `json:"retry_polling_events" options:"@events" label:"Retry Polling Event Types" help:"Polled events whose failed deliveries are retried."`
	AlertWebhookURL     string   `json:"alert_webhook_url" validate:"max=2000" label:"Alert Webhook URL" placeholder:"https://hooks.example.com/switchboard" help:"Optional. Told by a signed JSON POST when deliveries of this configuration fail for good, or its polling keeps failing. https only, except to this machine."`
	AlertWebhookSecret  Secret   `json:"alert_webhook_secret" binds:"alert_webhook_url" label:"Alert Webhook Secret" help:"Signs each alert: X-Switchboard-Signature is sha256= and the hex HMAC-SHA256 of the X-Switchboard-Timestamp value, a dot and the body (as for the SIEM webhook)."`
	AlertEmails         string   `json:"alert_emails" validate:"max=1000" label:"Alert E-mail Recipients" placeholder:"noc@example.com, oncall@example.com" help:"Optional, comma-separated. Sent through the engine's SMTP server (serve --smtp-addr), always over STARTTLS."`
	AlertInterval       int      `json:"alert_interval_minutes" validate:"gte=0,lte=10080" default:"60" label:"Alert At Most Every (minutes)" help:"Failures that happen meanwhile are counted into the next alert. 0 means 60."`
	AlertPollingAfter   int      `json:"alert_polling_minutes" validate:"gte=0,lte=10080" default:"30" label:"Alert When Polling Fails For (minutes)" help:"How long polling must keep failing before an alert. 0 means 30."`
}

// Alert defaults, for configurations saved before alerts existed (0).
const (
	DefaultAlertInterval     = 60 * time.Minute
	DefaultAlertPollingAfter = 30 * time.Minute
)

// AlertEvery is the least time between two alerts of the configuration.
func (a *ApplianceSettings) AlertEvery() time.Duration {
	if a.AlertInterval <= 0 {
		return DefaultAlertInterval
	}
	return time.Duration(a.AlertInterval) * time.Minute
}

// PollingAlertAfter is how long polling fails before it is alerted.
func (a *ApplianceSettings) PollingAlertAfter() time.Duration {
	if a.AlertPollingAfter <= 0 {
		return DefaultAlertPollingAfter
	}
	return time.Duration(a.AlertPollingAfter) * time.Minute
}

// AlertRecipients are the e-mail addresses alerts go to.
func (a *ApplianceSettings) AlertRecipients() []string {
	list, _ := mail.ParseAddressList(a.AlertEmails)
	out := make([]string, 0, len(list))
	for _, m := range list {
		out = append(out, m.Address)
	}
	return out
}

// DefaultApplianceSettings returns the values a new configuration starts with.
func DefaultApplianceSettings(events []string) ApplianceSettings {
	return ApplianceSettings{
		ApplianceID:         DefaultApplianceID,
		Locale:              "en-us",
		Product:             ProductRemoteSupport,
		OutboundEvents:      slices.Clone(events),
		PollingInterval:     DefaultPollingInterval,
		RetryAttemptLimit:   DefaultRetryAttemptLimit,
		RetryOutboundEvents: slices.Clone(events),
		RetryPollingEvents:  slices.Clone(events),
		AlertInterval:       int(DefaultAlertInterval / time.Minute),
		AlertPollingAfter:   int(DefaultAlertPollingAfter / time.Minute),
	}
}

// ValidateSettings checks what the tags cannot: the host's shape and the
// TLS/OAuth rule.
func (a *ApplianceSettings) ValidateSettings() FieldErrors {
	var out FieldErrors
	if msg := hostProblem(a.Host); msg != "" {
		out = append(out, FieldError{Field: "host", Message: msg})
	}
	if a.UseNonTLS && (a.ClientID != "" || a.ClientSecret.IsSet()) {
		out = append(out, FieldError{Field: "use_non_tls", Message: "When using OAuth authentication, TLS cannot be disabled"})
	}
	if msg := IntakeTokenProblem(a.IntakeToken.Reveal()); msg != "" {
		out = append(out, FieldError{Field: "intake_token", Message: msg})
	}
	if a.ClientID != "" && !a.ClientSecret.IsSet() {
		out = append(out, FieldError{Field: "client_secret", Message: "is required when an OAuth Client ID is set"})
	}
	return append(out, a.alertProblems()...)
}

func (a *ApplianceSettings) alertProblems() FieldErrors {
	var out FieldErrors
	if a.AlertWebhookURL != "" {
		if msg := WebhookURLProblem(a.AlertWebhookURL); msg != "" {
			out = append(out, FieldError{Field: "alert_webhook_url", Message: msg})
		}
		if !a.AlertWebhookSecret.IsSet() {
			out = append(out, FieldError{Field: "alert_webhook_secret", Message: "is required with an alert webhook: every alert is signed with it"})
		}
	}
	if strings.TrimSpace(a.AlertEmails) != "" {
		list, err := mail.ParseAddressList(a.AlertEmails)
		switch {
		case err != nil:
			out = append(out, FieldError{Field: "alert_emails", Message: "must be e-mail addresses separated by commas (" + err.Error() + ")"})
		case len(list) > 20:
			out = append(out, FieldError{Field: "alert_emails", Message: "at most 20 recipients"})
		}
	}
	return out
}

// WebhookURLProblem says what is wrong with a webhook address: it must be
// an absolute https URL without credentials, or http to this machine.
func WebhookURLProblem(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "must be an https:// address"
	}
	if u.User != nil {
		return "must not carry a user name or password; the secret signs each request"
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return "must be https:// (plain http only to this machine)"
	}
	return ""
}

// IsLoopbackHost reports whether host names this machine: localhost or a
// loopback address, the only places secrets may travel in plain HTTP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidateEvents checks that every selected event type is one the plugin
// handles.
func (a *ApplianceSettings) ValidateEvents(known []string) FieldErrors {
	var out FieldErrors
	check := func(field string, list []string) {
		for _, e := range list {
			if !slices.Contains(known, e) {
				out = append(out, FieldError{Field: field, Message: fmt.Sprintf("%q is not an event type this plugin handles", e)})
				return
			}
		}
	}
	check("outbound_events", a.OutboundEvents)
	check("polling_events", a.PollingEvents)
	check("retry_outbound_events", a.RetryOutboundEvents)
	check("retry_polling_events", a.RetryPollingEvents)
	return out
}

func hostProblem(h string) string {
	if h == "" {
		return "" // "required" already says it
	}
	lower := strings.ToLower(h)
	for _, scheme := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(lower, scheme); ok {
			return fmt.Sprintf("enter the host name only, without %s: %s", scheme, strings.TrimSuffix(strings.TrimSuffix(rest, "/"), "/login"))
		}
	}
	if i := strings.IndexByte(lower, '/'); i >= 0 {
		if strings.HasPrefix(lower[i:], "/login") {
			return "remove /login and enter the root host name: " + h[:i]
		}
		return "enter the host name only, without a path: " + h[:i]
	}
	if strings.ContainsAny(h, " \t?#@") {
		return "must be a host name such as support.example.com"
	}
	return ""
}

// Subscribes reports whether the configuration takes event from source
// ("outbound" or "poll").
func (a *ApplianceSettings) Subscribes(event, source string) bool {
	if source == SourcePoll {
		return slices.Contains(a.PollingEvents, event)
	}
	return slices.Contains(a.OutboundEvents, event)
}

// Retries reports whether failed deliveries of event from source are retried.
func (a *ApplianceSettings) Retries(event, source string) bool {
	if source == SourcePoll {
		return slices.Contains(a.RetryPollingEvents, event)
	}
	return slices.Contains(a.RetryOutboundEvents, event)
}

// MaxAttempts is the total number of tries a delivery of event gets.
func (a *ApplianceSettings) MaxAttempts(event, source string) int {
	if !a.Retries(event, source) {
		return 1
	}
	return 1 + a.RetryAttemptLimit
}
