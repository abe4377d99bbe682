package peering

import (
	"errors"
	"fmt"
)

// ErrInvalidServerName is the error wrapped when a peer server name cannot be used as a
// TLS server name (SNI) match or an Envoy cluster name.
var ErrInvalidServerName = errors.New("peering: invalid server name")

// ServerName returns the TLS server name of a Consul cluster's servers for peering
// traffic: "server.<datacenter>.peering.<trust-domain>". A gateway routes on it, and a
// peering token carries it as ServerName.
//
// The trust domain is the CA's trust domain (GET /v1/connect/ca/roots → TrustDomain),
// usually "<cluster-uuid>.consul".
func ServerName(datacenter, trustDomain string) string {
	return "server." + datacenter + ".peering." + trustDomain
}

// CheckServerName returns nil if name is a valid DNS name that can be used as an SNI
// match: at most 253 bytes, non-empty labels of at most 63 bytes made of letters,
// digits, '-' and '_' (Consul's trust domains are UUIDs, so '_' never appears in
// practice, but it is accepted because SNI matching is byte-wise), and no wildcard.
// Otherwise the error wraps [ErrInvalidServerName] and says why.
func CheckServerName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidServerName)
	case len(name) > 253:
		return fmt.Errorf("%w: %d bytes, longer than 253", ErrInvalidServerName, len(name))
	case validLabels(name):
		return nil
	}
	return checkLabels(name)
}

// labelByte marks the bytes a label may hold: letters, digits, '-' and '_'.
var labelByte = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	}
	return t
}()

// validLabels reports whether name is dot-separated labels of 1 to 63 allowed bytes.
// It is the fast path of [checkLabels], which says what is wrong when this is false.
func validLabels(name string) bool {
	n := 0 // bytes in the current label
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if n == 0 {
				return false
			}
			n = 0
		case !labelByte[c] || n == 63:
			return false
		default:
			n++
		}
	}
	return n > 0
}

// checkLabels checks each dot-separated label of name.
func checkLabels(name string) error {
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		if err := checkLabel(name[start:i]); err != nil {
			return fmt.Errorf("%w %q: %s", ErrInvalidServerName, name, err)
		}
		start = i + 1
	}
	return nil
}

func checkLabel(label string) error {
	switch {
	case label == "":
		return errors.New("empty label")
	case len(label) > 63:
		return fmt.Errorf("label of %d bytes, longer than 63", len(label))
	}
	for i := 0; i < len(label); i++ {
		if c := label[i]; !labelByte[c] {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}
