package xds_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// The properties below hold for every State. Each test draws its States from fixed seeds,
// so a failure reproduces; the failing seed and iteration are in the message.

const propTrustDomain = "td.consul"

// propIterations is the number of random States per seed, and propSequences the number
// of random update sequences per seed, of propSteps updates each; a fifth of each under
// the race detector.
var (
	propIterations = scaled(1500)
	propSequences  = scaled(100)
	propSteps      = 40
	propSeeds      = []uint64{1, 2, 3}
)

func scaled(n int) int {
	if raceEnabled {
		return n / 5
	}
	return n
}

// TestPropertiesBuild checks the properties of one Build on many random States.
func TestPropertiesBuild(t *testing.T) {
	for _, seed := range propSeeds {
		r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		for i := range propIterations {
			s := randomState(r, false)
			randomVersionInputs(r, s)
			if err := checkBuild(s); err != nil {
				s = shrinkState(s, func(s *peering.State) bool { return checkBuild(s) != nil })
				t.Fatalf("seed %d iteration %d: %v\nminimal state: %s\n%s", seed, i, checkBuild(s), describeState(s), stateJSON(s))
			}
		}
	}
}

// TestPropertiesIncremental checks that a Builder fed random updates always holds what
// Build gives for the equivalent State, and that its Changes reproduce its Resources,
// both as it runs and when it patches its Model after every update it can.
func TestPropertiesIncremental(t *testing.T) {
	for _, patch := range []bool{false, true} {
		t.Run(fmt.Sprintf("patch-always=%t", patch), func(t *testing.T) {
			if patch {
				defer xds.PatchAlways()()
			}
			for _, seed := range propSeeds {
				r := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
				for i := range propSequences {
					ops := randomOps(r, propSteps)
					for _, o := range ops {
						if o.set != nil {
							randomVersionInputs(r, o.set)
						}
					}
					if err := replay(ops); err != nil {
						ops = shrinkOps(ops)
						t.Fatalf("seed %d sequence %d: %v\nminimal updates:\n%s", seed, i, replay(ops), describeOps(ops))
					}
				}
			}
		})
	}
}

// checkBuild builds s and returns the first property it breaks.
func checkBuild(s *peering.State) error {
	res, diags, err := safeBuild(s)
	if err != nil {
		return err
	}
	if err := res.Validate(); err != nil {
		return broken("invalid resources: %w", err)
	}
	if err := checkEncodes(res); err != nil {
		return err
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

// errBroken is wrapped by every error of a property check.
var errBroken = errors.New("property broken")

func broken(format string, args ...any) error {
	return fmt.Errorf("%w: %w", errBroken, fmt.Errorf(format, args...))
}

// safeBuild is Build with a panic turned into an error.
func safeBuild(s *peering.State) (res *xds.Resources, diags []xds.Diagnostic, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = broken("Build panicked: %v", p)
		}
	}()
	res, diags = xds.Build(s)
	return res, diags, nil
}

// checkEncodes checks that every resource encodes, as the Server must send it.
func checkEncodes(res *xds.Resources) error {
	for _, list := range res.ByType() {
		for _, r := range list {
			if _, err := proto.Marshal(r); err != nil {
				return broken("resource %q does not encode: %w", cachev3.GetResourceName(r), err)
			}
		}
	}
	return nil
}

func checkDeterministic(s *peering.State, res *xds.Resources, diags []xds.Diagnostic) error {
	got, err := json.Marshal(res)
	if err != nil {
		return err
	}
	res2, diags2, err := safeBuild(s)
	if err != nil {
		return err
	}
	again, err := json.Marshal(res2)
	if err != nil {
		return err
	}
	if string(got) != string(again) {
		return broken("two Builds differ:\n%s\n%s", got, again)
	}
	if a, b := diagnosticLines(diags), diagnosticLines(diags2); a != b {
		return broken("two Builds give different diagnostics:\n%s\n%s", a, b)
	}
	for _, d := range diags {
		if d.Err == nil || d.Input == "" {
			return broken("diagnostic without input or cause: %#v", d)
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
			return broken("resources of type %d not sorted by name: %q", i, ns)
		}
		if len(slices.Compact(slices.Clone(ns))) != len(ns) {
			return broken("duplicate names in type %d: %q", i, ns)
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
			return broken("listener %q: address %q is not an IP literal", l.Name, sa.GetAddress())
		}
		if p := sa.GetPortValue(); p < 1 || p > 65535 {
			return broken("listener %q: port %d", l.Name, p)
		}
		// The bind name may be empty: Consul, like us, makes a listener for a tagged
		// address whose tag is "".
		// Consul 1.21.2 and later, the default target, bracket an IPv6 address; a State
		// whose agent is older gets the earlier form.
		port := strconv.Itoa(int(sa.GetPortValue()))
		joined, plain := ":"+net.JoinHostPort(sa.GetAddress(), port), ":"+sa.GetAddress()+":"+port
		if !strings.HasSuffix(l.Name, joined) && !strings.HasSuffix(l.Name, plain) {
			return broken("listener %q: name is not <bind>%s", l.Name, joined)
		}
		if len(l.ListenerFilters) != 1 || l.ListenerFilters[0].Name != "envoy.filters.listener.tls_inspector" {
			return broken("listener %q: listener filters %v", l.Name, l.ListenerFilters)
		}
		names, err := chainOrder(l)
		if err != nil {
			return broken("listener %q: %w", l.Name, err)
		}
		if i == 0 {
			first = names
		} else if !slices.Equal(first, names) {
			return broken("listener %q: chains %q, first listener has %q", l.Name, names, first)
		}
	}
	return nil
}

// chainOrder returns the server names of l's SNI chains after checking their order.
func chainOrder(l *listenerv3.Listener) ([]string, error) {
	fcs := l.FilterChains
	if len(fcs) == 0 {
		return nil, broken("no filter chains")
	}
	last := fcs[len(fcs)-1]
	if last.FilterChainMatch != nil || len(last.Filters) != 2 ||
		last.Filters[0].Name != "envoy.filters.network.sni_cluster" || tcpProxyCluster(last) != "" {
		return nil, broken("last chain is not the catch-all: %v", last)
	}
	var names []string
	for _, fc := range fcs[:len(fcs)-1] {
		sn := fc.GetFilterChainMatch().GetServerNames()
		if len(sn) != 1 || len(fc.Filters) != 1 {
			return nil, broken("chain is not a single SNI tcp_proxy chain: %v", fc)
		}
		if c := tcpProxyCluster(fc); c != sn[0] {
			return nil, broken("chain for %q proxies to %q", sn[0], c)
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
			return nil, broken("peer chains not strictly sorted: %q", peers)
		}
	}
	for i := 1; i < len(fcs)-1; i++ {
		if isAcceptChain(fcs[i]) {
			return nil, broken("accept chain is not first: %q", names)
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
				return broken("listener %q: chain proxies to missing cluster %q", l.Name, c)
			}
			chained[c] = true
		}
		if len(chained) != len(clusters) {
			return broken("listener %q: %d chains for %d clusters", l.Name, len(chained), len(clusters))
		}
	}
	return nil
}

func checkNoTransportSockets(res *xds.Resources) error {
	for _, c := range res.Clusters {
		if c.TransportSocket != nil || len(c.TransportSocketMatches) > 0 {
			return broken("cluster %q has a transport socket", c.Name)
		}
	}
	for _, l := range res.Listeners {
		for _, fc := range l.FilterChains {
			if fc.TransportSocket != nil {
				return broken("listener %q has a chain with a transport socket", l.Name)
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
				return broken("EDS cluster %q has inline endpoints", c.Name)
			}
			if !hasCLA && !accept[c.Name] {
				return broken("peer EDS cluster %q has no ClusterLoadAssignment", c.Name)
			}
			if hasCLA {
				if err := checkAddresses(cla, true); err != nil {
					return broken("cluster %q: %w", c.Name, err)
				}
			}
		case clusterv3.Cluster_STRICT_DNS:
			if hasCLA {
				return broken("DNS cluster %q also has a ClusterLoadAssignment", c.Name)
			}
			if c.LoadAssignment.GetClusterName() != c.Name {
				return broken("DNS cluster %q: load assignment named %q", c.Name, c.LoadAssignment.GetClusterName())
			}
			if err := checkAddresses(c.LoadAssignment, false); err != nil {
				return broken("cluster %q: %w", c.Name, err)
			}
		default:
			return broken("cluster %q has type %v", c.Name, c.GetType())
		}
	}
	for name := range clas {
		return broken("ClusterLoadAssignment %q has no cluster", name)
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
		return broken("endpoints %v: want one locality with endpoints", cla.Endpoints)
	}
	for _, lb := range cla.Endpoints[0].LbEndpoints {
		sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
		if isIP := net.ParseIP(sa.GetAddress()) != nil; isIP != ips {
			return broken("endpoint address %q: IP literal %v, want %v", sa.GetAddress(), isIP, ips)
		}
		if p := sa.GetPortValue(); p < 1 || p > 65535 {
			return broken("endpoint %q: port %d", sa.GetAddress(), p)
		}
	}
	return nil
}

// checkNames checks that only valid DNS names reach cluster names and server_names.
func checkNames(res *xds.Resources) error {
	for _, c := range res.Clusters {
		if err := peering.CheckServerName(c.Name); err != nil {
			return broken("cluster name: %w", err)
		}
	}
	for _, l := range res.Listeners {
		for _, fc := range l.FilterChains {
			for _, n := range fc.GetFilterChainMatch().GetServerNames() {
				if err := peering.CheckServerName(n); err != nil {
					return broken("listener %q server_names: %w", l.Name, err)
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

// tcpProxyOfChain decodes the chain's tcp_proxy filter, or returns nil.
func tcpProxyOfChain(fc *listenerv3.FilterChain) *tcpproxyv3.TcpProxy {
	for _, f := range fc.Filters {
		if f.Name != "envoy.filters.network.tcp_proxy" {
			continue
		}
		var tp tcpproxyv3.TcpProxy
		if err := f.GetTypedConfig().UnmarshalTo(&tp); err != nil {
			return nil
		}
		return &tp
	}
	return nil
}

// tcpProxyCluster returns the chain's tcp_proxy cluster, or "<none>" without one.
func tcpProxyCluster(fc *listenerv3.FilterChain) string {
	if tp := tcpProxyOfChain(fc); tp != nil {
		return tp.GetCluster()
	}
	return "<none>"
}

func tcpProxyStatPrefix(fc *listenerv3.FilterChain) string {
	return tcpProxyOfChain(fc).GetStatPrefix()
}

// oracleCluster is what the rules say one cluster must be.
type oracleCluster struct {
	dns   bool
	addrs []string // "host|port"; none for an accept cluster without usable servers
}

// expectedClusters derives the clusters from s directly from the rules: the feature
// gate (RULES.md §1, §7), the accept side (§3) and, for the dial side, the peering
// package's DialTargets (§4.1) minus the local server name.
func expectedClusters(s *peering.State) map[string]oracleCluster {
	out := map[string]oracleCluster{}
	gw := s.Gateway
	if gw == nil || gw.Kind != api.ServiceKindMeshGateway || s.MeshConfig == nil || s.MeshConfig.Peering == nil ||
		!s.MeshConfig.Peering.PeerThroughMeshGateways || (gw.Partition != "" && gw.Partition != "default") {
		return out
	}
	local := ""
	if s.Datacenter != "" && s.TrustDomain != "" && peering.CheckServerName(peering.ServerName(s.Datacenter, s.TrustDomain)) == nil {
		local = peering.ServerName(s.Datacenter, s.TrustDomain)
	}
	if local != "" {
		voters, addrs := false, []string{}
		for _, e := range s.Servers {
			if e == nil || e.Service == nil || e.Service.Meta["read_replica"] == "true" {
				continue
			}
			voters = true
			port, err := peering.ParsePort(e.Service.Meta["grpc_tls_port"])
			host := e.Service.Address
			if host == "" && e.Node != nil {
				host = e.Node.Address
			}
			if _, ok := e.Service.Meta["grpc_tls_port"]; ok && err == nil && net.ParseIP(host) != nil {
				addrs = append(addrs, fmt.Sprintf("%s|%d", host, port))
			}
		}
		if voters {
			out[local] = oracleCluster{addrs: addrs}
		}
	}
	targets, _ := peering.DialTargets(s.Peerings)
	for _, t := range targets {
		if t.ServerName == local {
			continue
		}
		c := oracleCluster{dns: t.Hostnames}
		for _, a := range t.Addresses {
			c.addrs = append(c.addrs, fmt.Sprintf("%s|%d", a.Host, a.Port))
		}
		out[t.ServerName] = c
	}
	return out
}

// checkAgainstOracle compares the clusters and endpoints with expectedClusters, and the
// listeners of a gateway without bind options with its one default listener.
func checkAgainstOracle(s *peering.State, res *xds.Resources) error {
	want := expectedClusters(s)
	got := map[string]oracleCluster{}
	for _, c := range res.Clusters {
		oc := oracleCluster{dns: c.GetType() == clusterv3.Cluster_STRICT_DNS, addrs: []string{}}
		if oc.dns {
			oc.addrs = endpointAddrs(c.LoadAssignment)
		}
		got[c.Name] = oc
	}
	for _, e := range res.Endpoints {
		oc := got[e.ClusterName]
		oc.addrs = endpointAddrs(e)
		got[e.ClusterName] = oc
	}
	for name := range want {
		if want[name].addrs == nil {
			w := want[name]
			w.addrs = []string{}
			want[name] = w
		}
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(oracleCluster{})); diff != "" {
		return broken("clusters differ from the rules (-want +got):\n%s", diff)
	}
	return checkDefaultListener(s, res)
}

func endpointAddrs(cla *endpointv3.ClusterLoadAssignment) []string {
	out := []string{}
	for _, loc := range cla.GetEndpoints() {
		for _, lb := range loc.LbEndpoints {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			out = append(out, fmt.Sprintf("%s|%d", sa.GetAddress(), sa.GetPortValue()))
		}
	}
	return out
}

// checkDefaultListener checks the listeners of a gateway whose Proxy.Config has no bind
// option: none for a missing or non-mesh gateway, else "default:<address>:<port>" when
// the address (empty meaning 0.0.0.0) is an IP literal and the port valid (RULES.md §6).
func checkDefaultListener(s *peering.State, res *xds.Resources) error {
	gw := s.Gateway
	var names []string
	for _, l := range res.Listeners {
		names = append(names, l.Name)
	}
	if gw == nil || gw.Kind != api.ServiceKindMeshGateway {
		if len(names) > 0 {
			return broken("listeners %q for a gateway that is not a mesh gateway", names)
		}
		return nil
	}
	if gw.Proxy != nil {
		for k := range gw.Proxy.Config {
			if strings.HasPrefix(k, "envoy_") {
				return nil
			}
		}
	}
	target := targetOf(s)
	addr := gw.Address
	if addr == "" {
		addr = "0.0.0.0"
		if atLeast(target, "1.22.0-rc1") && agentDualStack(s) {
			addr = "::"
		}
	}
	var want []string
	if net.ParseIP(addr) != nil && gw.Port >= 1 && gw.Port <= 65535 {
		port := strconv.Itoa(gw.Port)
		want = []string{"default:" + addr + ":" + port}
		if atLeast(target, "1.21.2") {
			want = []string{"default:" + net.JoinHostPort(addr, port)}
		}
	}
	if !slices.Equal(names, want) {
		return broken("listeners %q, want %q", names, want)
	}
	return nil
}

// targetOf is the Consul version Build targets for s without options: the agent's when
// supported, else the default (RULES.md §11).
func targetOf(s *peering.State) xds.ConsulVersion {
	if v, err := xds.ParseConsulVersion(s.Agent.Version); err == nil {
		return v
	}
	return xds.DefaultConsulVersion
}

func atLeast(v xds.ConsulVersion, first string) bool {
	f, err := xds.ParseConsulVersion(first)
	return err == nil && v.Compare(f) >= 0
}

// agentDualStack reports Consul's dual-stack test of the agent's bind address: IPv6,
// not IPv4-mapped.
func agentDualStack(s *peering.State) bool {
	a, err := netip.ParseAddr(s.Agent.BindAddr)
	return err == nil && a.Is6() && !a.Is4In6()
}

// TestPropertyChecks makes sure each property check fails on resources that break it,
// so that the random tests cannot pass vacuously.
func TestPropertyChecks(t *testing.T) {
	tests := []struct {
		name   string
		check  func(*xds.Resources) error
		mutate func(r *xds.Resources)
	}{
		{"duplicate cluster", checkUniqueNames, func(r *xds.Resources) {
			r.Clusters = append(r.Clusters, r.Clusters[len(r.Clusters)-1])
		}},
		{"listener on a hostname", checkListeners, func(r *xds.Resources) {
			r.Listeners[0].Address.GetSocketAddress().Address = "gw.example.com"
		}},
		{"peer chains out of order", checkListeners, func(r *xds.Resources) {
			fcs := r.Listeners[0].FilterChains
			fcs[1], fcs[2] = fcs[2], fcs[1]
		}},
		{"catch-all not last", checkListeners, func(r *xds.Resources) {
			fcs := r.Listeners[0].FilterChains
			fcs[0], fcs[len(fcs)-1] = fcs[len(fcs)-1], fcs[0]
		}},
		{"accept chain not first", checkListeners, func(r *xds.Resources) {
			fcs := r.Listeners[0].FilterChains
			fcs[0], fcs[1] = fcs[1], fcs[0]
		}},
		{"chain to a missing cluster", checkChainClusters, func(r *xds.Resources) {
			r.Clusters = r.Clusters[1:]
		}},
		{"transport socket", checkNoTransportSockets, func(r *xds.Resources) {
			r.Clusters[0].TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls"}
		}},
		{"peer EDS cluster without CLA", checkEndpoints, func(r *xds.Resources) {
			r.Endpoints = r.Endpoints[:1]
		}},
		{"CLA with a hostname", checkEndpoints, func(r *xds.Resources) {
			r.Endpoints[1].Endpoints[0].LbEndpoints[0].GetEndpoint().Address.GetSocketAddress().Address = "a.example.com"
		}},
		{"invalid server name", checkNames, func(r *xds.Resources) {
			r.Clusters[1].Name = "*.peering.td"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := xds.Build(checksState())
			require.NoError(t, tt.check(res), "check fails before the mutation")
			res = cloneResources(res)
			tt.mutate(res)
			require.ErrorIs(t, tt.check(res), errBroken, "got no error from the check, want one")
		})
	}
}

// checksState has an accept side, two IP peers and a hostname peer, and one listener.
func checksState() *peering.State {
	dialer := func(name, serverName, addr string) peering.Peering {
		return peering.Peering{Peering: api.Peering{Name: name, ModifyIndex: 1, PeerServerName: serverName, PeerServerAddresses: []string{addr}}}
	}
	return &peering.State{
		Datacenter: "dc1", TrustDomain: propTrustDomain,
		Gateway:    &api.AgentService{Kind: api.ServiceKindMeshGateway, Address: "1.2.3.4", Port: 8443},
		MeshConfig: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
		Servers: []*api.ServiceEntry{{
			Node:    &api.Node{Node: "node1", Address: "10.0.0.1"},
			Service: &api.AgentService{Service: "consul", Meta: map[string]string{"grpc_tls_port": "8503"}},
		}},
		Peerings: []peering.Peering{
			dialer("a", "server.dc2.peering.td-two", "10.20.0.1:8443"),
			dialer("b", "server.dc3.peering.td-three", "10.30.0.1:8443"),
			dialer("c", "server.dc4.peering.td-four", "dc4.example.com:443"),
		},
	}
}

// cloneResources deep-copies r, whose messages may share parts.
func cloneResources(r *xds.Resources) *xds.Resources {
	out := &xds.Resources{}
	for _, c := range r.Clusters {
		out.Clusters = append(out.Clusters, proto.Clone(c).(*clusterv3.Cluster))
	}
	for _, e := range r.Endpoints {
		out.Endpoints = append(out.Endpoints, proto.Clone(e).(*endpointv3.ClusterLoadAssignment))
	}
	for _, l := range r.Listeners {
		out.Listeners = append(out.Listeners, proto.Clone(l).(*listenerv3.Listener))
	}
	return out
}
