package xds_test

import (
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// ExampleWithConsulVersion generates what two Consul versions serve for a gateway
// that listens on an IPv6 address: Consul 1.21.2 and later bracket it in the listener
// name. Without the option, the State's agent version decides, else the default.
func ExampleWithConsulVersion() {
	s := &peering.State{
		Datacenter: "dc1",
		Gateway: &api.AgentService{
			Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway",
			Address: "2001:db8::9", Port: 8443,
		},
	}
	for _, release := range []string{"1.14.8", "v1.22.0"} {
		v, err := xds.ParseConsulVersion(release)
		if err != nil {
			fmt.Println(err)
			return
		}
		res, _ := xds.Build(s, xds.WithConsulVersion(v))
		fmt.Println(v, res.Listeners[0].Name)
	}
	s.Agent.Version = "1.14.8"
	res, _ := xds.Build(s)
	fmt.Println("agent", res.Listeners[0].Name)

	_, err := xds.ParseConsulVersion("1.12.0")
	fmt.Println(err)
	// Output:
	// 1.14.8 default:2001:db8::9:8443
	// 1.22.0 default:[2001:db8::9]:8443
	// agent default:2001:db8::9:8443
	// xds: bad Consul version "1.12.0": not supported: generation targets 1.14 to 1.22.x
}
