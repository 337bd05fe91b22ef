package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/engine/beyondtrust"
)

// Appliance check IDs, in the order ApplianceChecks runs them.
const (
	CheckApplianceTLS         = "appliance_tls"
	CheckApplianceOAuth       = "appliance_oauth"
	CheckAppliancePermissions = "appliance_permissions"
)

// applianceCheckTimeout bounds each appliance check, so that the whole Test
// stays within about 15 seconds even against an appliance that hangs.
const applianceCheckTimeout = 5 * time.Second

// clockSkewWarning is how far the appliance's clock may differ from ours
// before the Test warns; polling reads the appliance clock, but an admin
// comparing timestamps should know.
const clockSkewWarning = 2 * time.Minute

// ClientOptions turns the appliance settings into client options.
func (a *ApplianceSettings) ClientOptions() beyondtrust.Options {
	return beyondtrust.Options{
		Host:              strings.TrimSpace(a.Host),
		ClientID:          a.ClientID,
		ClientSecret:      a.ClientSecret.Reveal(),
		Locale:            a.Locale,
		Product:           a.Product,
		AllowInvalidCerts: a.AllowInvalidCerts,
		UseNonTLS:         a.UseNonTLS,
	}
}

// ApplianceChecks runs the appliance part of the Test button: the host
// resolves and completes a TLS handshake (appliance_tls), the OAuth client
// credentials get a token (appliance_oauth), and the API account may read
// session reports and, when needCommand, run commands
// (appliance_permissions). A check that cannot run because an earlier one
// failed is skipped. It uses cfg.Client, or a client built from
// cfg.Appliance when that is nil.
func ApplianceChecks(ctx context.Context, cfg *TestConfig, needCommand bool) []Check {
	client := cfg.Client
	if client == nil {
		client = beyondtrust.NewClient(cfg.Appliance.ClientOptions(), nil)
	}
	checks := []Check{
		runCheck(ctx, CheckApplianceTLS, "Appliance reachable (DNS, TCP, TLS)", func(ctx context.Context) (string, string, error) {
			return checkTLS(ctx, client, &cfg.Appliance)
		}).Blame("host"),
	}
	if cfg.Appliance.ClientID == "" {
		checks = append(checks, Check{ID: CheckApplianceOAuth, Label: "API authentication (OAuth)", Status: CheckFail,
			Message: "No OAuth Client ID is set — create an API account in /login > Management > API Configuration"}.Blame("client_id"))
	} else {
		checks = append(checks, dependent(ctx, checks, CheckApplianceOAuth, "API authentication (OAuth)", func(ctx context.Context) (string, string, error) {
			if err := client.Token(ctx); err != nil {
				return "", "", err
			}
			return CheckOK, "Token obtained for client id " + cfg.Appliance.ClientID, nil
		}).Blame("client_id", "client_secret"))
	}
	checks = append(checks, dependent(ctx, checks, CheckAppliancePermissions, "API permissions", func(ctx context.Context) (string, string, error) {
		return checkPermissions(ctx, client, needCommand)
	}))
	return checks
}

// dependent runs fn as runCheck does, unless an earlier check failed or was
// skipped.
func dependent(ctx context.Context, before []Check, id, label string, fn func(ctx context.Context) (status, message string, err error)) Check {
	for _, c := range before {
		if c.Status == CheckFail || c.Status == CheckSkipped {
			return Check{ID: id, Label: label, Status: CheckSkipped, Message: "Skipped: " + strings.ToLower(c.Label[:1]) + c.Label[1:] + " did not pass"}
		}
	}
	return runCheck(ctx, id, label, fn)
}

// runCheck times fn and turns its outcome into a Check; an error fails the
// check with the troubleshooting wording and the upstream text as detail.
func runCheck(ctx context.Context, id, label string, fn func(ctx context.Context) (status, message string, err error)) Check {
	ctx, cancel := context.WithTimeout(ctx, applianceCheckTimeout)
	defer cancel()
	start := time.Now()
	status, msg, err := fn(ctx)
	c := Check{ID: id, Label: label, Status: status, Message: msg, Duration: time.Since(start)}
	if err != nil {
		c.Status, c.Message, c.Detail = CheckFail, beyondtrust.Explain(err), err.Error()
	}
	return c
}

func checkTLS(ctx context.Context, client ApplianceProbe, a *ApplianceSettings) (string, string, error) {
	if err := client.CheckTLS(ctx); err != nil {
		return "", "", err
	}
	switch {
	case a.UseNonTLS:
		return CheckWarn, "Connected to " + client.Host() + " over plain HTTP (Use Non-TLS Connections is on)", nil
	case a.AllowInvalidCerts:
		return CheckWarn, "Connected to " + client.Host() + "; the certificate was not verified (Allow Invalid Certificates is on)", nil
	}
	return CheckOK, "Connected to " + client.Host() + "; certificate trusted", nil
}

func checkPermissions(ctx context.Context, client ApplianceProbe, needCommand bool) (string, string, error) {
	info, err := client.APIInfo(ctx)
	var be *beyondtrust.Error
	if errors.As(err, &be) && be.Kind == beyondtrust.KindPermission {
		// Without command API access get_api_info is refused; a cheap
		// listing still tells whether reports can be read.
		if needCommand {
			return "", "", err
		}
		if _, lerr := client.EndedSince(ctx, time.Now().Add(-time.Minute)); lerr != nil {
			return "", "", lerr
		}
		return CheckWarn, "Session reports can be read; get_api_info is not permitted, so polling uses this server's clock", nil
	}
	if err != nil {
		return "", "", err
	}
	need := beyondtrust.NeedRSReporting
	if client.Product() == beyondtrust.ProductPRA {
		need = beyondtrust.NeedPRAReporting
	}
	var missing []string
	if !info.HasReporting() {
		missing = append(missing, need)
	}
	if needCommand && !info.HasFullCommand() {
		missing = append(missing, beyondtrust.NeedCommand)
	}
	if len(missing) > 0 {
		return CheckFail, "Permission denied — in the API account, enable " + strings.Join(missing, " and "), nil
	}
	msg := fmt.Sprintf("API %s: session reports readable", info.Version)
	if needCommand {
		msg += ", command API full access"
	}
	if skew := time.Since(info.Timestamp); !info.Timestamp.IsZero() && (skew > clockSkewWarning || skew < -clockSkewWarning) {
		return CheckWarn, msg + fmt.Sprintf("; the appliance clock differs from this server's by %s", skew.Round(time.Second)), nil
	}
	return CheckOK, msg, nil
}
