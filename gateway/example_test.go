package gateway_test

import (
	"errors"
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
)

// A mesh gateway for peering control-plane traffic, registered in each peered cluster:
// local servers dial its address, peers its WAN address. On Consul Enterprise, also set
// Partition: "default".
func Example() {
	gw := gateway.Registration{
		Address: "10.0.0.5",
		Port:    8443,
		WAN:     &api.ServiceAddress{Address: "198.18.0.1", Port: 443},
		Options: gateway.Options{ConnectTimeoutMs: 2500},
	}
	reg, err := gw.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reg.Kind, reg.ID, reg.Name, reg.Address, reg.Port)
	fmt.Println("wan:", reg.TaggedAddresses["wan"].Address, reg.TaggedAddresses["wan"].Port)
	fmt.Println("config:", reg.Proxy.Config)
	// Output:
	// mesh-gateway mesh-gateway mesh-gateway 10.0.0.5 8443
	// wan: 198.18.0.1 443
	// config: map[connect_timeout_ms:2500]
}

func ExampleParseOptions() {
	opts, problems := gateway.ParseOptions(map[string]any{
		"connect_timeout_ms":                 "2500",
		"envoy_mesh_gateway_no_default_bind": "true",
		"envoy_dns_discovery_type":           "STRICT_DNS",
		"protocol":                           "tcp",
	})
	fmt.Println(opts.ConnectTimeout(), opts.NoDefaultBind)
	fmt.Println("no effect on peering:", opts.PeeringIneffective())
	for _, p := range problems {
		fmt.Println(p, errors.Is(p, gateway.ErrUnknownOption))
	}
	// Output:
	// 2.5s true
	// no effect on peering: [envoy_dns_discovery_type]
	// gateway: protocol: unknown proxy config key true
}

func ExampleBindAddresses() {
	svc := &api.AgentService{
		Address: "1.2.3.4",
		Port:    8443,
		TaggedAddresses: map[string]api.ServiceAddress{
			"lan": {Address: "1.2.3.4", Port: 8443},
			"wan": {Address: "gw.example.com", Port: 443},
		},
	}
	opts := gateway.Options{BindTaggedAddresses: true}
	binds, diags := gateway.BindAddresses(svc, opts)
	for _, b := range binds {
		fmt.Println(b.Name, b.Address, b.Port)
	}
	for _, d := range diags {
		fmt.Println(d)
	}
	// Output:
	// default 1.2.3.4 8443
	// gateway: TaggedAddresses[lan] "1.2.3.4:8443": address and port bound twice: listener "default" binds it first
	// gateway: TaggedAddresses[wan].Address "gw.example.com": not an IP address: Envoy cannot listen on it
}
