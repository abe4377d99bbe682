package peeringgw_test

import (
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// The whole flow for one gateway of a dialing cluster: its registration, the mesh entry
// that turns the feature on, and the Envoy resources it then gets.
func Example() {
	reg, err := gateway.Registration{
		Address: "10.2.0.10",
		Port:    8443,
		WAN:     &api.ServiceAddress{Address: "203.0.113.10", Port: 443},
	}.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	state := &peering.State{
		Datacenter:  "dc2",
		TrustDomain: "a4c1e9b2-6d3f-4e7a-8b5c-2d1f0e9a8b7c.consul",
		Gateway: &api.AgentService{
			Kind: reg.Kind, ID: reg.ID, Service: reg.Name,
			Address: reg.Address, Port: reg.Port, TaggedAddresses: reg.TaggedAddresses,
		},
		MeshConfig: meshconfig.New(true),
		Servers: []*api.ServiceEntry{{
			Node:    &api.Node{Node: "dc2-server-1", Address: "10.2.0.1"},
			Service: &api.AgentService{Service: "consul", Meta: map[string]string{"grpc_tls_port": "8503"}},
		}},
		Peerings: []peering.Peering{{Peering: api.Peering{
			Name:                "dc1",
			PeerServerName:      peering.ServerName("dc1", "7e0d5a3c-1b2f-4c8d-9e6a-0f1e2d3c4b5a.consul"),
			PeerServerAddresses: []string{"198.51.100.10:443"}, // dc1's gateway, from the token
		}}},
	}
	res, _ := xds.Build(state)
	for _, c := range res.Clusters {
		fmt.Println(c.GetName())
	}
	fmt.Println(res.Listeners[0].GetName())
	// Output:
	// server.dc1.peering.7e0d5a3c-1b2f-4c8d-9e6a-0f1e2d3c4b5a.consul
	// server.dc2.peering.a4c1e9b2-6d3f-4e7a-8b5c-2d1f0e9a8b7c.consul
	// default:10.2.0.10:8443
}
