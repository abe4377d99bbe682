package e2e

import (
	"encoding/json"
	"fmt"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/xds"
)

// Removed lists what PeeringOnly left out, so that a test can check it left out only
// what it should.
type Removed struct {
	// Clusters and Endpoints are the names of the clusters and ClusterLoadAssignments
	// left out.
	Clusters, Endpoints []string
	// Chains are the filter chains left out, each "<listener> [<server names>]".
	Chains []string
}

// Empty reports whether nothing was left out.
func (r Removed) Empty() bool {
	return len(r.Clusters) == 0 && len(r.Endpoints) == 0 && len(r.Chains) == 0
}

// PeeringOnly returns the part of a mesh gateway's resources that carries peering
// control-plane traffic, and what it left out. It keeps
//
//   - the clusters and ClusterLoadAssignments named after a peering server name,
//     "server.<dc>.peering.<trust-domain>" (the accept side and every dial target);
//   - every listener, with only its filter chains that match peering server names and
//     its catch-all chain (the one without a match, which sni_cluster routes).
//
// Consul serves a mesh gateway more than that, all of it for data-plane traffic or WAN
// federation: the clusters and chains of the services its cluster exports to peers
// ("exported~..." clusters, chains on the services' SNI), of the local services other
// datacenters and partitions reach through it ("<service>...internal..."), of the
// services imported from peers ("<service>...<peer>.external..."), and under WAN
// federation of the other datacenters' gateways and servers. This library generates
// none of these, so a comparison with Consul leaves them out. r is not
// modified; the listeners returned are copies.
func PeeringOnly(r *xds.Resources) (*xds.Resources, Removed) {
	var (
		out     xds.Resources
		removed Removed
	)
	for _, c := range r.Clusters {
		if IsPeeringServerName(c.GetName()) {
			out.Clusters = append(out.Clusters, c)
		} else {
			removed.Clusters = append(removed.Clusters, c.GetName())
		}
	}
	for _, e := range r.Endpoints {
		if IsPeeringServerName(e.GetClusterName()) {
			out.Endpoints = append(out.Endpoints, e)
		} else {
			removed.Endpoints = append(removed.Endpoints, e.GetClusterName())
		}
	}
	for _, l := range r.Listeners {
		kept := proto.CloneOf(l)
		kept.FilterChains = nil
		for _, fc := range l.GetFilterChains() {
			if peeringChain(fc) {
				kept.FilterChains = append(kept.FilterChains, fc)
			} else {
				removed.Chains = append(removed.Chains, fmt.Sprintf("%s %v", l.GetName(), fc.GetFilterChainMatch().GetServerNames()))
			}
		}
		out.Listeners = append(out.Listeners, kept)
	}
	return &out, removed
}

// peeringChain reports whether fc is a peering chain (it matches only peering server
// names) or the catch-all (it matches no server name).
func peeringChain(fc *listenerv3.FilterChain) bool {
	for _, name := range fc.GetFilterChainMatch().GetServerNames() {
		if !IsPeeringServerName(name) {
			return false
		}
	}
	return true
}

// IsPeeringServerName reports whether name has the form of a peering server name,
// "server.<dc>.peering.<trust-domain>", which names the clusters and matches the filter
// chains of peering control-plane traffic.
func IsPeeringServerName(name string) bool {
	rest, ok := strings.CutPrefix(name, "server.")
	if !ok {
		return false
	}
	dc, td, ok := strings.Cut(rest, ".peering.")
	return ok && dc != "" && !strings.Contains(dc, ".") && td != ""
}

// NormalizeConsul rewrites, in a copy of Consul 1.14.8's resources, what this library
// generates differently on purpose, so that the rest can be compared byte for byte:
//
//   - a peer whose server addresses are hostnames gets a STRICT_DNS cluster here and a
//     LOGICAL_DNS one from Consul 1.14.8. Envoy's LOGICAL_DNS resolves one host only, and
//     Consul lists every hostname; Consul itself switched to STRICT_DNS later (GH#19268,
//     in 1.14.11, 1.15.7 and 1.16.3). Every other field of the cluster is the same.
//
// The other deliberate differences (no listener bound to a hostname, malformed ports
// and addresses skipped, no peering resources outside the default partition) concern
// inputs that Consul's API lets no test create here, or that a test avoids; output
// order, which is random in Consul, is made the same by sorting both sides by name.
func NormalizeConsul(r *xds.Resources) *xds.Resources {
	out := &xds.Resources{Endpoints: r.Endpoints, Listeners: r.Listeners}
	for _, c := range r.Clusters {
		if c.GetType() == clusterv3.Cluster_LOGICAL_DNS && IsPeeringServerName(c.GetName()) {
			c = proto.CloneOf(c)
			c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		}
		out.Clusters = append(out.Clusters, c)
	}
	return out
}

// Diff returns the differences between two resource sets as a diff of their resource
// dumps (the protojson form, compared as JSON values), empty when they are equal.
func Diff(want, got *xds.Resources) (string, error) {
	w, err := decodedDump(want)
	if err != nil {
		return "", err
	}
	g, err := decodedDump(got)
	if err != nil {
		return "", err
	}
	return cmp.Diff(w, g), nil
}

func decodedDump(r *xds.Resources) (any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("e2e: dump resources: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("e2e: decode resource dump: %w", err)
	}
	return v, nil
}
