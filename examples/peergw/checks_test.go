package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/peering"
)

const (
	td1 = "11111111-2222-3333-4444-555555555555.consul"
	td2 = "66666666-7777-8888-9999-000000000000.consul"
)

// fixture returns a cluster doctor finds nothing wrong with: the flag on, a gateway with
// a WAN address, a voting server with grpc_tls_port.
func fixture(label, dc, td, wan string) *cluster {
	return &cluster{
		Label: label, Address: "http://" + dc + ":8500", Datacenter: dc, TrustDomain: td,
		Mesh: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}, ModifyIndex: 10},
		Gateways: []meshGateway{newMeshGateway(&api.ServiceEntry{
			Node: &api.Node{Node: "gw-node", Address: "10.0.0.1"},
			Service: &api.AgentService{Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway",
				Address: "10.0.0.1", Port: 8443, TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: wan, Port: 443}}},
		})},
		Servers: []*api.ServiceEntry{server("s1", "10.0.0.2", map[string]string{"grpc_tls_port": "8503"})},
	}
}

func server(node, addr string, meta map[string]string) *api.ServiceEntry {
	return &api.ServiceEntry{Node: &api.Node{Node: node, Address: addr},
		Service: &api.AgentService{ID: "consul", Service: "consul", Port: 8300, Meta: meta}}
}

// pair returns dc1 accepting and dc2 dialing a peering through dc1's gateway.
func pair() (*cluster, *cluster) {
	dc1 := fixture(clusterLocal, "dc1", td1, "198.51.100.1")
	dc2 := fixture(clusterPeer, "dc2", td2, "198.51.100.2")
	dc1.Peerings = []peering.Peering{{Peering: api.Peering{Name: "dc2", State: api.PeeringStateActive, CreateIndex: 20}}}
	dc2.Peerings = []peering.Peering{{Peering: api.Peering{Name: "dc1", State: api.PeeringStateActive, CreateIndex: 30,
		PeerServerName: peering.ServerName("dc1", td1), PeerServerAddresses: []string{"198.51.100.1:443"}}}}
	return dc1, dc2
}

func gatewaySvc(cl *cluster) *api.AgentService { return cl.Gateways[0].Entry.Service }

// regateway recomputes the gateway's WAN address after a change to its registration.
func regateway(cl *cluster) { cl.Gateways[0] = newMeshGateway(cl.Gateways[0].Entry) }

func insufficientPolicy(t *testing.T) *acl.Report {
	rep, err := acl.Check(`peering = "read"`, acl.EditionCE)
	require.NoError(t, err)
	return &rep
}

// TestDiagnose breaks one thing per row in clusters that are otherwise healthy, and
// checks that exactly the expected findings come out. Every finding ID has a row.
func TestDiagnose(t *testing.T) {
	tests := []struct {
		name     string
		pair     bool
		loopback bool
		breakIt  func(t *testing.T, dc1, dc2 *cluster)
		want     []string
	}{
		{name: "healthy", breakIt: func(*testing.T, *cluster, *cluster) {}},
		{name: "healthy pair", pair: true, breakIt: func(*testing.T, *cluster, *cluster) {}},
		{name: "no mesh entry", breakIt: func(_ *testing.T, c, _ *cluster) { c.Mesh = nil }, want: []string{"local/mesh-entry-missing"}},
		{name: "flag off", breakIt: func(_ *testing.T, c, _ *cluster) { c.Mesh.Peering.PeerThroughMeshGateways = false }, want: []string{"local/mesh-flag-off"}},
		{name: "flag outside default partition", breakIt: func(_ *testing.T, c, _ *cluster) { c.Mesh.Partition = "team" }, want: []string{"local/mesh-flag-off"}},
		{name: "flag off on the dialer", pair: true, breakIt: func(_ *testing.T, _, d *cluster) { d.Mesh = nil }, want: []string{"peer/mesh-entry-missing"}},
		{name: "token before flag", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Peerings = []peering.Peering{{Peering: api.Peering{Name: "dc2", State: api.PeeringStatePending, CreateIndex: 5}}}
		}, want: []string{"local/mesh-entry-after-token", "local/peering-pending"}},
		{name: "no gateway", breakIt: func(_ *testing.T, c, _ *cluster) { c.Gateways = nil }, want: []string{"local/gateway-missing"}},
		{name: "gateway in a partition", breakIt: func(_ *testing.T, c, _ *cluster) { gatewaySvc(c).Partition = "team" }, want: []string{"local/gateway-not-default-partition"}},
		{name: "no wan tag", breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).TaggedAddresses = nil
			regateway(c)
		}, want: []string{"local/gateway-no-wan-address"}},
		{name: "node wan address", breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).TaggedAddresses, gatewaySvc(c).Address = nil, ""
			c.Gateways[0].Entry.Node.TaggedAddresses = map[string]string{"wan": "203.0.113.1"}
			regateway(c)
		}, want: []string{"local/gateway-no-wan-address"}},
		{name: "loopback wan", breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).TaggedAddresses["wan"] = api.ServiceAddress{Address: "127.0.0.1", Port: 443}
			regateway(c)
		}, want: []string{"local/gateway-wan-loopback"}},
		{name: "loopback wan allowed", loopback: true, breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).TaggedAddresses["wan"] = api.ServiceAddress{Address: "::1", Port: 443}
			regateway(c)
		}},
		{name: "unspecified wan", loopback: true, breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).TaggedAddresses["wan"] = api.ServiceAddress{Address: "::", Port: 443}
			regateway(c)
		}, want: []string{"local/gateway-wan-unspecified"}},
		{name: "hostname wan", breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).TaggedAddresses["wan"] = api.ServiceAddress{Address: "gw.example.com", Port: 443}
			regateway(c)
		}},
		{name: "invalid option", breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).Proxy = &api.AgentServiceConnectProxyConfig{Config: map[string]any{"connect_timeout_ms": -5}}
		}, want: []string{"local/gateway-option-invalid"}},
		{name: "bound tagged addresses repeat the service address", breakIt: func(_ *testing.T, c, _ *cluster) {
			svc := gatewaySvc(c)
			svc.TaggedAddresses["lan_ipv4"] = api.ServiceAddress{Address: svc.Address, Port: svc.Port}
			svc.Proxy = &api.AgentServiceConnectProxyConfig{Config: map[string]any{"envoy_gateway_bind_tagged_addresses": true}}
			regateway(c)
		}},
		{name: "ineffective option", breakIt: func(_ *testing.T, c, _ *cluster) {
			gatewaySvc(c).Proxy = &api.AgentServiceConnectProxyConfig{Config: map[string]any{"envoy_gateway_remote_tcp_enable_keepalive": true}}
		}, want: []string{"local/gateway-option-ineffective"}},
		{name: "server without grpc_tls_port", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Servers = append(c.Servers, server("s2", "10.0.0.3", map[string]string{"grpc_port": "8502"}))
		}, want: []string{"local/server-no-grpc-tls-port"}},
		{name: "server with a bad grpc_tls_port", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Servers = append(c.Servers, server("s2", "10.0.0.3", map[string]string{"grpc_tls_port": "+8503"}))
		}, want: []string{"local/server-no-grpc-tls-port"}},
		{name: "server with a hostname", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Servers = append(c.Servers, server("s2", "s2.example.com", map[string]string{"grpc_tls_port": "8503"}))
		}, want: []string{"local/server-unusable"}},
		{name: "only read replicas", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Servers[0].Service.Meta["read_replica"] = "true"
		}, want: []string{"local/servers-only-read-replicas"}},
		{name: "no usable server", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Servers[0].Service.Meta = nil
		}, want: []string{"local/servers-none-usable", "local/server-no-grpc-tls-port"}},
		{name: "servers not readable", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Servers = nil
			c.Denied = []*peering.PermissionError{{Resource: "servers", Rule: "service:consul:read and node:read"}}
		}, want: []string{"local/token-permission"}},
		{name: "no peering:read", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Denied = []*peering.PermissionError{{Resource: "peerings", Rule: "peering:read"}}
		}, want: []string{"local/token-peering-read"}},
		{name: "unknown token", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Denied = []*peering.PermissionError{{Resource: "agent self"}}
		}, want: []string{"local/token-permission"}},
		{name: "policy short", breakIt: func(t *testing.T, c, _ *cluster) { c.Policy = insufficientPolicy(t) }, want: []string{"local/token-policy-insufficient"}},
		{name: "establishing", pair: true, breakIt: func(_ *testing.T, _, d *cluster) { d.Peerings[0].State = api.PeeringStateEstablishing }, want: []string{"peer/peering-pending"}},
		{name: "failing", pair: true, breakIt: func(_ *testing.T, c, _ *cluster) { c.Peerings[0].State = api.PeeringStateFailing }, want: []string{"local/peering-not-active"}},
		{name: "deleted peering", breakIt: func(_ *testing.T, c, _ *cluster) {
			c.Peerings = []peering.Peering{{Peering: api.Peering{Name: "old", State: api.PeeringStateDeleting, DeletedAt: &time.Time{}}}}
		}},
		{name: "bad peer address", pair: true, breakIt: func(_ *testing.T, _, d *cluster) {
			d.Peerings[0].PeerServerAddresses = append(d.Peerings[0].PeerServerAddresses, "198.51.100.9:99999")
		}, want: []string{"peer/peering-address-skipped", "peer/peering-addresses-not-gateways"}},
		{name: "dialing the servers", pair: true, breakIt: func(_ *testing.T, _, d *cluster) {
			d.Peerings[0].PeerServerAddresses = []string{"10.0.0.2:8503"}
		}, want: []string{"peer/peering-addresses-not-gateways"}},
		{name: "manual addresses override", pair: true, breakIt: func(_ *testing.T, _, d *cluster) {
			d.Peerings[0].ManualServerAddresses = []string{"lb.dc1.example.com:443"}
		}, want: []string{"peer/peering-addresses-not-gateways"}},
		{name: "not peered", pair: true, breakIt: func(_ *testing.T, c, d *cluster) { c.Peerings, d.Peerings = nil, nil }, want: []string{"local/peer-not-peered"}},
		{name: "peer's peerings not readable", pair: true, breakIt: func(_ *testing.T, _, d *cluster) {
			d.Peerings = nil
			d.Denied = []*peering.PermissionError{{Resource: "peerings", Rule: "peering:read"}}
		}, want: []string{"peer/token-peering-read"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc1, dc2 := pair()
			clusters := []*cluster{dc1, dc2}
			if !tt.pair {
				dc1.Peerings = nil
				clusters = clusters[:1]
			}
			tt.breakIt(t, dc1, dc2)
			fs := diagnose(clusters, doctorOptions{allowLoopback: tt.loopback, edition: acl.EditionCE})
			sortFindings(fs)
			got := []string{}
			for _, f := range fs {
				got = append(got, f.Cluster+"/"+f.ID)
				assert.Equal(t, findingSeverity[f.ID], f.Severity)
				assert.NotEmpty(t, f.What+f.Why+f.Fix)
			}
			want := tt.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, got, "got findings %v, want %v", got, want)
		})
		for _, w := range tt.want {
			_, id, _ := strings.Cut(w, "/")
			covered[id] = true
		}
	}
	for _, k := range findingKinds {
		assert.True(t, covered[k.id], "no row of TestDiagnose produces %s", k.id)
	}
}

func TestReportFails(t *testing.T) {
	tests := []struct {
		name   string
		sevs   []severity
		failOn string
		want   bool
	}{
		{"no findings", nil, "info", false},
		{"info by default", []severity{sevInfo}, "warning", false},
		{"warning by default", []severity{sevInfo, sevWarning}, "warning", true},
		{"warning with -fail-on error", []severity{sevWarning}, "error", false},
		{"error with -fail-on error", []severity{sevError}, "error", true},
		{"info with -fail-on info", []severity{sevInfo}, "info", true},
		{"never", []severity{sevError}, "never", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs []finding
			for _, s := range tt.sevs {
				fs = append(fs, finding{ID: "x", Severity: s})
			}
			rep := newDoctorReport(nil, fs)
			assert.Equal(t, tt.want, rep.fails(tt.failOn), "got fails %v, want %v", !tt.want, tt.want)
		})
	}
}

// TestReportJSON pins the JSON keys scripts read.
func TestReportJSON(t *testing.T) {
	dc1, _ := pair()
	dc1.Mesh = nil
	rep := newDoctorReport([]*cluster{dc1}, diagnose([]*cluster{dc1}, doctorOptions{edition: acl.EditionCE}))
	var buf bytes.Buffer
	require.NoError(t, rep.write(&buf, "json"))
	var got struct {
		Clusters []map[string]string `json:"clusters"`
		Findings []map[string]string `json:"findings"`
		Summary  map[string]int      `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, map[string]string{"name": "local", "address": "http://dc1:8500", "datacenter": "dc1",
		"trust_domain": td1, "server_name": "server.dc1.peering." + td1}, got.Clusters[0])
	require.Len(t, got.Findings, 1)
	assert.Equal(t, []string{"cluster", "fix", "id", "severity", "what", "why"}, sortedKeys(got.Findings[0]))
	assert.Equal(t, map[string]int{"error": 1, "warning": 0, "info": 0}, got.Summary)
}
