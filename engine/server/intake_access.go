package server

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"switchboard/engine"
	"switchboard/engine/intake"
	"switchboard/engine/service"
)

// intakeTokens gives the intake each Appliance Id's tokens from the routing
// snapshot, which every configuration change reloads.
type intakeTokens struct{ routes *service.Routes }

// IntakeTokens lists the tokens of every configuration of applianceID,
// disabled ones included: disabling a configuration must not open its
// Appliance Id to posts without a token.
func (t intakeTokens) IntakeTokens(applianceID string) []engine.Secret {
	var out []engine.Secret
	for _, c := range t.routes.Configs() {
		if c.Appliance.ApplianceID == applianceID && c.Appliance.IntakeToken.IsSet() {
			out = append(out, c.Appliance.IntakeToken)
		}
	}
	return out
}

// parseAllowList reads --intake-allow: addresses or CIDR ranges.
func parseAllowList(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(item, "/") {
			p, err = netip.ParsePrefix(item)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(item); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("--intake-allow %q: give an IP address or a CIDR range such as 10.0.0.0/8", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// IntakeBaseURL is where the appliance reaches the intake: the configured
// public URL, or else this listener's address, with this host's name or
// outward address when it listens on every interface.
func (s *Server) IntakeBaseURL() string {
	if s.opts.IntakePublicURL != "" {
		return strings.TrimSuffix(s.opts.IntakePublicURL, "/")
	}
	scheme := "http"
	if s.certs != nil {
		scheme = "https"
	}
	return listenURL(scheme, s.intakeLn)
}

// IntakeRecipientURL is the URL to paste into the appliance's HTTP
// recipient for an Appliance Id, with its token when one is set. It holds
// the token: show it to the admin only, and never log it.
func (s *Server) IntakeRecipientURL(applianceID string, token engine.Secret) string {
	q := "appliance=" + url.QueryEscape(applianceID)
	if token.IsSet() {
		q += "&" + intake.TokenParam + "=" + url.QueryEscape(token.Reveal())
	}
	return s.IntakeBaseURL() + intake.Path + "?" + q
}

// checkPublicURL refuses an --intake-public-url that is not an absolute
// http(s) URL without a query.
func checkPublicURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
		return fmt.Errorf("--intake-public-url %q: give the base URL the appliance reaches the intake at, such as https://switchboard.example.com:8180", u)
	}
	return nil
}
