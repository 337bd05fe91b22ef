package server

import (
	"net"
	"os"
	"strings"
)

// listenURL is the URL of a listener, with its host replaced by one an
// appliance can reach when the listener is on every interface: 127.0.0.1
// would send the appliance to itself.
func listenURL(scheme string, ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	if !addr.IP.IsUnspecified() {
		return scheme + "://" + hostPort(ln)
	}
	name, _ := os.Hostname()
	return scheme + "://" + net.JoinHostPort(reachableHost(outwardAddrs(), name), portOf(addr))
}

func portOf(addr *net.TCPAddr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}

// outwardAddrs are this host's global unicast addresses, IPv4 first.
func outwardAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var v4, v6 []string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || !ipn.IP.IsGlobalUnicast() {
			continue
		}
		if ipn.IP.To4() != nil {
			v4 = append(v4, ipn.IP.String())
		} else {
			v6 = append(v6, ipn.IP.String())
		}
	}
	return append(v4, v6...)
}

// reachableHost picks the name an appliance should use for this host: its
// full DNS name when it has one, else its first outward address, else a
// placeholder the admin must replace (a short name rarely resolves on the
// appliance).
func reachableHost(addrs []string, hostname string) string {
	if strings.Contains(hostname, ".") && hostname != "localhost" && !strings.HasSuffix(hostname, ".localdomain") {
		return hostname
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
			return a
		}
	}
	return "<this-host>"
}
