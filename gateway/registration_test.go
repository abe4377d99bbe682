package gateway

import (
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validRegistration passes Validate; each row of TestRegistrationValidate breaks one rule.
func validRegistration() Registration {
	return Registration{
		Name:      "mesh-gateway",
		Address:   "10.0.0.5",
		Port:      8443,
		LAN:       &api.ServiceAddress{Address: "10.0.0.5", Port: 8443},
		WAN:       &api.ServiceAddress{Address: "gw.dc1.example.com", Port: 443},
		Meta:      map[string]string{"consul-wan-federation": "1", "team": "platform"},
		Partition: "default",
		Options: Options{
			ConnectTimeoutMs: 2500,
			BindAddresses:    map[string]api.ServiceAddress{"public": {Address: "198.18.0.1", Port: 443}},
		},
	}
}

func TestRegistrationValidate(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Registration)
		problems []problem
	}{
		{name: "valid", edit: func(*Registration) {}},
		{name: "port zero", edit: func(r *Registration) { r.Port = 0 },
			problems: []problem{{"Port", ErrPortRange}}},
		{name: "port too large", edit: func(r *Registration) { r.Port = 65536 },
			problems: []problem{{"Port", ErrPortRange}}},
		{name: "empty address", edit: func(r *Registration) { r.Address = "" }},
		{name: "IPv6 address", edit: func(r *Registration) { r.Address = "2001:db8::5" }},
		{name: "hostname address with the default listener", edit: func(r *Registration) { r.Address = "gw.internal" },
			problems: []problem{{"Address", ErrNotIP}}},
		{name: "hostname address without the default listener", edit: func(r *Registration) {
			r.Address = "gw.internal"
			r.Options.NoDefaultBind = true
		}},
		{name: "malformed address", edit: func(r *Registration) {
			r.Address = "10.0.0.5:8443"
			r.Options.NoDefaultBind = true
		}, problems: []problem{{"Address", ErrBadAddress}}},
		{name: "empty LAN address", edit: func(r *Registration) { r.LAN.Address = "" },
			problems: []problem{{"LAN.Address", ErrEmptyAddress}}},
		{name: "LAN port zero", edit: func(r *Registration) { r.LAN.Port = 0 },
			problems: []problem{{"LAN.Port", ErrPortRange}}},
		{name: "WAN port too large", edit: func(r *Registration) { r.WAN.Port = 70000 },
			problems: []problem{{"WAN.Port", ErrPortRange}}},
		{name: "malformed WAN address", edit: func(r *Registration) { r.WAN.Address = "https://gw.example.com" },
			problems: []problem{{"WAN.Address", ErrBadAddress}}},
		{name: "hostname WAN address bound by BindTaggedAddresses", edit: func(r *Registration) { r.Options.BindTaggedAddresses = true },
			problems: []problem{{"WAN.Address", ErrNotIP}}},
		{name: "IP tagged addresses bound by BindTaggedAddresses", edit: func(r *Registration) {
			r.WAN.Address = "198.18.0.2"
			r.Options.BindTaggedAddresses = true
		}},
		{name: "no tagged addresses", edit: func(r *Registration) { r.LAN, r.WAN = nil, nil }},
		{name: "non-default partition", edit: func(r *Registration) { r.Partition = "team-a" },
			problems: []problem{{"Partition", ErrPartition}}},
		{name: "empty partition", edit: func(r *Registration) { r.Partition = "" }},
		{name: "meta key with a dot", edit: func(r *Registration) { r.Meta["a.b"] = "x" },
			problems: []problem{{"Meta[a.b]", ErrMeta}}},
		{name: "meta key empty", edit: func(r *Registration) { r.Meta[""] = "x" },
			problems: []problem{{"Meta[]", ErrMeta}}},
		{name: "meta key too long", edit: func(r *Registration) { r.Meta[strings.Repeat("k", 129)] = "x" },
			problems: []problem{{"Meta[" + strings.Repeat("k", 129) + "]", ErrMeta}}},
		{name: "meta key reserved", edit: func(r *Registration) { r.Meta["consul-version"] = "x" },
			problems: []problem{{"Meta[consul-version]", ErrMeta}}},
		{name: "meta value too long", edit: func(r *Registration) { r.Meta["team"] = strings.Repeat("v", 513) },
			problems: []problem{{"Meta[team]", ErrMeta}}},
		{name: "too many meta pairs", edit: func(r *Registration) {
			for i := range 63 {
				r.Meta["k"+strings.Repeat("x", i)] = "v"
			}
		}, problems: []problem{{"Meta", ErrMeta}}},
		{name: "invalid option", edit: func(r *Registration) { r.Options.DNSDiscoveryType = "EDS" },
			problems: []problem{{"envoy_dns_discovery_type", ErrOptionValue}}},
		{name: "hostname custom bind address", edit: func(r *Registration) {
			r.Options.BindAddresses["public"] = api.ServiceAddress{Address: "gw.example.com", Port: 443}
		}, problems: []problem{{"envoy_gateway_bind_addresses[public].address", ErrNotIP}}},
		{name: "custom bind at the service address", edit: func(r *Registration) {
			r.Options.BindAddresses["public"] = api.ServiceAddress{Address: "10.0.0.5", Port: 8443}
		}, problems: []problem{{"envoy_gateway_bind_addresses[public]", ErrDuplicateBind}}},
		{name: "custom bind at 0.0.0.0 when the service address is empty", edit: func(r *Registration) {
			r.Address = ""
			r.Options.BindAddresses["public"] = api.ServiceAddress{Address: "0.0.0.0", Port: 8443}
		}, problems: []problem{{"envoy_gateway_bind_addresses[public]", ErrDuplicateBind}}},
		{name: "two custom binds at one address", edit: func(r *Registration) {
			r.Options.BindAddresses["second"] = api.ServiceAddress{Address: "198.18.0.1", Port: 443}
		}, problems: []problem{{"envoy_gateway_bind_addresses[second]", ErrDuplicateBind}}},
		{name: "custom bind at a bound tagged address", edit: func(r *Registration) {
			r.WAN.Address = "198.18.0.1"
			r.Options.BindTaggedAddresses = true
		}, problems: []problem{{"envoy_gateway_bind_addresses[public]", ErrDuplicateBind}}},
		{name: "bound LAN equal to the service address is usual", edit: func(r *Registration) {
			r.WAN = nil
			r.Options.BindTaggedAddresses = true
		}},
		{name: "several problems are all reported", edit: func(r *Registration) {
			r.Port = 0
			r.Partition = "p"
			r.WAN.Port = -1
		}, problems: []problem{{"Port", ErrPortRange}, {"WAN.Port", ErrPortRange}, {"Partition", ErrPartition}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRegistration()
			tt.edit(&r)
			assertErrors(t, tt.problems, r.Validate())
		})
	}
}

func TestBuild(t *testing.T) {
	r := validRegistration()
	r.ID = "mesh-gateway-1"
	r.Tags = []string{"peering"}
	got, err := r.Build()
	require.NoError(t, err)
	want := &api.AgentServiceRegistration{
		Kind:    api.ServiceKindMeshGateway,
		ID:      "mesh-gateway-1",
		Name:    "mesh-gateway",
		Tags:    []string{"peering"},
		Port:    8443,
		Address: "10.0.0.5",
		TaggedAddresses: map[string]api.ServiceAddress{
			"lan": {Address: "10.0.0.5", Port: 8443},
			"wan": {Address: "gw.dc1.example.com", Port: 443},
		},
		Meta:      map[string]string{"consul-wan-federation": "1", "team": "platform"},
		Partition: "default",
		Proxy: &api.AgentServiceConnectProxyConfig{Config: map[string]any{
			"connect_timeout_ms": 2500,
			"envoy_gateway_bind_addresses": map[string]any{
				"public": map[string]any{"address": "198.18.0.1", "port": 443},
			},
		}},
	}
	assert.Equal(t, want, got)

	// The result shares nothing with r.
	got.Tags[0] = "x"
	got.Meta["team"] = "x"
	assert.Equal(t, validRegistration().Meta, r.Meta)
	assert.Equal(t, []string{"peering"}, r.Tags)
}

func TestBuildDefaults(t *testing.T) {
	got, err := Registration{Port: 8443}.Build()
	require.NoError(t, err)
	assert.Equal(t, &api.AgentServiceRegistration{
		Kind: api.ServiceKindMeshGateway,
		ID:   "mesh-gateway",
		Name: "mesh-gateway",
		Port: 8443,
	}, got)

	got, err = Registration{Name: "gw-east", Port: 8443}.Build()
	require.NoError(t, err)
	assert.Equal(t, "gw-east", got.ID, "got ID %q, want the name", got.ID)
}

func TestBuildInvalid(t *testing.T) {
	got, err := Registration{Port: 8443, Partition: "team-a"}.Build()
	require.ErrorIs(t, err, ErrPartition)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Partition", ve.Field)
	assert.Nil(t, got)
}

func TestIsDNSName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"gw.example.com", true},
		{"gw.example.com.", true},
		{"_gw-1.example", true},
		{"localhost", true},
		{"", false},
		{".", false},
		{"a..b", false},
		{"-a.b", false},
		{"a-.b", false},
		{"a b", false},
		{"a:443", false},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("a.", 127) + "ab", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, isDNSName(tt.in), "isDNSName(%q)", tt.in)
	}
}
