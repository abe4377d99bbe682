package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/proto"
)

// Envoy's defaults for fields a cluster may leave unset.
const (
	defaultConnectTimeout = 5 * time.Second
	defaultDNSRefreshRate = 5 * time.Second
)

// clusterSpec is a checked cluster, ready to execute.
type clusterSpec struct {
	name           string
	typ            clusterv3.Cluster_DiscoveryType
	connectTimeout time.Duration
	// targets are the hostnames (or IP literals) a DNS cluster resolves, in order.
	targets    []target
	dnsRefresh time.Duration
	// allFamilies resolves IPv4 and IPv6 addresses (dns_lookup_family ALL); otherwise
	// IPv4 only (V4_ONLY).
	allFamilies bool
	// limits are the circuit breakers.
	limits limits
}

// limits are the circuit-breaker thresholds a cluster enforces on its upstream TCP
// connections: every proxied connection is one connection and one request (Envoy's
// TCP connection pool counts it against both), and one pending request while it
// connects. -1 means the threshold is not set, and not enforced (Envoy's default
// thresholds, 1024 each, are not applied).
type limits struct {
	maxConnections, maxPending, maxRequests int64
}

var noLimits = limits{maxConnections: -1, maxPending: -1, maxRequests: -1}

func threshold(v interface{ GetValue() uint32 }, set bool) int64 {
	if !set {
		return -1
	}
	return int64(v.GetValue())
}

// target is one endpoint of a DNS cluster.
type target struct {
	host string
	port uint16
}

// sameTargets reports whether a and b resolve the same names the same way, so that a
// replacement cluster can start with the hosts already resolved.
func (c *clusterSpec) sameTargets(o *clusterSpec) bool {
	if c.typ != o.typ || len(c.targets) != len(o.targets) {
		return false
	}
	for i := range c.targets {
		if c.targets[i] != o.targets[i] {
			return false
		}
	}
	return true
}

// compileCluster checks c and returns its spec.
func compileCluster(c *clusterv3.Cluster) (*clusterSpec, error) {
	if err := checkResource(c); err != nil {
		return nil, err
	}
	s := &clusterSpec{name: c.GetName(), typ: c.GetType(), connectTimeout: defaultConnectTimeout, dnsRefresh: defaultDNSRefreshRate, limits: noLimits}
	if d := c.GetConnectTimeout(); d != nil {
		s.connectTimeout = d.AsDuration()
	}
	if d := c.GetDnsRefreshRate(); d != nil {
		s.dnsRefresh = d.AsDuration()
	}
	if err := s.compileLimits(c.GetCircuitBreakers()); err != nil {
		return nil, err
	}
	var err error
	switch s.typ {
	case clusterv3.Cluster_EDS:
		err = checkEDSCluster(c)
	case clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_LOGICAL_DNS:
		err = s.compileDNS(c)
	default:
		err = notImplemented("type", "%s", s.typ)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// checkEDSCluster accepts an EDS cluster whose endpoints come over ADS under its own
// name.
func checkEDSCluster(c *clusterv3.Cluster) error {
	var errs []error
	src := c.GetEdsClusterConfig().GetEdsConfig()
	if src.GetAds() == nil {
		errs = append(errs, notImplemented("eds_cluster_config.eds_config", "only ads is implemented"))
	}
	if v := src.GetResourceApiVersion(); v != corev3.ApiVersion_V3 && v != corev3.ApiVersion_AUTO {
		errs = append(errs, invalid("eds_cluster_config.eds_config.resource_api_version", "%s", v))
	}
	if c.GetLoadAssignment() != nil {
		errs = append(errs, notImplemented("load_assignment", "on an EDS cluster"))
	}
	if c.GetDnsRefreshRate() != nil {
		errs = append(errs, notImplemented("dns_refresh_rate", "on an EDS cluster"))
	}
	if c.GetDnsLookupFamily() != clusterv3.Cluster_AUTO {
		errs = append(errs, notImplemented("dns_lookup_family", "on an EDS cluster"))
	}
	return errors.Join(errs...)
}

// compileDNS reads the hostnames of a STRICT_DNS or LOGICAL_DNS cluster.
func (s *clusterSpec) compileDNS(c *clusterv3.Cluster) error {
	var errs []error
	if c.GetEdsClusterConfig() != nil {
		errs = append(errs, notImplemented("eds_cluster_config", "on a %s cluster", s.typ))
	}
	switch f := c.GetDnsLookupFamily(); f {
	case clusterv3.Cluster_V4_ONLY:
	case clusterv3.Cluster_ALL:
		s.allFamilies = true
	default:
		errs = append(errs, notImplemented("dns_lookup_family", "%s (only V4_ONLY and ALL are implemented)", f))
	}
	for _, t := range endpointTargets(c.GetLoadAssignment().GetEndpoints(), "load_assignment.", &errs) {
		s.targets = append(s.targets, t.target)
	}
	if s.typ == clusterv3.Cluster_LOGICAL_DNS && len(s.targets) != 1 {
		errs = append(errs, invalid("load_assignment", "a LOGICAL_DNS cluster needs exactly one endpoint, got %d", len(s.targets)))
	}
	return errors.Join(errs...)
}

// compileLimits reads the circuit breakers: one threshold, of the default priority.
func (s *clusterSpec) compileLimits(cb *clusterv3.CircuitBreakers) error {
	th := cb.GetThresholds()
	switch {
	case len(th) == 0:
		return nil
	case len(th) > 1:
		return notImplemented("circuit_breakers.thresholds", "%d thresholds (only one is implemented)", len(th))
	case th[0].GetPriority() != corev3.RoutingPriority_DEFAULT:
		return notImplemented("circuit_breakers.thresholds[0].priority", "%s", th[0].GetPriority())
	}
	t := th[0]
	s.limits = limits{
		maxConnections: threshold(t.GetMaxConnections(), t.MaxConnections != nil),
		maxPending:     threshold(t.GetMaxPendingRequests(), t.MaxPendingRequests != nil),
		maxRequests:    threshold(t.GetMaxRequests(), t.MaxRequests != nil),
	}
	return nil
}

// pathTarget is an endpoint's socket address and the path of its host in the resource.
type pathTarget struct {
	target
	path string
}

// endpointTargets returns the socket addresses of every endpoint, in order, every
// locality flattened into one list (no locality weights or priorities are set). An
// endpoint without a socket address is added to errs.
func endpointTargets(locs []*endpointv3.LocalityLbEndpoints, prefix string, errs *[]error) []pathTarget {
	var out []pathTarget
	for i, loc := range locs {
		for j, lb := range loc.GetLbEndpoints() {
			p := fmt.Sprintf("%sendpoints[%d].lb_endpoints[%d].endpoint.address.socket_address", prefix, i, j)
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			if sa == nil {
				*errs = append(*errs, invalid(p, "a socket address is required"))
				continue
			}
			out = append(out, pathTarget{target{host: sa.GetAddress(), port: uint16(sa.GetPortValue())}, p + ".address"})
		}
	}
	return out
}

// compileAssignment checks an EDS ClusterLoadAssignment and returns its hosts in order.
func compileAssignment(cla *endpointv3.ClusterLoadAssignment) ([]netip.AddrPort, error) {
	if err := checkResource(cla); err != nil {
		return nil, err
	}
	var hosts []netip.AddrPort
	var errs []error
	for _, t := range endpointTargets(cla.GetEndpoints(), "", &errs) {
		ip, err := netip.ParseAddr(t.host)
		if err != nil || ip.Zone() != "" {
			errs = append(errs, invalid(t.path, "%q is not an IP literal", t.host))
			continue
		}
		hosts = append(hosts, netip.AddrPortFrom(ip, t.port))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return hosts, nil
}

// checkResource runs Envoy's protoc-gen-validate rules on m and rejects every field it
// sets that this data plane does not implement.
func checkResource(m interface {
	proto.Message
	ValidateAll() error
}) error {
	var errs []error
	if err := m.ValidateAll(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", err, ErrInvalid))
	}
	errs = append(errs, checkFields(m.ProtoReflect(), "")...)
	return errors.Join(errs...)
}
