package xds

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func v(major, minor, patch int) ConsulVersion {
	return ConsulVersion{Major: major, Minor: minor, Patch: patch}
}

// TestFeatureSwitches checks every version switch on both sides of its first version,
// in every minor line it names, and in the lines around them.
func TestFeatureSwitches(t *testing.T) {
	tests := []struct {
		f         feature
		name      string
		without   []ConsulVersion
		with      []ConsulVersion
		withoutRC []ConsulVersion // pre-releases of a first version
	}{
		{
			f: featureJoinHostPort, name: "listener names with net.JoinHostPort",
			without:   []ConsulVersion{v(1, 14, 8), v(1, 14, 11), v(1, 18, 9), v(1, 20, 6), v(1, 21, 0), v(1, 21, 1)},
			with:      []ConsulVersion{v(1, 21, 2), v(1, 21, 5), v(1, 22, 0), {Major: 1, Minor: 22, Pre: "rc1"}},
			withoutRC: []ConsulVersion{{Major: 1, Minor: 21, Patch: 2, Pre: "rc1"}},
		},
		{
			f: featureDualStackDNS, name: "DNS lookup family from the agent's bind address",
			without:   []ConsulVersion{v(1, 14, 8), v(1, 21, 5), v(1, 21, 99)},
			with:      []ConsulVersion{v(1, 22, 0), v(1, 22, 3)},
			withoutRC: []ConsulVersion{{Major: 1, Minor: 22, Pre: "rc1"}},
		},
		{
			f: featureDualStackLoopback, name: "an empty bind address on ::1 for a dual-stack agent",
			without:   []ConsulVersion{v(1, 14, 8), v(1, 21, 5)},
			with:      []ConsulVersion{v(1, 22, 0), v(1, 22, 3)},
			withoutRC: []ConsulVersion{{Major: 1, Minor: 22, Pre: "rc1"}},
		},
		{
			f: featureDualStackAny, name: "the default bind on :: for a dual-stack agent",
			without: []ConsulVersion{v(1, 14, 8), v(1, 21, 5)},
			with:    []ConsulVersion{{Major: 1, Minor: 22, Pre: "rc1"}, {Major: 1, Minor: 22, Pre: "rc2"}, v(1, 22, 0)},
		},
		{
			f: featureFetchTimeout, name: "xds_fetch_timeout_ms",
			without:   []ConsulVersion{v(1, 14, 8), v(1, 14, 11), v(1, 15, 0), v(1, 15, 7), v(1, 16, 0), v(1, 16, 3), v(1, 17, 0)},
			with:      []ConsulVersion{v(1, 15, 8), v(1, 15, 10), v(1, 16, 4), v(1, 16, 6), v(1, 17, 1), v(1, 18, 0), v(1, 22, 0)},
			withoutRC: []ConsulVersion{{Major: 1, Minor: 17, Patch: 1, Pre: "rc1"}},
		},
		{
			f: featureLimits, name: "upstream limits on the local peering-server cluster",
			without:   []ConsulVersion{v(1, 14, 8), v(1, 15, 20), v(1, 16, 9), v(1, 17, 9), v(1, 18, 0), v(1, 18, 1)},
			with:      []ConsulVersion{v(1, 18, 2), v(1, 18, 3), v(1, 19, 0), v(1, 22, 0)},
			withoutRC: []ConsulVersion{{Major: 1, Minor: 18, Patch: 2, Pre: "rc1"}},
		},
	}
	covered := map[feature]bool{}
	for _, tt := range tests {
		covered[tt.f] = true
		for _, ver := range append(tt.without, tt.withoutRC...) {
			assert.False(t, tt.f.has(ver), "%s: %s must not have it", tt.name, ver)
			assert.False(t, profileOf(ver).on[tt.f], "%s: profile %s", tt.name, ver)
		}
		for _, ver := range tt.with {
			assert.True(t, tt.f.has(ver), "%s: %s must have it", tt.name, ver)
			assert.True(t, profileOf(ver).on[tt.f], "%s: profile %s", tt.name, ver)
		}
	}
	for f := range featureCount {
		assert.True(t, covered[f], "feature %d has no row in this table", f)
	}
}

// TestFirstVersionsSorted checks the table's invariant: one entry per minor line, in
// ascending order.
func TestFirstVersionsSorted(t *testing.T) {
	for f, firsts := range firstVersions {
		for i := 1; i < len(firsts); i++ {
			prev, cur := firsts[i-1], firsts[i]
			assert.True(t, prev.Major < cur.Major || prev.Major == cur.Major && prev.Minor < cur.Minor,
				"feature %d: %s then %s", f, prev, cur)
		}
		for _, first := range firsts {
			assert.True(t, first.Supported(), "feature %d: %s", f, first)
		}
	}
}

func TestDualStack(t *testing.T) {
	for addr, want := range map[string]bool{
		"":                 false,
		"0.0.0.0":          false,
		"10.0.0.1":         false,
		"::ffff:10.0.0.1":  false, // IPv4-mapped: Consul's To4 sees IPv4
		"::":               true,
		"2001:db8::1":      true,
		"fe80::1%eth0":     true,
		"not-an-address":   false,
		"[2001:db8::1]":    false,
		"2001:db8::1:8300": true, // still an IPv6 literal
	} {
		assert.Equal(t, want, dualStack(addr), "bind address %q", addr)
	}
}
