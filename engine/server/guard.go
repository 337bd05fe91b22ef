package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// ipExtractor decides where a request comes from, for the login throttle,
// the logs and the intake's allow-list. Without trusted proxies it is the
// socket's address: X-Forwarded-For and X-Real-IP are anyone's to write.
// With them, X-Forwarded-For is read from the right, skipping only the
// listed proxies.
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !strings.Contains(t, "/") {
			ip := net.ParseIP(t)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxy %q: give an IP address or a CIDR range such as 10.0.0.0/8", t)
			}
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			t = fmt.Sprintf("%s/%d", ip, bits)
		}
		_, n, err := net.ParseCIDR(t)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: give an IP address or a CIDR range such as 10.0.0.0/8", t)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// hostGuard refuses admin requests whose Host header is not this machine
// (localhost or a loopback address), the address the admin listener is
// bound to, or one of the configured public names: a DNS-rebinding page
// reaches the listener under its own name and is refused. Health checks
// answer under any name; they reveal nothing.
func hostGuard(public []string, bound net.Addr) echo.MiddlewareFunc {
	allowed := map[string]bool{}
	for _, n := range public {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			allowed[n] = true
		}
	}
	if tcp, ok := bound.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
		allowed[tcp.IP.String()] = true
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || hostAllowed(req.Host, allowed) {
				return next(c)
			}
			return c.String(http.StatusMisdirectedRequest, "This host name is not one of Switchboard's admin names; see --admin-public-names.\n")
		}
	}
}

func hostAllowed(hostport string, allowed map[string]bool) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || allowed[ip.String()]
	}
	return allowed[host]
}
