package xds_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

// Random States for the property tests. They mix valid input with every edge case the
// rules name: malformed ports and addresses, hostnames, IPv6, duplicate server names and
// ModifyIndex ties, acceptors, read replicas, invalid server names, the local server name,
// a disabled flag, other partitions and kinds, and every bind option.

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// propPeerNames are the PeerServerNames peerings draw from: valid names, the local
// servers' names for dc1 and dc2, and names that are not valid DNS names.
var propPeerNames = []string{
	"server.dc3.peering.td-three", "server.dc3.peering.td-three", "server.dc4.peering.td-four",
	"server.dc5.peering.td-five", "SERVER.dc6.peering.td-six",
	"server.dc1.peering." + propTrustDomain, "server.dc2.peering." + propTrustDomain,
	"*", "", "server..peering.td", "server dc7.peering.td", "server.dc8:1.peering.td",
	"server." + strings.Repeat("a", 64) + ".td", strings.Repeat("b.", 127) + "b",
}

// propPeerAddresses and propBadPeerAddresses are the peer server addresses peerings
// draw from.
var (
	propPeerAddresses = []string{
		"10.20.0.1:8443", "10.20.0.2:8443", "9.10.11.12:5200", "13.14.15.16:5200",
		"[2001:db8::1]:8443", "[::1]:8443", "a.example.com:8443", "b.example.com:443",
	}
	propBadPeerAddresses = []string{
		"10.8.8.8", "h.example.com:notaport", "10.0.0.1:0", "10.0.0.2:70000", ":8443",
		"10.0.0.3:+8443", "bad_host!:8443", "[2001:db8::1]", "",
	}
)

var propPeeringNames = []string{"p0", "p1", "p2", "p3", "p4", "p5"}

var propPartitions = []string{"", "", "default", "team-a"}

// randomState returns a random State. With uniqueKeys no two peerings share a partition
// and name, as in Consul.
func randomState(r *rand.Rand, uniqueKeys bool) *peering.State {
	s := &peering.State{
		Datacenter:  pick(r, "dc1", "dc1", "dc1", "dc2", ""),
		TrustDomain: pick(r, propTrustDomain, propTrustDomain, propTrustDomain, ""),
		Gateway:     randomGateway(r),
		MeshConfig:  randomMesh(r),
		Servers:     randomServers(r),
	}
	seen := map[string]bool{}
	for range r.IntN(9) {
		p := randomPeering(r)
		if uniqueKeys {
			if seen[p.Key()] {
				continue
			}
			seen[p.Key()] = true
		}
		s.Peerings = append(s.Peerings, p)
	}
	return s
}

// randomVersionInputs sets the inputs of the version switches: the agent's version and
// bind address and the gateway's service-defaults limits. The Loop's tests leave them
// out: the sources they read through do not carry them yet.
func randomVersionInputs(r *rand.Rand, s *peering.State) {
	if r.IntN(2) == 0 {
		s.Agent = peering.AgentConfig{
			Version:  pick(r, "", "1.14.8", "1.17.1", "1.18.2", "1.21.2", "1.22.0", "banana"),
			BindAddr: pick(r, "", "0.0.0.0", "::", "2001:db8::1"),
		}
	}
	if r.IntN(3) == 0 {
		n := pick(r, 0, 1, 100, -1)
		s.ServiceDefaults = &api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: pick(r, "mesh-gateway", "mesh-gateway", "web"),
			UpstreamConfig: &api.UpstreamConfiguration{Defaults: &api.UpstreamConfig{Limits: &api.UpstreamLimits{MaxConnections: &n}}}}
	}
}

func randomMesh(r *rand.Rand) *api.MeshConfigEntry {
	switch r.IntN(12) {
	case 0:
		return nil
	case 1:
		return &api.MeshConfigEntry{}
	case 2:
		return &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{}}
	}
	return &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}}
}

func randomGateway(r *rand.Rand) *api.AgentService {
	kind := api.ServiceKindMeshGateway
	switch r.IntN(25) {
	case 0:
		return nil
	case 1:
		kind = api.ServiceKindTerminatingGateway
	}
	gw := &api.AgentService{
		Kind: kind, ID: "mesh-gateway", Service: "mesh-gateway",
		Address:   pick(r, "1.2.3.4", "1.2.3.4", "1.2.3.4", "1.2.3.4", "1.2.3.4", "", "2001:db8::9", "gw.example.com"),
		Port:      pick(r, 8443, 8443, 8443, 8443, 8443, 443, 0, 70000),
		Partition: pick(r, "", "", "", "", "default", "team-a"),
	}
	if r.IntN(3) == 0 {
		gw.TaggedAddresses = map[string]api.ServiceAddress{}
		for range 1 + r.IntN(4) {
			gw.TaggedAddresses[pick(r, "lan", "wan", "lan_ipv6", "zone:a", "x", "\xfe")] = randomServiceAddress(r)
		}
	}
	if r.IntN(8) != 0 {
		gw.Proxy = &api.AgentServiceConnectProxyConfig{Config: randomGatewayConfig(r)}
	}
	if r.IntN(15) == 0 {
		addManyBinds(r, gw)
	}
	return gw
}

// addManyBinds gives gw more than a dozen tagged and custom binds, many sharing a name,
// so that sorting them is not a small (stable) insertion sort.
func addManyBinds(r *rand.Rand, gw *api.AgentService) {
	if gw.Proxy == nil {
		gw.Proxy = &api.AgentServiceConnectProxyConfig{}
	}
	cfg := map[string]any{"envoy_gateway_bind_tagged_addresses": true}
	custom := map[string]any{}
	gw.TaggedAddresses = map[string]api.ServiceAddress{}
	for i := range 8 + r.IntN(8) {
		name := fmt.Sprintf("b%d", r.IntN(10))
		a := randomServiceAddress(r)
		if i%2 == 0 {
			gw.TaggedAddresses[name] = a
		} else {
			custom[name] = map[string]any{"address": a.Address, "port": float64(a.Port)}
		}
	}
	cfg["envoy_gateway_bind_addresses"] = custom
	gw.Proxy.Config = cfg
}

func randomServiceAddress(r *rand.Rand) api.ServiceAddress {
	return api.ServiceAddress{
		Address: pick(r, "1.2.3.4", "198.18.0.1", "10.0.0.9", "2001:db8::5", "localhost", ""),
		Port:    pick(r, 8443, 443, 9443, 0),
	}
}

// randomGatewayConfig returns a Proxy.Config with bind options, under their current or
// legacy keys, and a connect timeout, each possibly malformed. The values have the types
// encoding/json gives them.
func randomGatewayConfig(r *rand.Rand) map[string]any {
	cfg := map[string]any{}
	if r.IntN(3) == 0 {
		cfg["connect_timeout_ms"] = pick[any](r, 1500.0, "2500", 0.0, -1.0, "abc", 2.5, "")
	}
	if r.IntN(4) == 0 {
		cfg["xds_fetch_timeout_ms"] = pick[any](r, 9999.0, "1500", 0.0, -1.0, "abc")
	}
	if r.IntN(5) == 0 {
		cfg[pick(r, "envoy_gateway_no_default_bind", "envoy_mesh_gateway_no_default_bind")] = pick[any](r, true, false, "true")
	}
	if r.IntN(3) == 0 {
		cfg[pick(r, "envoy_gateway_bind_tagged_addresses", "envoy_mesh_gateway_bind_tagged_addresses")] = pick[any](r, true, true, "true", false)
	}
	if r.IntN(3) == 0 {
		custom := map[string]any{}
		for range 1 + r.IntN(4) {
			a := randomServiceAddress(r)
			entry := map[string]any{"address": a.Address}
			if a.Port != 0 {
				entry["port"] = pick[any](r, float64(a.Port), fmt.Sprint(a.Port))
			}
			custom[pick(r, "lan", "wan", "x", "zone:a", "default", "custom", "bad\xff")] = entry
		}
		cfg[pick(r, "envoy_gateway_bind_addresses", "envoy_mesh_gateway_bind_addresses")] = custom
	}
	return cfg
}

func randomServers(r *rand.Rand) []*api.ServiceEntry {
	if r.IntN(10) == 0 {
		return nil
	}
	var out []*api.ServiceEntry
	for i := range r.IntN(6) {
		if r.IntN(30) == 0 {
			out = append(out, nil)
			continue
		}
		out = append(out, randomServer(r, i))
	}
	return out
}

func randomServer(r *rand.Rand, i int) *api.ServiceEntry {
	meta := map[string]string{}
	if r.IntN(6) != 0 {
		meta["grpc_tls_port"] = pick(r, "8503", "8503", "8503", "8502", "+8503", "0", "-1", "", "abc", "65536")
	}
	if r.IntN(3) == 0 {
		meta["grpc_port"] = "8502"
	}
	if r.IntN(3) == 0 {
		meta["read_replica"] = pick(r, "true", "true", "TRUE", "True", "1", "false", "")
	}
	e := &api.ServiceEntry{
		Node: &api.Node{
			Node:    fmt.Sprintf("node%d", i),
			Address: pick(r, fmt.Sprintf("10.0.0.%d", i+1), fmt.Sprintf("10.0.0.%d", i+1), fmt.Sprintf("2001:db8::%d", i+1), "", "node.example.com"),
		},
		Service: &api.AgentService{
			ID: "consul", Service: "consul", Port: 8300, Meta: meta,
			Address: pick(r, "", "", "", fmt.Sprintf("10.1.0.%d", i+1), "consul.example.com", "2001:db8:1::1"),
		},
	}
	if r.IntN(30) == 0 {
		e.Node = nil
	}
	if r.IntN(30) == 0 {
		e.Service = nil
	}
	if e.Service != nil && r.IntN(4) == 0 {
		e.Service.TaggedAddresses = map[string]api.ServiceAddress{"wan": {Address: "198.51.100.9", Port: 8503}}
	}
	return e
}

func randomPeering(r *rand.Rand) peering.Peering {
	p := peering.Peering{Peering: api.Peering{
		Name:           pick(r, propPeeringNames...),
		Partition:      pick(r, propPartitions...),
		ModifyIndex:    uint64(1 + r.IntN(3)),
		State:          pick(r, api.PeeringStateActive, api.PeeringStateActive, api.PeeringStateFailing, api.PeeringStateDeleting, api.PeeringStateTerminated),
		PeerServerName: pick(r, propPeerNames...),
	}}
	if r.IntN(5) != 0 {
		p.PeerServerAddresses = randomAddresses(r)
	}
	if r.IntN(5) == 0 {
		p.ManualServerAddresses = randomAddresses(r)
	}
	return p
}

func randomAddresses(r *rand.Rand) []string {
	var out []string
	for range r.IntN(4) {
		if r.IntN(4) == 0 {
			out = append(out, pick(r, propBadPeerAddresses...))
		} else {
			out = append(out, pick(r, propPeerAddresses...))
		}
	}
	return out
}
