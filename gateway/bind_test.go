package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The cases of xds/RULES.md §6.1 (listener bind addresses), and this package's departures
// from Consul: no hostname or bad port ever becomes a bind.
func TestBindAddresses(t *testing.T) {
	tagged := map[string]api.ServiceAddress{
		"lan": {Address: "1.2.3.4", Port: 8443},
		"wan": {Address: "198.18.0.1", Port: 443},
	}
	tests := []struct {
		name  string
		svc   *api.AgentService
		opts  Options
		want  []Bind
		diags []problem
	}{
		{
			name: "default bind on the service address and port",
			svc:  &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: tagged},
			want: []Bind{{"default", "1.2.3.4", 8443}},
		},
		{
			name: "empty service address binds 0.0.0.0",
			svc:  &api.AgentService{Port: 8443},
			want: []Bind{{"default", "0.0.0.0", 8443}},
		},
		{
			name: "a tag may be empty, as in Consul: its listener's name starts with the colon",
			svc:  &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: map[string]api.ServiceAddress{"": {Address: "10.0.0.1", Port: 3}}},
			opts: Options{BindTaggedAddresses: true, NoDefaultBind: true},
			want: []Bind{{"", "10.0.0.1", 3}},
		},
		{
			name: "no default bind and nothing else",
			svc:  &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: tagged},
			opts: Options{NoDefaultBind: true},
		},
		{
			name:  "tagged addresses, sorted by name, the one equal to default dropped",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: tagged},
			opts:  Options{BindTaggedAddresses: true},
			want:  []Bind{{"default", "1.2.3.4", 8443}, {"wan", "198.18.0.1", 443}},
			diags: []problem{{"TaggedAddresses[lan]", ErrDuplicateBind}},
		},
		{
			name: "tagged addresses without default (gen-bind-tagged-addresses)",
			svc:  &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: tagged},
			opts: Options{BindTaggedAddresses: true, NoDefaultBind: true},
			want: []Bind{{"lan", "1.2.3.4", 8443}, {"wan", "198.18.0.1", 443}},
		},
		{
			name: "the agent's lan_ipv4 and wan_ipv4 duplicate the service address",
			svc: &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: map[string]api.ServiceAddress{
				"lan_ipv4": {Address: "1.2.3.4", Port: 8443},
				"wan_ipv4": {Address: "1.2.3.4", Port: 8443},
				"wan":      {Address: "198.18.0.1", Port: 443},
			}},
			opts: Options{BindTaggedAddresses: true},
			want: []Bind{{"default", "1.2.3.4", 8443}, {"wan", "198.18.0.1", 443}},
			diags: []problem{
				{"TaggedAddresses[lan_ipv4]", ErrDuplicateBind},
				{"TaggedAddresses[wan_ipv4]", ErrDuplicateBind},
			},
		},
		{
			name: "tagged addresses are not bound without the option",
			svc:  &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: tagged},
			opts: Options{BindAddresses: map[string]api.ServiceAddress{"extra": {Address: "10.0.0.1", Port: 9000}}},
			want: []Bind{{"default", "1.2.3.4", 8443}, {"extra", "10.0.0.1", 9000}},
		},
		{
			name:  "a custom bind sorted before default replaces it (gen-bind-custom-addresses-dedupe)",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443},
			opts:  Options{BindAddresses: map[string]api.ServiceAddress{"bar": {Address: "1.2.3.4", Port: 8443}, "foo": {Address: "10.0.0.1", Port: 9000}}},
			want:  []Bind{{"bar", "1.2.3.4", 8443}, {"foo", "10.0.0.1", 9000}},
			diags: []problem{{"Address", ErrDuplicateBind}},
		},
		{
			name: "a custom and a tagged bind of one name and two addresses both bind",
			svc:  &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: tagged},
			opts: Options{NoDefaultBind: true, BindTaggedAddresses: true, BindAddresses: map[string]api.ServiceAddress{"wan": {Address: "10.0.0.9", Port: 443}}},
			want: []Bind{{"lan", "1.2.3.4", 8443}, {"wan", "198.18.0.1", 443}, {"wan", "10.0.0.9", 443}},
		},
		{
			name:  "a custom and a tagged bind of one name and address: the tagged one is kept",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: tagged},
			opts:  Options{NoDefaultBind: true, BindTaggedAddresses: true, BindAddresses: map[string]api.ServiceAddress{"wan": {Address: "198.18.0.1", Port: 443}}},
			want:  []Bind{{"lan", "1.2.3.4", 8443}, {"wan", "198.18.0.1", 443}},
			diags: []problem{{"envoy_gateway_bind_addresses[wan]", ErrDuplicateBind}},
		},
		{
			name: "IPv6",
			svc:  &api.AgentService{Address: "2001:db8::1", Port: 8443},
			opts: Options{BindAddresses: map[string]api.ServiceAddress{"any6": {Address: "::", Port: 8443}}},
			want: []Bind{{"any6", "::", 8443}, {"default", "2001:db8::1", 8443}},
		},
		{
			name:  "hostname service address is dropped",
			svc:   &api.AgentService{Address: "gw.example.com", Port: 8443},
			diags: []problem{{"Address", ErrNotIP}},
		},
		{
			name:  "hostname tagged address is dropped",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "gw.example.com", Port: 443}}},
			opts:  Options{BindTaggedAddresses: true},
			want:  []Bind{{"default", "1.2.3.4", 8443}},
			diags: []problem{{"TaggedAddresses[wan].Address", ErrNotIP}},
		},
		{
			name:  "hostname custom address is dropped",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443},
			opts:  Options{BindAddresses: map[string]api.ServiceAddress{"x": {Address: "localhost", Port: 9000}}},
			want:  []Bind{{"default", "1.2.3.4", 8443}},
			diags: []problem{{"envoy_gateway_bind_addresses[x].address", ErrNotIP}},
		},
		{
			name:  "a bind name that is not UTF-8 names no listener",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: map[string]api.ServiceAddress{"w\xffan": {Address: "198.18.0.1", Port: 443}}},
			opts:  Options{BindTaggedAddresses: true, BindAddresses: map[string]api.ServiceAddress{"x\xfe": {Address: "10.0.0.1", Port: 9000}}},
			want:  []Bind{{"default", "1.2.3.4", 8443}},
			diags: []problem{{"TaggedAddresses[w\xffan]", ErrBindName}, {"envoy_gateway_bind_addresses[x\xfe]", ErrBindName}},
		},
		{
			name:  "service port missing",
			svc:   &api.AgentService{Address: "1.2.3.4"},
			diags: []problem{{"Port", ErrPortRange}},
		},
		{
			name:  "tagged port out of range, and not an IP either",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "gw", Port: 70000}}},
			opts:  Options{BindTaggedAddresses: true, NoDefaultBind: true},
			diags: []problem{{"TaggedAddresses[wan].Address", ErrNotIP}, {"TaggedAddresses[wan].Port", ErrPortRange}},
		},
		{
			name:  "negative custom port",
			svc:   &api.AgentService{Address: "1.2.3.4", Port: 8443},
			opts:  Options{NoDefaultBind: true, BindAddresses: map[string]api.ServiceAddress{"x": {Address: "10.0.0.1", Port: -1}}},
			diags: []problem{{"envoy_gateway_bind_addresses[x].port", ErrPortRange}},
		},
		{
			name: "empty custom and tagged addresses listen on 127.0.0.1, then dedupe",
			svc:  &api.AgentService{Address: "1.2.3.4", Port: 8443, TaggedAddresses: map[string]api.ServiceAddress{"t": {Port: 9001}}},
			opts: Options{BindTaggedAddresses: true, BindAddresses: map[string]api.ServiceAddress{"a": {Port: 9000}, "b": {Address: "127.0.0.1", Port: 9000}}},
			want: []Bind{{"a", "127.0.0.1", 9000}, {"default", "1.2.3.4", 8443}, {"t", "127.0.0.1", 9001}},
			diags: []problem{
				{"envoy_gateway_bind_addresses[a].address", ErrEmptyAddress},
				{"envoy_gateway_bind_addresses[b]", ErrDuplicateBind},
				{"TaggedAddresses[t].Address", ErrEmptyAddress},
			},
		},
		{name: "nil service", svc: nil, opts: Options{BindAddresses: map[string]api.ServiceAddress{"x": {Address: "10.0.0.1", Port: 9000}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := BindAddresses(tt.svc, tt.opts)
			assert.Equal(t, tt.want, got)
			assertProblems(t, tt.diags, diags)
		})
	}
}

// conformanceCase is one case of testdata/conformance.json: the gateway of a
// conformance case's state.json (xds/testdata/conformance, generated by Consul 1.14.8),
// the names of the listeners in its want.json, and the connect timeouts of its
// clusters as protobuf JSON.
type conformanceCase struct {
	Gateway         api.AgentService
	Listeners       []string
	ConnectTimeouts []string
}

func TestConformance(t *testing.T) {
	data, err := os.ReadFile("testdata/conformance.json")
	require.NoError(t, err)
	var cases map[string]conformanceCase
	require.NoError(t, json.Unmarshal(data, &cases))
	require.NotEmpty(t, cases)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			opts, problems := ParseOptions(c.Gateway.Proxy.Config)
			require.Empty(t, problems)
			binds, diags := BindAddresses(&c.Gateway, opts)
			require.Empty(t, diags)
			names := make([]string, len(binds))
			for i, b := range binds {
				names[i] = fmt.Sprintf("%s:%s:%d", b.Name, b.Address, b.Port)
			}
			assert.Equal(t, c.Listeners, names)
			for _, want := range c.ConnectTimeouts {
				got, err := protojson.Marshal(durationpb.New(opts.ConnectTimeout()))
				require.NoError(t, err)
				assert.JSONEq(t, `"`+want+`"`, string(got))
			}
		})
	}
}
