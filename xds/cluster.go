package xds

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// dnsRefreshRate is how often Envoy re-resolves a hostname peer (Consul's value).
const dnsRefreshRate = 10 * time.Second

// clusterParts are the sub-messages every peering cluster of one gateway shares. Emitted
// resources are immutable, so sharing them is safe and saves an allocation per cluster.
type clusterParts struct {
	key            partsKey
	connectTimeout *durationpb.Duration
	eds            *clusterv3.Cluster_EdsClusterConfig
	edsType        *clusterv3.Cluster_Type
	dnsType        *clusterv3.Cluster_Type
	dnsRefresh     *durationpb.Duration
	outlier        *clusterv3.OutlierDetection
}

// partsKey is what the shared sub-messages depend on: the connect timeout and the EDS
// initial fetch timeout.
type partsKey struct {
	connectTimeout time.Duration
	fetchSet       bool
	fetch          time.Duration
}

func keyOfCluster(c *Cluster) partsKey {
	return partsKey{connectTimeout: c.ConnectTimeout, fetchSet: c.FetchTimeoutSet, fetch: c.FetchTimeout}
}

func newClusterParts(k partsKey) *clusterParts {
	src := &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
	if k.fetchSet {
		src.InitialFetchTimeout = durationpb.New(k.fetch)
	}
	return &clusterParts{
		key:            k,
		connectTimeout: durationpb.New(k.connectTimeout),
		eds:            &clusterv3.Cluster_EdsClusterConfig{EdsConfig: src},
		edsType:        &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		dnsType:        &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
		dnsRefresh:     durationpb.New(dnsRefreshRate),
		outlier:        &clusterv3.OutlierDetection{},
	}
}

// initEDSCluster fills c as an EDS cluster named name, whose endpoints come over ADS.
func (p *clusterParts) initEDSCluster(c *clusterv3.Cluster, name string) {
	c.Name = name
	c.ClusterDiscoveryType = p.edsType
	c.EdsClusterConfig = p.eds
	c.ConnectTimeout = p.connectTimeout
	c.OutlierDetection = p.outlier
}

// initDNSCluster fills c as a STRICT_DNS cluster named name with inline endpoints.
// Consul emits LOGICAL_DNS here, which Envoy rejects when there are several hostnames
// (Consul fixed it the same way in 1.14.11, GH#19268).
func (p *clusterParts) initDNSCluster(c *clusterv3.Cluster, name string, la *endpointv3.ClusterLoadAssignment) {
	c.Name = name
	c.ClusterDiscoveryType = p.dnsType
	c.ConnectTimeout = p.connectTimeout
	c.LoadAssignment = la
	// Deprecated in Envoy's API in favour of the dns_cluster extension, but it is what
	// Consul emits and what the Envoy versions Consul supports read.
	//lint:ignore SA1019 kept for conformance with Consul, see above
	c.DnsRefreshRate = p.dnsRefresh
	c.DnsLookupFamily = clusterv3.Cluster_V4_ONLY
	c.OutlierDetection = p.outlier
}

// cluster returns the Cluster of m, one target or the local servers: EDS for IP
// addresses, STRICT_DNS with inline endpoints for hostnames.
func (a *arena) cluster(p *clusterParts, m *Cluster) *clusterv3.Cluster {
	c := a.clusters.next()
	if m.DNS {
		p.initDNSCluster(c, m.Name, a.assignment(m.Name, m.Endpoints))
		if m.DualStack {
			c.DnsLookupFamily = clusterv3.Cluster_ALL
		}
	} else {
		p.initEDSCluster(c, m.Name)
	}
	if m.Limits != nil {
		c.CircuitBreakers = circuitBreakers(m.Limits)
	}
	return c
}

// circuitBreakers returns the one threshold Consul sets from upstream limits; an unset
// limit leaves Envoy's default.
func circuitBreakers(l *Limits) *clusterv3.CircuitBreakers {
	t := &clusterv3.CircuitBreakers_Thresholds{}
	if l.MaxConnections.Set {
		t.MaxConnections = wrapperspb.UInt32(l.MaxConnections.Value)
	}
	if l.MaxPendingRequests.Set {
		t.MaxPendingRequests = wrapperspb.UInt32(l.MaxPendingRequests.Value)
	}
	if l.MaxConcurrentRequests.Set {
		t.MaxRequests = wrapperspb.UInt32(l.MaxConcurrentRequests.Value)
	}
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{t}}
}
