package intake

import (
	"net/netip"
	"net/url"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
)

// Tokens lists the outbound event tokens an Appliance Id accepts: one per
// configuration of that id that sets one, so that a new token can be added
// before the old one is removed. None: the id needs no token.
type Tokens interface {
	IntakeTokens(applianceID string) []engine.Secret
}

// TokenParam is the query parameter of the recipient URL that carries the
// token. The appliance's HTTP recipient has a URL and nothing else a
// receiver could check (no headers, no client certificate), so the token
// travels in the URL, beside the appliance= parameter.
const TokenParam = "token"

// addressAllowed reports whether the post's client address is in the
// allow-list (an empty list allows every address). The address is the
// socket's, or the one the trusted proxies report (remoteIP).
func (h *Handler) addressAllowed(c echo.Context) bool {
	if len(h.opts.Allow) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(remoteIP(c))
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range h.opts.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// checkToken returns the metric reason and message of a post whose token
// the Appliance Id does not accept, or "". Only the URL's token counts: a
// posted field is stored with the event, and a token must never be.
func (h *Handler) checkToken(appliance string, query url.Values) (string, string) {
	var accepted []engine.Secret
	if h.opts.Tokens != nil {
		accepted = h.opts.Tokens.IntakeTokens(appliance)
	}
	if len(accepted) == 0 && !h.opts.RequireToken {
		return "", ""
	}
	presented := query.Get(TokenParam)
	switch {
	case presented == "":
		return "token_missing", "this appliance's outbound events need the token= of the recipient URL shown on its configuration page"
	case !engine.IntakeTokenMatches(presented, accepted):
		return "token_invalid", "the token= of the URL is not one this appliance's configurations accept"
	}
	return "", ""
}
