package xds

import (
	"slices"
	"time"

	"github.com/peeringgw/peeringgw/peering"
)

// Model is what one gateway serves for peering control-plane traffic, resolved from a
// [peering.State] by [Resolve]: every Consul rule decided and every name computed, as
// plain Go values with no protobuf in them. [Translate] turns it into Envoy resources.
//
// A Model is immutable once returned: later Models share slices with earlier ones.
type Model struct {
	// Clusters are the accept side's cluster (the local servers) and one cluster per
	// peer server name, sorted by name.
	Clusters []Cluster
	// Listeners are one per bind address of the gateway, sorted by name.
	Listeners []Listener
}

// Cluster is one upstream of the gateway: the local servers, or a peer's servers.
//
// Its name is also the SNI its filter chains match. An EDS cluster gets its endpoints
// in a ClusterLoadAssignment of the same name, present only when it has endpoints (the
// accept side keeps its cluster when no voter has a usable grpc_tls_port, as in
// Consul). A DNS cluster (STRICT_DNS) carries its hostnames inline.
type Cluster struct {
	// Name is the server name, "server.<dc>.peering.<trust-domain>".
	Name string
	// DNS reports that Endpoints are hostnames that Envoy resolves (STRICT_DNS);
	// otherwise they are IP literals served over EDS.
	DNS bool
	// ConnectTimeout is the gateway's connect_timeout_ms.
	ConnectTimeout time.Duration
	// Endpoints are the addresses, in Consul's order.
	Endpoints []peering.Address
	// DualStack makes a DNS cluster resolve IPv4 and IPv6 addresses (lookup family
	// ALL); otherwise it resolves IPv4 only (V4_ONLY).
	DualStack bool
	// FetchTimeoutSet gives an EDS cluster an initial fetch timeout of FetchTimeout
	// (the gateway's xds_fetch_timeout_ms; 0 waits forever); unset leaves Envoy's.
	FetchTimeoutSet bool
	FetchTimeout    time.Duration
	// Limits, when not nil, are the cluster's circuit-breaker thresholds.
	Limits *Limits
}

// Limits are the circuit-breaker thresholds of a cluster: the upstream limits of the
// gateway's service-defaults entry. An unset one leaves Envoy's default.
type Limits struct {
	MaxConnections        Limit
	MaxPendingRequests    Limit
	MaxConcurrentRequests Limit
}

// Limit is one threshold; Set reports that Value applies.
type Limit struct {
	Value uint32
	Set   bool
}

// sameSettings reports whether c and o have the same cluster settings, apart from
// their name, type and endpoints.
func (c *Cluster) sameSettings(o *Cluster) bool {
	return c.ConnectTimeout == o.ConnectTimeout && c.DualStack == o.DualStack &&
		c.FetchTimeoutSet == o.FetchTimeoutSet && c.FetchTimeout == o.FetchTimeout && sameLimits(c.Limits, o.Limits)
}

func sameLimits(a, b *Limits) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Equal reports whether c and o are the same cluster with the same endpoints.
func (c *Cluster) Equal(o *Cluster) bool {
	return c.Name == o.Name && c.DNS == o.DNS && c.sameSettings(o) && slices.Equal(c.Endpoints, o.Endpoints)
}

// hasAssignment reports whether the cluster has a ClusterLoadAssignment.
func (c *Cluster) hasAssignment() bool { return !c.DNS && len(c.Endpoints) > 0 }

// sameAssignment reports whether c and o have equal ClusterLoadAssignments (or none).
func (c *Cluster) sameAssignment(o *Cluster) bool {
	if !c.hasAssignment() || !o.hasAssignment() {
		return c.hasAssignment() == o.hasAssignment()
	}
	return c.Name == o.Name && slices.Equal(c.Endpoints, o.Endpoints)
}

// sameResource reports whether c and o translate to equal Cluster resources. An EDS
// cluster does not depend on its endpoints.
func (c *Cluster) sameResource(o *Cluster) bool {
	if c.Name != o.Name || c.DNS != o.DNS || !c.sameSettings(o) {
		return false
	}
	return !c.DNS || slices.Equal(c.Endpoints, o.Endpoints)
}

// Listener is one listener of the gateway. Its filter chains are, in order: the accept
// chain (when Accept is set), one chain per name in Peers, and the catch-all chain,
// which routes any other SNI to the cluster it names (sni_cluster).
type Listener struct {
	// Name is Consul's "<bind>:<address>:<port>"; from Consul 1.21.2 an IPv6 address
	// is bracketed ("<bind>:[<address>]:<port>").
	Name string
	// Address and Port are where it listens; Address is an IP literal.
	Address string
	Port    uint32
	// Accept is the local servers' name, matched by the accept chain; empty when the
	// gateway exposes no local servers to peers.
	Accept string
	// AcceptStat is the stat prefix of the accept chain.
	AcceptStat string
	// Peers are the peer server names, sorted; each gets a chain that matches it and
	// proxies to the cluster of that name, counting under
	// "mesh_gateway_remote_peering_servers.<name>". Every listener of a Model shares
	// this slice.
	Peers []string
	// CatchAllStat is the stat prefix of the catch-all chain.
	CatchAllStat string
}

// Equal reports whether l and o are the same listener with the same chains.
func (l *Listener) Equal(o *Listener) bool {
	return l.Name == o.Name && l.Address == o.Address && l.Port == o.Port && l.Accept == o.Accept &&
		l.AcceptStat == o.AcceptStat && l.CatchAllStat == o.CatchAllStat && samePeers(l.Peers, o.Peers)
}

// samePeers compares two name lists, at once when they are the same slice.
func samePeers(a, b []string) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.Equal(a, b)
}

// Equal reports whether m and o hold the same clusters and listeners.
func (m *Model) Equal(o *Model) bool {
	return slices.EqualFunc(m.Clusters, o.Clusters, func(x, y Cluster) bool { return x.Equal(&y) }) &&
		slices.EqualFunc(m.Listeners, o.Listeners, func(x, y Listener) bool { return x.Equal(&y) })
}
