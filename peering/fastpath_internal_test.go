package peering

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// slowParseAddress is parseAddress without its fast path.
func slowParseAddress(s string) (Address, bool, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Address{}, false, err
	}
	n, err := parsePortSlow(port)
	if err != nil {
		return Address{}, false, err
	}
	if net.ParseIP(host) != nil {
		return Address{Host: host, Port: n}, true, nil
	}
	return Address{}, false, errors.New("not an IP")
}

func parsePortSlow(s string) (uint32, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, ErrBadPort
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
		if n > 65535 {
			return 0, ErrBadPort
		}
	}
	if n == 0 {
		return 0, ErrBadPort
	}
	return uint32(n), nil
}

// slowValidLabels is checkLabels' verdict, label by label.
func slowValidLabels(name string) bool {
	for label := range strings.SplitSeq(name, ".") {
		if checkLabel(label) != nil {
			return false
		}
	}
	return true
}

var fastPathInputs = []string{
	"10.0.0.1:8443", "10.0.0.1:0", "10.0.0.1:65535", "10.0.0.1:65536", "10.0.0.1:08443",
	"10.0.0.1:000008443", "10.0.0.1:+8443", "10.0.0.1:", ":8443", "10.0.0.1", "010.0.0.1:8443",
	"10.0.0.256:8443", "[10.0.0.1]:8443", "[::1]:8443", "::1:8443", "::ffff:10.0.0.1:8443",
	"[::ffff:10.0.0.1]:8443", "[fe80::1%eth0]:8443", "10.0.0.1%eth0:8443", "host:8443",
	"10.0.0.1:84 43", " 10.0.0.1:8443", "10.0.0.1:8443\n", "1.2.3.4:5:6",
}

var labelInputs = []string{
	"server.dc1.peering.11111111-2222-3333-4444-555555555555.consul", "a", "", ".", "a.", ".a",
	"a..b", "*.consul", "a b", "a_b-c", strings.Repeat("a", 63), strings.Repeat("a", 64),
	strings.Repeat("a", 63) + "." + strings.Repeat("b", 64), "é.consul", "a\x00b",
}

// TestFastPathsAgree checks that every input a fast path accepts is accepted the same
// way by the strict path, and that the label fast path gives the strict verdict.
func TestFastPathsAgree(t *testing.T) {
	for _, s := range fastPathInputs {
		checkAddressFastPath(t, s)
	}
	for _, s := range labelInputs {
		checkLabelsFastPath(t, s)
	}
}

// FuzzFastPaths checks the same agreements as TestFastPathsAgree on any string.
func FuzzFastPaths(f *testing.F) {
	for _, s := range append(fastPathInputs, labelInputs...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAddressFastPath(t, s)
		checkLabelsFastPath(t, s)
	})
}

func checkAddressFastPath(t *testing.T, s string) {
	t.Helper()
	fast, ok := parseIPv4Port(s)
	slow, isIP, err := slowParseAddress(s)
	if ok && (err != nil || !isIP || fast != slow) {
		t.Errorf("parseIPv4Port(%q) = %v, but the strict path gives %v, %v, %v", s, fast, slow, isIP, err)
	}
	got, gotIP, gotErr := parseAddress(s)
	if strictIP, gotAsIP := err == nil && isIP, gotErr == nil && gotIP; strictIP != gotAsIP || gotAsIP && got != slow {
		t.Errorf("parseAddress(%q) = %v, %v, %v; the strict IP path gives %v, %v", s, got, gotIP, gotErr, slow, err)
	}
}

func checkLabelsFastPath(t *testing.T, s string) {
	t.Helper()
	if got, want := validLabels(s), s != "" && slowValidLabels(s); got != want {
		t.Errorf("validLabels(%q) = %v, want %v", s, got, want)
	}
	if got, want := checkLabels(s) == nil, slowValidLabels(s); s != "" && got != want {
		t.Errorf("checkLabels(%q) ok = %v, want %v", s, got, want)
	}
}
