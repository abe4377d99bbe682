package xds

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/peeringgw/peeringgw/peering"
)

// dnsRefreshRate is how often Envoy re-resolves a hostname peer (Consul's value).
const dnsRefreshRate = 10 * time.Second

// clusterParts are the sub-messages every peering cluster of one gateway shares. Emitted
// resources are immutable, so sharing them is safe and saves an allocation per cluster.
type clusterParts struct {
	timeout        time.Duration
	connectTimeout *durationpb.Duration
	eds            *clusterv3.Cluster_EdsClusterConfig
	edsType        *clusterv3.Cluster_Type
	dnsType        *clusterv3.Cluster_Type
	dnsRefresh     *durationpb.Duration
	outlier        *clusterv3.OutlierDetection
}

func newClusterParts(connectTimeout time.Duration) *clusterParts {
	return &clusterParts{
		timeout:        connectTimeout,
		connectTimeout: durationpb.New(connectTimeout),
		eds: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}},
		edsType:    &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		dnsType:    &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
		dnsRefresh: durationpb.New(dnsRefreshRate),
		outlier:    &clusterv3.OutlierDetection{},
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

// cluster returns the cluster for one target or for the local servers: EDS for IP
// addresses, STRICT_DNS with inline endpoints for hostnames.
func (a *arena) cluster(p *clusterParts, name string, hostnames bool, addrs []peering.Address) *clusterv3.Cluster {
	c := a.clusters.next()
	if hostnames {
		p.initDNSCluster(c, name, a.assignment(name, addrs))
	} else {
		p.initEDSCluster(c, name)
	}
	return c
}
