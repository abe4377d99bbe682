package xds

import (
	"fmt"
	"net/netip"

	"github.com/peeringgw/peeringgw/peering"
)

// feature is one version-dependent rule of generation. RULES.md ("Version-dependent
// rules") gives the evidence for each first version.
type feature int

const (
	// featureJoinHostPort: listener names are "<bind>:" + net.JoinHostPort(address,
	// port), so an IPv6 address is bracketed; before, "<bind>:<address>:<port>".
	featureJoinHostPort feature = iota
	// featureDualStackDNS: hostname (STRICT_DNS) peer clusters resolve IPv4 and IPv6
	// (ALL) when the agent's bind address is IPv6; before, and otherwise, V4_ONLY.
	featureDualStackDNS
	// featureDualStackLoopback: an empty tagged or custom bind address listens on ::1
	// when the agent is dual-stack; before, and otherwise, on 127.0.0.1.
	featureDualStackLoopback
	// featureDualStackAny: the default bind of a gateway with no service address
	// listens on :: when the agent is dual-stack; before, and otherwise, on 0.0.0.0.
	featureDualStackAny
	// featureFetchTimeout: the gateway's xds_fetch_timeout_ms sets the initial fetch
	// timeout of its EDS clusters.
	featureFetchTimeout
	// featureLimits: the upstream limits of the gateway's service-defaults entry
	// become circuit breakers on the local peering-server cluster.
	featureLimits
	featureCount
)

// firstVersions lists, per feature, the first release of each minor line that has it:
// a version has the feature when it is at or after the entry of its own minor line, or
// when its minor line is newer than every listed one. A line between listed ones that
// has no entry never got it.
var firstVersions = [featureCount][]ConsulVersion{
	featureJoinHostPort:      {{Major: 1, Minor: 21, Patch: 2}},
	featureDualStackDNS:      {{Major: 1, Minor: 22, Patch: 0}},
	featureDualStackLoopback: {{Major: 1, Minor: 22, Patch: 0}},
	featureDualStackAny:      {{Major: 1, Minor: 22, Patch: 0, Pre: "rc1"}},
	featureFetchTimeout:      {{Major: 1, Minor: 15, Patch: 8}, {Major: 1, Minor: 16, Patch: 4}, {Major: 1, Minor: 17, Patch: 1}},
	featureLimits:            {{Major: 1, Minor: 18, Patch: 2}},
}

// has reports whether Consul version v has feature f.
func (f feature) has(v ConsulVersion) bool {
	firsts := firstVersions[f]
	for _, first := range firsts {
		if first.Major == v.Major && first.Minor == v.Minor {
			return v.Compare(first) >= 0
		}
	}
	last := firsts[len(firsts)-1]
	return v.Compare(ConsulVersion{Major: last.Major, Minor: last.Minor}) > 0
}

// profile is what a target Consul version decides: the one place resolve consults
// for version-dependent rules.
type profile struct {
	version ConsulVersion
	on      [featureCount]bool
}

func profileOf(v ConsulVersion) profile {
	p := profile{version: v}
	for f := range featureCount {
		p.on[f] = f.has(v)
	}
	return p
}

// decideProfile picks the target version: an explicit one (WithConsulVersion) wins,
// then the agent's version when it parses and is supported, then the default. An
// agent version that does not, or an unsupported explicit one, is reported.
func decideProfile(o *buildOptions, s *peering.State) (profile, []Diagnostic) {
	if o.versionSet {
		if !o.version.Supported() {
			d := Diagnostic{Part: PartCluster, Input: "WithConsulVersion", Err: fmt.Errorf("%w; targeting %s",
				&ConsulVersionError{Input: o.version.String(), Reason: "not supported"}, DefaultConsulVersion)}
			return profileOf(DefaultConsulVersion), []Diagnostic{d}
		}
		return profileOf(o.version), nil
	}
	if s.Agent.Version == "" {
		return profileOf(DefaultConsulVersion), nil
	}
	v, err := ParseConsulVersion(s.Agent.Version)
	if err != nil {
		d := Diagnostic{Part: PartCluster, Input: "Agent.Version", Err: fmt.Errorf("%w; targeting %s", err, DefaultConsulVersion)}
		return profileOf(DefaultConsulVersion), []Diagnostic{d}
	}
	return profileOf(v), nil
}

// dualStack reports whether Consul counts an agent bound to bindAddr as dual-stack: the
// address is IPv6 and not an IPv4-mapped one. An empty or malformed address is not.
func dualStack(bindAddr string) bool {
	a, err := netip.ParseAddr(bindAddr)
	return err == nil && a.Is6() && !a.Is4In6()
}
