package xds_test

import (
	"fmt"
	"slices"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

func exampleState() *peering.State {
	return &peering.State{
		Datacenter:  "dc1",
		TrustDomain: "11111111-2222-3333-4444-555555555555.consul",
		Gateway: &api.AgentService{
			Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway",
			Address: "10.0.0.10", Port: 8443,
		},
		MeshConfig: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
		Servers: []*api.ServiceEntry{{
			Node:    &api.Node{Node: "server-1", Address: "10.0.0.1"},
			Service: &api.AgentService{Service: "consul", Meta: map[string]string{"grpc_tls_port": "8503"}},
		}},
		Peerings: []peering.Peering{{Peering: api.Peering{
			Name: "dc2", ModifyIndex: 7,
			PeerServerName:      "server.dc2.peering.aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.consul",
			PeerServerAddresses: []string{"203.0.113.20:443"},
		}}},
	}
}

func ExampleBuild() {
	res, diags := xds.Build(exampleState())
	for _, c := range res.Clusters {
		fmt.Println("cluster", c.GetName(), c.GetType())
	}
	for _, e := range res.Endpoints {
		for _, lb := range e.GetEndpoints()[0].GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			fmt.Printf("endpoint %s %s:%d\n", e.GetClusterName(), sa.GetAddress(), sa.GetPortValue())
		}
	}
	for _, l := range res.Listeners {
		fmt.Println("listener", l.GetName(), "chains:", len(l.GetFilterChains()))
	}
	fmt.Println("diagnostics:", len(diags))
	// Output:
	// cluster server.dc1.peering.11111111-2222-3333-4444-555555555555.consul EDS
	// cluster server.dc2.peering.aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.consul EDS
	// endpoint server.dc1.peering.11111111-2222-3333-4444-555555555555.consul 10.0.0.1:8503
	// endpoint server.dc2.peering.aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.consul 203.0.113.20:443
	// listener default:10.0.0.10:8443 chains: 3
	// diagnostics: 0
}

func ExampleBuild_diagnostics() {
	s := exampleState()
	s.Servers[0].Service.Meta = map[string]string{"grpc_port": "8502"}
	s.Peerings[0].PeerServerAddresses = []string{"203.0.113.20"}
	_, diags := xds.Build(s)
	for _, d := range diags {
		fmt.Println(d)
	}
	// Output:
	// Servers[0] (node server-1): xds: server has no grpc_tls_port; peers cannot reach this server, skipped
	// Peerings: peering default/dc2: PeerServerAddresses[0] "203.0.113.20": peering: bad server address: address 203.0.113.20: missing port in address
	// Peerings: peering default/dc2: PeerServerAddresses "203.0.113.20": peering: no usable server address
}

func ExampleBuilder() {
	b := xds.NewBuilder()
	s := exampleState()
	b.Set(s)

	// One peering's addresses change: only its endpoints are rebuilt. States are
	// immutable once given to a Builder, so the next one is a copy that shares what
	// did not change.
	next := *s
	next.Peerings = slices.Clone(s.Peerings)
	next.Peerings[0].PeerServerAddresses = []string{"203.0.113.21:443"}
	ch := b.Set(&next)
	fmt.Println("clusters:", len(ch.Clusters), "endpoints:", len(ch.Endpoints), "listeners:", len(ch.Listeners))
	fmt.Println(ch.Endpoints[0].GetClusterName())
	// Output:
	// clusters: 0 endpoints: 1 listeners: 0
	// server.dc2.peering.aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.consul
}
