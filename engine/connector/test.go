package connector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/outbound"
	"switchboard/engine/render"
)

// CheckTimeout bounds each Test check; the admin is waiting.
const CheckTimeout = 10 * time.Second

// TimedCheck runs one Test check under CheckTimeout and times it.
func TimedCheck(ctx context.Context, id, label string, run func(ctx context.Context) (status, message, detail string)) engine.Check {
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	start := time.Now()
	status, msg, detail := run(ctx)
	return engine.Check{ID: id, Label: label, Status: status, Message: msg, Detail: detail, Duration: time.Since(start)}
}

// SettingsCheck is the Test button's first line: whether the submitted
// settings validate.
func SettingsCheck(cfg *engine.TestConfig) engine.Check {
	c := engine.Check{ID: "settings", Label: "Settings"}
	if len(cfg.Errors) == 0 {
		c.Status, c.Message = engine.CheckOK, "The settings are valid."
		return c
	}
	c.Status, c.Message, c.Detail = engine.CheckFail, "Some settings are not valid; see the fields marked in the form.", cfg.Errors.Error()
	c.Errors = cfg.Errors
	return c
}

// TemplatesCheck renders the session report and survey templates against
// the sample session, in the report time zone loc (nil: UTC).
func TemplatesCheck(cfg *engine.TestConfig, loc *time.Location) (status, message, detail string) {
	if cfg.Templates == nil {
		return engine.CheckSkipped, "No templates are configured.", ""
	}
	if loc == nil {
		loc = time.UTC
	}
	data := render.NewData(render.SampleSession(), loc)
	for _, name := range []string{render.SessionReport, render.CustomerSurvey, render.RepSurvey} {
		if _, err := cfg.Templates.Render(name, data); err != nil {
			return engine.CheckFail, "The template " + name + " does not render: fix it in Templates.", err.Error()
		}
	}
	if rt, ok := cfg.Templates.(engine.RefusedTemplates); ok {
		if refused := rt.Refused(); len(refused) > 0 {
			return engine.CheckFail, fmt.Sprintf("%d template(s) you saved are refused, so an older version serves: fix them in Templates.", len(refused)), strings.Join(refused, "\n")
		}
	}
	return engine.CheckOK, "The session report and survey templates render.", ""
}

// Reach words the network lines of ExplainNetwork for one connector.
type Reach struct {
	DNS     string // what to check when a name does not resolve: "DNS", "Site and DNS"
	Cert    string // whose certificate: "the Autotask certificate"
	Timeout string // where HTTPS 443 must reach: "Autotask", "the site"
	Refused string // what to check when refused: "HTTPS 443 from this server to Autotask"
}

// ExplainNetwork puts a failure to reach the remote in the admin's words;
// ok is false when err is no network failure.
func ExplainNetwork(err error, w Reach) (message string, ok bool) {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var opErr *net.OpError
	var te interface{ Timeout() bool }
	switch {
	case errors.As(err, &dnsErr):
		return "Cannot resolve " + dnsErr.Name + " — check " + w.DNS + " from this server.", true
	case errors.As(err, &certErr), errors.As(err, &unknownAuthority):
		return "Certificate problem — " + w.Cert + " is not trusted by this server; check for a TLS-inspecting proxy.", true
	case outbound.TimedOut(err) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout()):
		return "Connection timeout — check HTTPS 443 from this server to " + w.Timeout + ".", true
	case errors.As(err, &opErr):
		return "Connection refused — check " + w.Refused + ".", true
	}
	return "", false
}
