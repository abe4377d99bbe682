package servicedef_test

import (
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/gateway/servicedef"
)

func ExampleRenderHCL() {
	gw := gateway.Registration{
		Address: "10.0.0.5",
		Port:    8443,
		LAN:     &api.ServiceAddress{Address: "10.0.0.5", Port: 8443},
		WAN:     &api.ServiceAddress{Address: "gw.dc1.example.com", Port: 443},
		Options: gateway.Options{
			ConnectTimeoutMs: 2500,
			BindAddresses: map[string]api.ServiceAddress{
				"public": {Address: "198.18.0.1", Port: 443},
			},
			StatsdURL: "udp://${HOST_IP}:8125",
		},
	}
	hcl, err := servicedef.RenderHCL(gw)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(hcl))
	// Output:
	// service {
	//   name    = "mesh-gateway"
	//   kind    = "mesh-gateway"
	//   address = "10.0.0.5"
	//   port    = 8443
	//   tagged_addresses {
	//     lan {
	//       address = "10.0.0.5"
	//       port    = 8443
	//     }
	//     wan {
	//       address = "gw.dc1.example.com"
	//       port    = 443
	//     }
	//   }
	//   proxy {
	//     config {
	//       connect_timeout_ms = 2500
	//       envoy_gateway_bind_addresses = {
	//         public = {
	//           address = "198.18.0.1"
	//           port    = 443
	//         }
	//       }
	//       envoy_statsd_url = "udp://\u0024{HOST_IP}:8125"
	//     }
	//   }
	// }
}

func ExampleParseJSON() {
	gw, err := servicedef.ParseJSON([]byte(`{"service": {"name": "gw", "kind": "mesh-gateway", "port": 8443,
  "proxy": {"config": {"connect_timeout_ms": "2500", "protocol": "tcp"}}}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(gw.Name, gw.Port, gw.Options.ConnectTimeoutMs, gw.Options.Extra)

	_, err = servicedef.ParseJSON([]byte(`{"service": {"name": "gw", "kind": "connect-proxy", "port": 8443}}`))
	fmt.Println(err)
	// Output:
	// gw 8443 2500 map[protocol:tcp]
	// gateway: service.kind "connect-proxy": unsupported service definition: want mesh-gateway
}
