package servicedef

import (
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
)

func TestParseHCL(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want gateway.Registration
	}{
		{
			name: "documentation style, keys in other cases",
			src: `
# A mesh gateway.
Service {
  Name = "gw"
  Kind = "mesh-gateway"
  Port = 8443
  tagged_addresses {
    wan {
      address = "198.18.0.1"
      port    = 443
    }
  }
  meta {
    team = "platform"
  }
  proxy {
    config {
      envoy_mesh_gateway_no_default_bind = true
      envoy_gateway_bind_addresses {
        public {
          address = "198.18.0.1"
          port    = 443
        }
      }
    }
  }
}
`,
			want: gateway.Registration{
				Name: "gw", Port: 8443,
				WAN:  &api.ServiceAddress{Address: "198.18.0.1", Port: 443},
				Meta: map[string]string{"team": "platform"},
				Options: gateway.Options{
					NoDefaultBind: true,
					BindAddresses: map[string]api.ServiceAddress{"public": {Address: "198.18.0.1", Port: 443}},
				},
			},
		},
		{
			name: "objects instead of blocks, escaped template sequences",
			src: `
service {
  name             = "gw"
  kind             = "mesh-gateway"
  port             = 8443
  tagged_addresses = { lan = { address = "10.0.0.5", port = 8443 } }
  proxy = {
    config = {
      envoy_statsd_url    = "udp://$${HOST_IP}:8125"
      envoy_dogstatsd_url = "udp://\u0024{HOST_IP}:8125"
      envoy_stats_tags    = ["a=%%{b}"]
    }
  }
}
`,
			want: gateway.Registration{
				Name: "gw", Port: 8443,
				LAN: &api.ServiceAddress{Address: "10.0.0.5", Port: 8443},
				Options: gateway.Options{
					StatsdURL:    "udp://${HOST_IP}:8125",
					DogstatsdURL: "udp://${HOST_IP}:8125",
					StatsTags:    []string{"a=%{b}"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHCL([]byte(tt.src), "gw.hcl")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseHCLErrors(t *testing.T) {
	const valid = `name = "gw"
kind = "mesh-gateway"
port = 8443
`
	tests := []struct {
		name     string
		src      string
		problems []problem
	}{
		{name: "syntax", src: `service {`, problems: []problem{{"gw.hcl", gateway.ErrDefinition}}},
		{name: "no service", src: `name = "gw"`, problems: []problem{{"name", gateway.ErrDefinition}, {"service", gateway.ErrDefinition}}},
		{name: "two services", src: "service {\n" + valid + "}\nservice {\n" + valid + "}\n", problems: []problem{{"service", gateway.ErrDefinition}}},
		{name: "block label", src: "service \"gw\" {\n" + valid + "}\n", problems: []problem{{"service", gateway.ErrDefinition}}},
		{name: "attribute and block", src: "service = {}\nservice {\n" + valid + "}\n", problems: []problem{{"service", gateway.ErrDefinition}}},
		{name: "unsupported key", src: "service {\n" + valid + "check {\n tcp = \"localhost:8443\"\n}\n}\n", problems: []problem{{"service.check", gateway.ErrDefinition}}},
		{name: "namespace", src: "service {\n" + valid + "namespace = \"ns\"\n}\n", problems: []problem{{"service.namespace", gateway.ErrDefinition}}},
		{name: "key given twice", src: "service {\n" + valid + "NAME = \"x\"\n}\n", problems: []problem{{"service.name", gateway.ErrDefinition}}},
		{name: "no kind", src: "service {\nname = \"gw\"\nport = 8443\n}\n", problems: []problem{{"service.kind", gateway.ErrDefinition}}},
		{name: "other kind", src: "service {\nname = \"gw\"\nkind = \"connect-proxy\"\nport = 8443\n}\n", problems: []problem{{"service.kind", gateway.ErrDefinition}}},
		{name: "port as a string", src: "service {\nname = \"gw\"\nkind = \"mesh-gateway\"\nport = \"8443\"\n}\n", problems: []problem{{"service.port", gateway.ErrDefinition}}},
		{name: "fractional port", src: "service {\nname = \"gw\"\nkind = \"mesh-gateway\"\nport = 8443.5\n}\n", problems: []problem{{"service.port", gateway.ErrDefinition}}},
		{name: "tags not a list", src: "service {\n" + valid + "tags = \"a\"\n}\n", problems: []problem{{"service.tags", gateway.ErrDefinition}}},
		{name: "tag not a string", src: "service {\n" + valid + "tags = [1]\n}\n", problems: []problem{{"service.tags[0]", gateway.ErrDefinition}}},
		{name: "meta not a map", src: "service {\n" + valid + "meta = [\"a\"]\n}\n", problems: []problem{{"service.meta", gateway.ErrDefinition}}},
		{name: "other tagged address", src: "service {\n" + valid + "tagged_addresses {\nlan_ipv4 {\naddress = \"10.0.0.5\"\nport = 8443\n}\n}\n}\n", problems: []problem{{"service.tagged_addresses.lan_ipv4", gateway.ErrDefinition}}},
		{name: "tagged address field", src: "service {\n" + valid + "tagged_addresses {\nwan {\naddr = \"10.0.0.5\"\n}\n}\n}\n", problems: []problem{{"service.tagged_addresses.wan.addr", gateway.ErrDefinition}}},
		{name: "proxy upstreams", src: "service {\n" + valid + "proxy {\nupstreams = []\n}\n}\n", problems: []problem{{"service.proxy.upstreams", gateway.ErrDefinition}}},
		{name: "ill-typed option", src: "service {\n" + valid + "proxy {\nconfig {\nconnect_timeout_ms = \"soon\"\n}\n}\n}\n", problems: []problem{{"service.proxy.config.connect_timeout_ms", gateway.ErrOptionType}}},
		{name: "interpolation", src: "service {\n" + valid + "proxy {\nconfig {\nenvoy_statsd_url = \"udp://${HOST_IP}:8125\"\n}\n}\n}\n", problems: []problem{{"service.proxy.config.envoy_statsd_url", gateway.ErrDefinition}}},
		{name: "function call", src: "service {\n" + valid + "address = upper(\"a\")\n}\n", problems: []problem{{"service.address", gateway.ErrDefinition}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHCL([]byte(tt.src), "gw.hcl")
			assertErrors(t, tt.problems, err)
		})
	}
}
