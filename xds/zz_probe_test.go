package xds_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

func TestZZProbe(t *testing.T) {
	tagged := map[string]api.ServiceAddress{}
	custom := map[string]any{}
	for i := range 20 {
		tagged[fmt.Sprintf("n%02d", i)] = api.ServiceAddress{Address: fmt.Sprintf("host-a%d", i), Port: 1}
		custom[fmt.Sprintf("n%02d", i)] = map[string]any{"address": fmt.Sprintf("host-b%d", i), "port": 2.0}
	}
	s := &peering.State{Datacenter: "dc1", TrustDomain: "td.consul",
		Gateway: &api.AgentService{Kind: api.ServiceKindMeshGateway, Address: "1.2.3.4", Port: 8443,
			TaggedAddresses: tagged,
			Proxy: &api.AgentServiceConnectProxyConfig{Config: map[string]any{
				"envoy_gateway_bind_tagged_addresses": true,
				"envoy_gateway_bind_addresses":        custom,
			}}},
		MeshConfig: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
	}
	seen := map[string]int{}
	for range 200 {
		_, d := xds.Build(s)
		var b strings.Builder
		for _, x := range d {
			fmt.Fprintln(&b, x)
		}
		seen[b.String()]++
	}
	t.Logf("%d distinct diagnostic lists", len(seen))
}
