package xds

import (
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/peering"
)

// keyXDSFetchTimeout is the Proxy.Config key of the EDS initial fetch timeout.
const keyXDSFetchTimeout = "xds_fetch_timeout_ms"

// maxFetchMillis is the largest xds_fetch_timeout_ms a time.Duration holds.
const maxFetchMillis = math.MaxInt64 / int64(time.Millisecond)

// clusterSettings are the version-dependent settings of a gateway's resources, decided
// by its profile: translate reads them from the Model, never from a version.
type clusterSettings struct {
	// joinHostPort names listeners with net.JoinHostPort (IPv6 bracketed).
	joinHostPort bool
	// dualStack makes hostname clusters resolve IPv4 and IPv6.
	dualStack bool
	// fetchSet and fetch are the initial fetch timeout of EDS clusters.
	fetchSet bool
	fetch    time.Duration
	// hasLimits and limits are the circuit breakers of the local peering-server cluster.
	hasLimits bool
	limits    Limits
}

// readClusterSettings decides the version-dependent cluster settings of gateway s
// under profile p; opts are the gateway's options and fetchErr the problem reading
// xds_fetch_timeout_ms, if any.
func readClusterSettings(s *peering.State, opts gateway.Options, fetchErr error, p profile, diags *[]Diagnostic) clusterSettings {
	c := clusterSettings{joinHostPort: p.on[featureJoinHostPort]}
	c.dualStack = p.on[featureDualStackDNS] && dualStack(s.Agent.BindAddr)
	if p.on[featureFetchTimeout] {
		c.fetchSet, c.fetch = fetchTimeout(opts, fetchErr, diags)
	}
	if p.on[featureLimits] {
		c.hasLimits, c.limits = readLimits(s.ServiceDefaults, s.Gateway.Service, diags)
	}
	return c
}

// fetchTimeout reads xds_fetch_timeout_ms as Consul does: a negative value leaves
// Envoy's default, 0 waits forever.
func fetchTimeout(opts gateway.Options, fetchErr error, diags *[]Diagnostic) (bool, time.Duration) {
	if fetchErr != nil {
		*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway.Proxy.Config", Err: fmt.Errorf("%w: %w; Envoy's default used", ErrBadFetchTimeout, fetchErr)})
		return false, 0
	}
	p := opts.XDSFetchTimeoutMs
	switch {
	case p == nil || *p < 0:
		return false, 0
	case int64(*p) > maxFetchMillis:
		*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway.Proxy.Config." + keyXDSFetchTimeout,
			Err: fmt.Errorf("%w: %d ms does not fit a duration; Envoy's default used", ErrBadFetchTimeout, *p)})
		return false, 0
	}
	return true, time.Duration(*p) * time.Millisecond
}

// readLimits returns the upstream limits of the gateway's service-defaults entry e,
// which Consul reads from UpstreamConfig.Defaults.Limits of the entry named after the
// gateway's service. Consul rejects negative limits when the entry is written; here a
// negative or too large one is reported and left unset.
func readLimits(e *api.ServiceConfigEntry, service string, diags *[]Diagnostic) (bool, Limits) {
	if e == nil || e.UpstreamConfig == nil || e.UpstreamConfig.Defaults == nil || e.UpstreamConfig.Defaults.Limits == nil {
		return false, Limits{}
	}
	if e.Name != "" && e.Name != service {
		*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "ServiceDefaults.Name",
			Err: fmt.Errorf("%w: entry %q is not the gateway service's (%q); ignored", ErrBadLimits, e.Name, service)})
		return false, Limits{}
	}
	l := e.UpstreamConfig.Defaults.Limits
	limit := func(field string, v *int) Limit {
		switch {
		case v == nil:
			return Limit{}
		case *v < 0 || int64(*v) > math.MaxUint32:
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "ServiceDefaults.UpstreamConfig.Defaults.Limits." + field,
				Err: fmt.Errorf("%w: %d is not in 0..%d; Envoy's default used", ErrBadLimits, *v, uint32(math.MaxUint32))})
			return Limit{}
		}
		return Limit{Value: uint32(*v), Set: true}
	}
	return true, Limits{
		MaxConnections:        limit("MaxConnections", l.MaxConnections),
		MaxPendingRequests:    limit("MaxPendingRequests", l.MaxPendingRequests),
		MaxConcurrentRequests: limit("MaxConcurrentRequests", l.MaxConcurrentRequests),
	}
}

// apply sets the cluster settings on c, an EDS (accept or IP peer) or DNS cluster;
// limits apply only to the local peering-server cluster (accept), as in Consul.
func (c *clusterSettings) apply(cl *Cluster, accept bool) {
	if cl.DNS {
		cl.DualStack = c.dualStack
		return
	}
	cl.FetchTimeoutSet, cl.FetchTimeout = c.fetchSet, c.fetch
	if accept && c.hasLimits {
		l := c.limits
		cl.Limits = &l
	}
}
