package xds_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// The properties below hold for every State. Each test draws its States from fixed seeds,
// so a failure reproduces; the failing seed and iteration are in the message.

const propTrustDomain = "td.consul"

// propIterations is the number of random States per property seed.
const propIterations = 1500

var propSeeds = []uint64{1, 2, 3}

// TestPropertiesBuild checks the properties of one Build on many random States.
func TestPropertiesBuild(t *testing.T) {
	for _, seed := range propSeeds {
		r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		for i := range propIterations {
			s := randomState(r, false)
			if err := checkBuild(s); err != nil {
				t.Fatalf("seed %d iteration %d: %v\nstate: %s", seed, i, err, stateJSON(s))
			}
		}
	}
}

// TestPropertiesIncremental checks that a Builder fed random updates always holds what
// Build gives for the equivalent State, and that its Changes reproduce its Resources.
func TestPropertiesIncremental(t *testing.T) {
	for _, seed := range propSeeds {
		r := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
		for i := range propIterations / 10 {
			if err := runIncremental(r, 40); err != nil {
				t.Fatalf("seed %d sequence %d: %v", seed, i, err)
			}
		}
	}
}

// checkBuild builds s and returns the first property it breaks.
func checkBuild(s *peering.State) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Build panicked: %v", p)
		}
	}()
	res, diags := xds.Build(s)
	if err := res.Validate(); err != nil {
		return fmt.Errorf("invalid resources: %w", err)
	}
	if err := checkDeterministic(s, res, diags); err != nil {
		return err
	}
	for _, check := range []func(*xds.Resources) error{
		checkUniqueNames, checkListeners, checkChainClusters, checkNoTransportSockets,
		checkEndpoints, checkNames,
	} {
		if err := check(res); err != nil {
			return err
		}
	}
	return checkAgainstOracle(s, res)
}

func checkDeterministic(s *peering.State, res *xds.Resources, diags []xds.Diagnostic) error {
	got, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("marshal: %w", err)
	}
	res2, diags2 := xds.Build(s)
	again, err := json.Marshal(res2)
	if err != nil {
		return fmt.Errorf("marshal: %w", err)
	}
	if string(got) != string(again) {
		return fmt.Errorf("two Builds differ:\n%s\n%s", got, again)
	}
	if a, b := diagnosticLines(diags), diagnosticLines(diags2); a != b {
		return fmt.Errorf("two Builds give different diagnostics:\n%s\n%s", a, b)
	}
	for _, d := range diags {
		if d.Err == nil || d.Input == "" {
			return fmt.Errorf("diagnostic without input or cause: %#v", d)
		}
	}
	return nil
}

func checkUniqueNames(res *xds.Resources) error {
	var names [3][]string
	for _, c := range res.Clusters {
		names[0] = append(names[0], c.Name)
	}
	for _, e := range res.Endpoints {
		names[1] = append(names[1], e.ClusterName)
	}
	for _, l := range res.Listeners {
		names[2] = append(names[2], l.Name)
	}
	for i, ns := range names {
		if !slices.IsSorted(ns) {
			return fmt.Errorf("resources of type %d not sorted by name: %q", i, ns)
		}
		if len(slices.Compact(slices.Clone(ns))) != len(ns) {
			return fmt.Errorf("duplicate names in type %d: %q", i, ns)
		}
	}
	return nil
}

// checkListeners checks each listener's address and name, its one tls_inspector filter
// and its chain order: accept chain, peer chains sorted by name, catch-all last. Every
// listener has the same SNI chains.
func checkListeners(res *xds.Resources) error {
	var first []string
	for i, l := range res.Listeners {
		sa := l.GetAddress().GetSocketAddress()
		if net.ParseIP(sa.GetAddress()) == nil {
			return fmt.Errorf("listener %q: address %q is not an IP literal", l.Name, sa.GetAddress())
		}
		if p := sa.GetPortValue(); p < 1 || p > 65535 {
			return fmt.Errorf("listener %q: port %d", l.Name, p)
		}
		if suffix := fmt.Sprintf(":%s:%d", sa.GetAddress(), sa.GetPortValue()); !strings.HasSuffix(l.Name, suffix) || len(l.Name) == len(suffix) {
			return fmt.Errorf("listener %q: name is not <bind>%s", l.Name, suffix)
		}
		if len(l.ListenerFilters) != 1 || l.ListenerFilters[0].Name != "envoy.filters.listener.tls_inspector" {
			return fmt.Errorf("listener %q: listener filters %v", l.Name, l.ListenerFilters)
		}
		names, err := chainOrder(l)
		if err != nil {
			return fmt.Errorf("listener %q: %w", l.Name, err)
		}
		if i == 0 {
			first = names
		} else if !slices.Equal(first, names) {
			return fmt.Errorf("listener %q: chains %q, first listener has %q", l.Name, names, first)
		}
	}
	return nil
}

// chainOrder returns the server names of l's SNI chains after checking their order.
func chainOrder(l *listenerv3.Listener) ([]string, error) {
	fcs := l.FilterChains
	if len(fcs) == 0 {
		return nil, fmt.Errorf("no filter chains")
	}
	last := fcs[len(fcs)-1]
	if last.FilterChainMatch != nil || len(last.Filters) != 2 ||
		last.Filters[0].Name != "envoy.filters.network.sni_cluster" || tcpProxyCluster(last) != "" {
		return nil, fmt.Errorf("last chain is not the catch-all: %v", last)
	}
	var names []string
	for _, fc := range fcs[:len(fcs)-1] {
		sn := fc.GetFilterChainMatch().GetServerNames()
		if len(sn) != 1 || len(fc.Filters) != 1 {
			return nil, fmt.Errorf("chain is not a single SNI tcp_proxy chain: %v", fc)
		}
		if c := tcpProxyCluster(fc); c != sn[0] {
			return nil, fmt.Errorf("chain for %q proxies to %q", sn[0], c)
		}
		names = append(names, sn[0])
	}
	// The accept chain, when present, comes first; the rest are sorted strictly.
	peers := names
	if len(names) > 0 && isAcceptChain(fcs[0]) {
		peers = names[1:]
	}
	for i := 1; i < len(peers); i++ {
		if peers[i-1] >= peers[i] {
			return nil, fmt.Errorf("peer chains not strictly sorted: %q", peers)
		}
	}
	for _, fc := range fcs[1 : len(fcs)-1] {
		if isAcceptChain(fc) {
			return nil, fmt.Errorf("accept chain is not first: %q", names)
		}
	}
	return names, nil
}

func isAcceptChain(fc *listenerv3.FilterChain) bool {
	return strings.HasPrefix(tcpProxyStatPrefix(fc), "mesh_gateway_local_peering_server.")
}

// checkChainClusters checks that every SNI chain's tcp_proxy names an existing cluster
// and that every cluster is reachable through a chain when there are listeners.
func checkChainClusters(res *xds.Resources) error {
	clusters := map[string]bool{}
	for _, c := range res.Clusters {
		clusters[c.Name] = true
	}
	for _, l := range res.Listeners {
		chained := map[string]bool{}
		for _, fc := range l.FilterChains[:len(l.FilterChains)-1] {
			c := tcpProxyCluster(fc)
			if !clusters[c] {
				return fmt.Errorf("listener %q: chain proxies to missing cluster %q", l.Name, c)
			}
			chained[c] = true
		}
		if len(chained) != len(clusters) {
			return fmt.Errorf("listener %q: %d chains for %d clusters", l.Name, len(chained), len(clusters))
		}
	}
	return nil
}

func checkNoTransportSockets(res *xds.Resources) error {
	for _, c := range res.Clusters {
		if c.TransportSocket != nil || len(c.TransportSocketMatches) > 0 {
			return fmt.Errorf("cluster %q has a transport socket", c.Name)
		}
	}
	for _, l := range res.Listeners {
		for _, fc := range l.FilterChains {
			if fc.TransportSocket != nil {
				return fmt.Errorf("listener %q has a chain with a transport socket", l.Name)
			}
		}
	}
	return nil
}

// checkEndpoints checks that every CLA belongs to an EDS cluster and has endpoints, that
// every EDS cluster but the accept cluster has a CLA (the accept cluster may have none,
// RULES.md §3.2), and that DNS clusters carry their hostnames inline.
func checkEndpoints(res *xds.Resources) error {
	clas := map[string]*endpointv3.ClusterLoadAssignment{}
	for _, e := range res.Endpoints {
		clas[e.ClusterName] = e
	}
	accept := acceptClusters(res)
	for _, c := range res.Clusters {
		cla, hasCLA := clas[c.Name]
		delete(clas, c.Name)
		switch c.GetType() {
		case clusterv3.Cluster_EDS:
			if c.LoadAssignment != nil {
				return fmt.Errorf("EDS cluster %q has inline endpoints", c.Name)
			}
			if !hasCLA && !accept[c.Name] {
				return fmt.Errorf("peer EDS cluster %q has no ClusterLoadAssignment", c.Name)
			}
			if hasCLA {
				if err := checkAddresses(cla, true); err != nil {
					return fmt.Errorf("cluster %q: %w", c.Name, err)
				}
			}
		case clusterv3.Cluster_STRICT_DNS:
			if hasCLA {
				return fmt.Errorf("DNS cluster %q also has a ClusterLoadAssignment", c.Name)
			}
			if c.LoadAssignment.GetClusterName() != c.Name {
				return fmt.Errorf("DNS cluster %q: load assignment named %q", c.Name, c.LoadAssignment.GetClusterName())
			}
			if err := checkAddresses(c.LoadAssignment, false); err != nil {
				return fmt.Errorf("cluster %q: %w", c.Name, err)
			}
		default:
			return fmt.Errorf("cluster %q has type %v", c.Name, c.GetType())
		}
	}
	for name := range clas {
		return fmt.Errorf("ClusterLoadAssignment %q has no cluster", name)
	}
	return nil
}

// acceptClusters returns the names the accept chains proxy to.
func acceptClusters(res *xds.Resources) map[string]bool {
	out := map[string]bool{}
	for _, l := range res.Listeners {
		for _, fc := range l.FilterChains {
			if isAcceptChain(fc) {
				out[tcpProxyCluster(fc)] = true
			}
		}
	}
	// Without listeners the accept cluster is the one named after the local servers,
	// which the oracle checks; any EDS cluster might be it.
	if len(res.Listeners) == 0 {
		for _, c := range res.Clusters {
			out[c.Name] = true
		}
	}
	return out
}

// checkAddresses checks that cla has one locality with at least one endpoint, each an IP
// literal (ips) or a hostname, with a port in 1..65535.
func checkAddresses(cla *endpointv3.ClusterLoadAssignment, ips bool) error {
	if len(cla.Endpoints) != 1 || len(cla.Endpoints[0].LbEndpoints) == 0 {
		return fmt.Errorf("endpoints %v: want one locality with endpoints", cla.Endpoints)
	}
	for _, lb := range cla.Endpoints[0].LbEndpoints {
		sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
		if isIP := net.ParseIP(sa.GetAddress()) != nil; isIP != ips {
			return fmt.Errorf("endpoint address %q: IP literal %v, want %v", sa.GetAddress(), isIP, ips)
		}
		if p := sa.GetPortValue(); p < 1 || p > 65535 {
			return fmt.Errorf("endpoint %q: port %d", sa.GetAddress(), p)
		}
	}
	return nil
}

// checkNames checks that only valid DNS names reach cluster names and server_names.
func checkNames(res *xds.Resources) error {
	for _, c := range res.Clusters {
		if err := peering.CheckServerName(c.Name); err != nil {
			return fmt.Errorf("cluster name: %w", err)
		}
	}
	for _, l := range res.Listeners {
		for _, fc := range l.FilterChains {
			for _, n := range fc.GetFilterChainMatch().GetServerNames() {
				if err := peering.CheckServerName(n); err != nil {
					return fmt.Errorf("listener %q server_names: %w", l.Name, err)
				}
			}
		}
	}
	return nil
}

func stateJSON(s *peering.State) string {
	b, err := json.Marshal(s)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
