package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/testconsul"
)

const (
	// waitFor bounds polls for a state Consul reaches on its own (a peering becomes
	// ACTIVE about 5 s after it is established).
	waitFor = 60 * time.Second
	tick    = 100 * time.Millisecond
)

// runDoctorJSON runs doctor with -format json against agent, and decodes its report.
func runDoctorJSON(t *testing.T, agent *testconsul.Agent, token string, args ...string) (result, *doctorReport) {
	t.Helper()
	env := []string{"CONSUL_HTTP_ADDR=" + agent.HTTPAddr}
	if token != "" {
		env = append(env, "CONSUL_HTTP_TOKEN="+token)
	}
	res := invocation{args: append([]string{"doctor", "-format", "json"}, args...), env: env}.run(t)
	var rep doctorReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep), "doctor output is not JSON:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	return res, &rep
}

func ids(rep *doctorReport) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Cluster+"/"+f.ID)
	}
	return out
}

// requireFinding returns the finding id of cluster, failing when there is none.
func requireFinding(t *testing.T, rep *doctorReport, cluster, id string) finding {
	t.Helper()
	i := slices.IndexFunc(rep.Findings, func(f finding) bool { return f.ID == id && f.Cluster == cluster })
	require.GreaterOrEqual(t, i, 0, "got findings %v, want %s/%s", ids(rep), cluster, id)
	f := rep.Findings[i]
	assert.Equal(t, findingSeverity[id], f.Severity, "got severity %s for %s", f.Severity, id)
	for _, text := range []string{f.What, f.Why, f.Fix} {
		assert.NotEmpty(t, text, "finding %s lacks what, why or fix", id)
	}
	return f
}

func assertNoFinding(t *testing.T, rep *doctorReport, id string) {
	t.Helper()
	assert.False(t, slices.ContainsFunc(rep.Findings, func(f finding) bool { return f.ID == id }),
		"got findings %v, want no %s", ids(rep), id)
}

// wanGateway is a gateway registration with a usable (documentation range) WAN address.
var wanGateway = gateway.Registration{Address: "127.0.0.1", Port: 21443, WAN: &api.ServiceAddress{Address: "198.51.100.40", Port: 443}}

func TestDoctorMeshEntryMissing(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	registerGateway(t, dc1.Client(), wanGateway)

	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idMeshEntryMissing)
	assert.Contains(t, f.Why, "before generating a peering token")
	assert.Contains(t, f.Why, "before establishing a peering")
	assert.Contains(t, f.Fix, "consul config write")
	assertNoFinding(t, rep, idGatewayMissing)
	assert.Equal(t, 1, rep.Summary[sevError])

	text := invocation{args: []string{"doctor"}, env: []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr}}.run(t)
	requireCode(t, text, exitFailure)
	for _, want := range []string{"Checked local: dc1 at http://" + dc1.HTTPAddr, "ERROR   mesh-entry-missing [local]",
		"  what: dc1 has no mesh config entry", "  why:  before generating", "  fix:  apply the entry", "1 finding(s): 1 error(s)"} {
		assert.Contains(t, text.stdout, want)
	}
	assert.Empty(t, text.stderr)
}

func TestDoctorMeshFlagOff(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	registerGateway(t, client, wanGateway)
	setFlag(t, client, true)
	setFlag(t, client, false)

	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idMeshFlagOff)
	assert.Contains(t, f.What, "does not set Peering.PeerThroughMeshGateways")
	assertNoFinding(t, rep, idMeshEntryMissing)
}

// TestDoctorMeshEntryAfterToken: the token was generated before the flag was set, and
// not used yet.
func TestDoctorMeshEntryAfterToken(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	registerGateway(t, client, wanGateway)
	generateToken(t, client, "dc2")
	setFlag(t, client, true)

	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idMeshEntryAfterToken)
	assert.Equal(t, "default/dc2", f.Subject)
	assert.Contains(t, f.Fix, "generate a new token")
	requireFinding(t, rep, clusterLocal, idPeeringPending)
	assertNoFinding(t, rep, idMeshEntryMissing)
}

func TestDoctorPeeringPending(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	registerGateway(t, client, wanGateway)
	setFlag(t, client, true)
	generateToken(t, client, "dc2")

	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idPeeringPending)
	assert.Contains(t, f.What, `peering "dc2" is PENDING; this cluster accepted it`)
	assertNoFinding(t, rep, idMeshEntryAfterToken)
	assert.Equal(t, []string{"local/" + idPeeringPending}, ids(rep), "got other findings")

	// Warnings fail by default; -fail-on error lets them pass.
	res, _ = runDoctorJSON(t, dc1, "", "-fail-on", "error")
	requireCode(t, res, exitOK)
}

func TestDoctorGatewayMissing(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	setFlag(t, dc1.Client(), true)

	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idGatewayMissing)
	assert.Contains(t, f.Why, "no mesh gateway instances are registered")
	assert.Contains(t, f.Fix, "consul services register")
}

// TestDoctorGatewayAddresses registers gateways whose WAN address peers cannot use.
func TestDoctorGatewayAddresses(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	setFlag(t, client, true)
	registerGateway(t, client, gateway.Registration{ID: "no-wan", Address: "192.0.2.7", Port: 21001})
	registerGateway(t, client, gateway.Registration{ID: "loopback", Address: "127.0.0.1", Port: 21002,
		WAN: &api.ServiceAddress{Address: "127.0.0.1", Port: 21002}})
	registerGateway(t, client, gateway.Registration{ID: "unspecified", Address: "127.0.0.1", Port: 21003,
		WAN: &api.ServiceAddress{Address: "0.0.0.0", Port: 443}})
	registerGateway(t, client, gateway.Registration{ID: "good", Address: "127.0.0.1", Port: 21004,
		WAN: &api.ServiceAddress{Address: "gw.dc1.example.com", Port: 443}})

	tests := []struct {
		name, id, subject, what string
	}{
		{"no wan address", idGatewayNoWAN, "no-wan on node dc1-server", "peers are given 192.0.2.7:21001, its service address"},
		{"loopback", idGatewayWANLoopback, "loopback on node dc1-server", "loopback address 127.0.0.1:21002"},
		{"unspecified", idGatewayWANUnspecified, "unspecified on node dc1-server", "gives peers the address 0.0.0.0:443"},
	}
	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := requireFinding(t, rep, clusterLocal, tt.id)
			assert.Equal(t, tt.subject, f.Subject)
			assert.Contains(t, f.What, tt.what)
		})
	}
	assert.Len(t, rep.Findings, 3, "got findings %v, want one per broken gateway", ids(rep))

	res, rep = runDoctorJSON(t, dc1, "", "-allow-loopback")
	requireCode(t, res, exitFailure)
	assertNoFinding(t, rep, idGatewayWANLoopback)
	requireFinding(t, rep, clusterLocal, idGatewayWANUnspecified)
}

// TestDoctorGatewayOptions registers gateways with options that are invalid or have no
// effect on peering traffic, straight through the agent API.
func TestDoctorGatewayOptions(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	setFlag(t, client, true)
	register := func(id string, config map[string]any) {
		require.NoError(t, client.Agent().ServiceRegister(&api.AgentServiceRegistration{
			Kind: api.ServiceKindMeshGateway, ID: id, Name: "mesh-gateway", Address: "127.0.0.1", Port: 21500,
			TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "198.51.100.41", Port: 443}},
			Proxy:           &api.AgentServiceConnectProxyConfig{Config: config},
		}))
	}
	register("invalid", map[string]any{"connect_timeout_ms": "soon", "envoy_gateway_bind_addresses": map[string]any{"x": map[string]any{"address": "gw.example.com", "port": 443}}})
	register("ineffective", map[string]any{"envoy_dns_discovery_type": "STRICT_DNS", "envoy_made_up": true, "connect_timeout_ms": 1000})

	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idGatewayOptionInvalid)
	assert.Equal(t, "invalid on node dc1-server", f.Subject)
	assert.Contains(t, f.What, "connect_timeout_ms")
	assert.Contains(t, f.What, "envoy_gateway_bind_addresses[x]")
	f = requireFinding(t, rep, clusterLocal, idGatewayOptionIneffective)
	assert.Equal(t, "ineffective on node dc1-server", f.Subject)
	assert.Contains(t, f.What, "envoy_dns_discovery_type, envoy_made_up (unknown to Consul)")
	assert.Len(t, rep.Findings, 2, "got findings %v", ids(rep))
}

// TestDoctorServers adds servers peers cannot reach to the catalog: one without
// grpc_tls_port, as a server that does not enable the gRPC TLS port publishes itself,
// and one whose address is a hostname.
func TestDoctorServers(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	registerGateway(t, client, wanGateway)
	setFlag(t, client, true)
	for _, s := range []struct{ node, addr, key string }{
		{"old-server", "127.0.0.2", "grpc_port"},
		{"dns-server", "server-3.dc1.example.com", "grpc_tls_port"},
	} {
		_, err := client.Catalog().Register(&api.CatalogRegistration{
			Node: s.node, Address: s.addr,
			Service: &api.AgentService{ID: "consul", Service: "consul", Port: 8300, Meta: map[string]string{s.key: "8503"}},
		}, nil)
		require.NoError(t, err)
	}

	res, rep := runDoctorJSON(t, dc1, "")
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idServerNoGRPCTLSPort)
	assert.Contains(t, f.Subject, "node old-server")
	assert.Contains(t, f.Fix, "grpc_tls")
	f = requireFinding(t, rep, clusterLocal, idServerUnusable)
	assert.Contains(t, f.Subject, "node dns-server")
	assert.Contains(t, f.What, "not an IP literal")
	assertNoFinding(t, rep, idServersNoneUsable)
	assert.Len(t, rep.Findings, 2, "got findings %v", ids(rep))
}

// TestDoctorToken runs doctor with tokens that lack what a gateway's token needs.
func TestDoctorToken(t *testing.T) {
	t.Parallel()
	const management = "6b0f2c1e-4d3a-4e5b-8c7d-9a0b1c2d3e4f"
	dc1 := startConsul(t, testconsul.WithACLs(management))
	client := dc1.Client()
	registerGateway(t, client, wanGateway)
	setFlag(t, client, true)
	policies := 0
	token := func(rules string) string {
		policies++
		p, _, err := client.ACL().PolicyCreate(&api.ACLPolicy{Name: fmt.Sprintf("policy-%d", policies), Rules: rules}, nil)
		require.NoError(t, err)
		tok, _, err := client.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
		require.NoError(t, err)
		return tok.SecretID
	}
	readAll := "agent_prefix \"\" {\n  policy = \"read\"\n}\nnode_prefix \"\" {\n  policy = \"read\"\n}\nservice_prefix \"\" {\n  policy = \"read\"\n}\n"

	tests := []struct {
		name, rules, id, what string
	}{
		{"no peering:read", readAll + "mesh = \"write\"\n", idTokenPeeringRead, "lacks peering:read"},
		{"no agent:read", "node_prefix \"\" {\n  policy = \"read\"\n}\nservice_prefix \"\" {\n  policy = \"read\"\n}\npeering = \"read\"\n", idTokenPermission, "needs agent:read"},
		{"policy short of mesh:write", readAll + "peering = \"read\"\nacl = \"read\"\n", idTokenPolicyInsufficient, "lack: mesh:write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, rep := runDoctorJSON(t, dc1, token(tt.rules))
			requireCode(t, res, exitFailure)
			f := requireFinding(t, rep, clusterLocal, tt.id)
			assert.Contains(t, f.What, tt.what)
		})
	}

	t.Run("management token", func(t *testing.T) {
		res, rep := runDoctorJSON(t, dc1, management)
		requireCode(t, res, exitOK)
		assert.Empty(t, rep.Findings)
	})
}
