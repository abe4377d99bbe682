package main

import (
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
)

// TestNewMeshGatewayWAN checks the address peers are given, in Consul's order of
// preference.
func TestNewMeshGatewayWAN(t *testing.T) {
	tests := []struct {
		name       string
		svc        api.AgentService
		node       api.Node
		wantWAN    string
		wantSource string
	}{
		{"wan tag", api.AgentService{Address: "10.0.0.1", Port: 8443,
			TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "198.51.100.1", Port: 443}}},
			api.Node{Address: "10.0.0.9"}, "198.51.100.1:443", fromWANTag},
		{"wan tag without port", api.AgentService{Address: "10.0.0.1", Port: 8443,
			TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "gw.example.com"}}},
			api.Node{Address: "10.0.0.9"}, "gw.example.com:8443", fromWANTag},
		{"wan_ipv4 is not wan", api.AgentService{Address: "10.0.0.1", Port: 8443,
			TaggedAddresses: map[string]api.ServiceAddress{"wan_ipv4": {Address: "10.0.0.1", Port: 8443}}},
			api.Node{Address: "10.0.0.9"}, "10.0.0.1:8443", fromService},
		{"node wan", api.AgentService{Port: 8443},
			api.Node{Address: "10.0.0.9", TaggedAddresses: map[string]string{"wan": "203.0.113.9"}}, "203.0.113.9:8443", fromNodeWAN},
		{"node address", api.AgentService{Port: 8443}, api.Node{Address: "10.0.0.9"}, "10.0.0.9:8443", fromNodeAddress},
		{"ipv6", api.AgentService{Address: "2001:db8::1", Port: 8443}, api.Node{}, "[2001:db8::1]:8443", fromService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.svc.ID, tt.node.Node = "gw", "n1"
			g := newMeshGateway(&api.ServiceEntry{Service: &tt.svc, Node: &tt.node})
			assert.Equal(t, tt.wantWAN, g.WAN, "got WAN %s, want %s", g.WAN, tt.wantWAN)
			assert.Equal(t, tt.wantSource, g.WANSource)
			assert.Equal(t, "gw on node n1", g.Name())
		})
	}
}

func TestClassify(t *testing.T) {
	gws := []meshGateway{newMeshGateway(&api.ServiceEntry{Node: &api.Node{Node: "n1"},
		Service: &api.AgentService{ID: "gw", Address: "198.51.100.1", Port: 443}})}
	servers := serverAddresses([]*api.ServiceEntry{
		{Node: &api.Node{Node: "s1", Address: "10.0.0.2", TaggedAddresses: map[string]string{"wan": "203.0.113.2"}},
			Service: &api.AgentService{Meta: map[string]string{"grpc_tls_port": "8503"}}},
		{Node: &api.Node{Node: "s2", Address: "10.0.0.3"}, Service: &api.AgentService{Meta: map[string]string{"grpc_port": "8502"}}},
		{Node: &api.Node{Node: "s3", Address: "10.0.0.4"}, Service: &api.AgentService{Meta: map[string]string{"grpc_tls_port": "-1"}}},
	})
	tests := []struct {
		name        string
		addrs       []string
		wantKinds   []addressKind
		wantVerdict string
	}{
		{"gateways", []string{"198.51.100.1:443"}, []addressKind{kindGateway}, "gateways"},
		{"server wan and lan", []string{"203.0.113.2:8503", "10.0.0.2:8503"}, []addressKind{kindServer, kindServer}, "servers"},
		{"grpc_port fallback", []string{"10.0.0.3:8502"}, []addressKind{kindServer}, "servers"},
		{"bad grpc_tls_port", []string{"10.0.0.4:-1"}, []addressKind{kindUnknown}, "unknown"},
		{"mixed", []string{"198.51.100.1:443", "10.0.0.2:8503"}, []addressKind{kindGateway, kindServer}, "mixed"},
		{"partly unknown", []string{"198.51.100.1:443", "192.0.2.1:443"}, []addressKind{kindGateway, kindUnknown}, "mixed"},
		{"none", nil, []addressKind{}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := classify(tt.addrs, gws, servers)
			kinds := []addressKind{}
			for _, c := range cs {
				kinds = append(kinds, c.Kind)
			}
			assert.Equal(t, tt.wantKinds, kinds)
			assert.Equal(t, tt.wantVerdict, verdict(cs))
		})
	}
}
