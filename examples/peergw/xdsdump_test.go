package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/golden"
)

const statePath = "testdata/state.json"

// wantDiagnostics are the inputs of testdata/state.json that generation skips.
var wantDiagnostics = []string{
	"peergw xds: diagnostic: Servers[1] (node server-2): xds: server has no grpc_tls_port",
	`peergw xds: diagnostic: Peerings: peering default/dc3: PeerServerAddresses[1] "198.51.100.30:+443": peering: bad server port`,
}

func TestXDSFromCapture(t *testing.T) {
	state, err := os.ReadFile(statePath)
	require.NoError(t, err)
	tests := []struct {
		name     string
		inv      invocation
		wantCode int
	}{
		{"file", invocation{args: []string{"xds", "-state", statePath}}, exitOK},
		{"stdin", invocation{args: []string{"xds", "-state", "-"}, stdin: string(state)}, exitOK},
		{"strict", invocation{args: []string{"xds", "-strict", "-state", statePath}}, exitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.inv.run(t)
			requireCode(t, res, tt.wantCode)
			golden.Assert(t, filepath.Join("testdata", "xds", "state.golden.json"), []byte(res.stdout))
			for _, d := range wantDiagnostics {
				assert.Contains(t, res.stderr, d)
			}
			if tt.wantCode == exitFailure {
				assert.Contains(t, res.stderr, "2 diagnostic(s) with -strict")
			}
		})
	}
}

func TestXDSErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{\n  \"Datacenter\": 1\n}"), 0o644))
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"missing file", []string{"-state", filepath.Join(dir, "none.json")}, exitFailure, "no such file"},
		{"malformed capture", []string{"-state", bad}, exitFailure, "bad state"},
		{"state and gateway", []string{"-state", statePath, "-gateway-id", "gw"}, exitUsage, "-gateway-id does not apply to -state"},
		{"state and consul", []string{"-state", statePath, "-http-addr", "127.0.0.1:8500"}, exitUsage, "-http-addr does not apply to -state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, append([]string{"xds"}, tt.args...)...)
			requireCode(t, res, tt.wantCode)
			assert.Empty(t, res.stdout)
			assert.Contains(t, res.stderr, tt.wantErr)
		})
	}
}

// TestCaptureAndXDSLive captures a live gateway's State, and checks that xds gives the
// same resources live and from the capture.
func TestCaptureAndXDSLive(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	registerGateway(t, client, gateway.Registration{ID: "gw-1", Address: "127.0.0.1", Port: 21443,
		WAN: &api.ServiceAddress{Address: "198.51.100.5", Port: 443}})
	setFlag(t, client, true)
	svc, _, err := client.Agent().Service("gw-1", nil)
	require.NoError(t, err)
	maxConns := 9
	_, _, err = client.ConfigEntries().Set(&api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: svc.Service,
		UpstreamConfig: &api.UpstreamConfiguration{Defaults: &api.UpstreamConfig{Limits: &api.UpstreamLimits{MaxConnections: &maxConns}}}}, nil)
	require.NoError(t, err)
	env := []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr}

	capture := invocation{args: []string{"capture", "-gateway-id", "gw-1"}, env: env}.run(t)
	requireCode(t, capture, exitOK)
	assert.Empty(t, capture.stderr)
	var state struct {
		Datacenter, TrustDomain string
		Gateway                 api.AgentService
		MeshConfig              api.MeshConfigEntry
		Servers                 []api.ServiceEntry
		ServiceDefaults         *api.ServiceConfigEntry
		Agent                   struct{ Version, BindAddr string }
	}
	require.NoError(t, json.Unmarshal([]byte(capture.stdout), &state))
	require.NotNil(t, state.ServiceDefaults, "got no service-defaults entry in the capture")
	assert.Equal(t, svc.Service, state.ServiceDefaults.Name)
	assert.Equal(t, 9, *state.ServiceDefaults.UpstreamConfig.Defaults.Limits.MaxConnections)
	assert.Equal(t, "1.14.8", state.Agent.Version, "got agent version %q in the capture", state.Agent.Version)
	assert.Equal(t, "dc1", state.Datacenter)
	assert.True(t, strings.HasSuffix(state.TrustDomain, ".consul"), "got trust domain %q", state.TrustDomain)
	assert.Equal(t, "gw-1", state.Gateway.ID)
	assert.True(t, state.MeshConfig.Peering.PeerThroughMeshGateways)
	require.Len(t, state.Servers, 1)

	live := invocation{args: []string{"xds", "-gateway-id", "gw-1", "-strict"}, env: env}.run(t)
	requireCode(t, live, exitOK)
	assert.Empty(t, live.stderr, "got diagnostics, want none for a healthy cluster")
	assert.Contains(t, live.stdout, `"name": "server.dc1.peering.`+state.TrustDomain+`"`)
	assert.Contains(t, live.stdout, `"portValue": `, "the accept side has the server's endpoint")

	fromCapture := invocation{args: []string{"xds", "-state", "-"}, stdin: capture.stdout}.run(t)
	requireCode(t, fromCapture, exitOK)
	assert.Equal(t, live.stdout, fromCapture.stdout, "got different resources from the capture than live")

	missing := invocation{args: []string{"capture", "-gateway-id", "nope"}, env: env}.run(t)
	requireCode(t, missing, exitFailure)
	assert.Contains(t, missing.stderr, "gateway service not registered with the agent")
	assert.Contains(t, missing.stderr, "consul at http://"+dc1.HTTPAddr)
}

// TestXDSConsulVersion: -consul-version chooses the Consul release whose output xds
// reproduces, over the agent's version in the capture; a bad release is a usage error
// naming the flag and the value.
func TestXDSConsulVersion(t *testing.T) {
	state := filepath.Join("..", "..", "xds", "testdata", "conformance", "mesh-gateway-custom-addresses-1.22", "state.json")
	for version, want := range map[string]string{"1.14.8": `"bar:2001:db8::ff:9999"`, "1.22.0": `"bar:[2001:db8::ff]:9999"`} {
		res := peergw(t, "xds", "-state", state, "-consul-version", version)
		requireCode(t, res, exitOK)
		assert.Contains(t, res.stdout, want, "got no listener %s generating as Consul %s", want, version)
	}
	// Unset, the agent's version in the State chooses; without one, the default (1.22).
	res := peergw(t, "xds", "-state", state)
	requireCode(t, res, exitOK)
	assert.Contains(t, res.stdout, `"bar:[2001:db8::ff]:9999"`, "got no 1.22 listener name without a version")
	res = peergw(t, "xds", "-state", withAgentVersion(t, state, "1.14.8"))
	requireCode(t, res, exitOK)
	assert.Contains(t, res.stdout, `"bar:2001:db8::ff:9999"`, "got no 1.14.8 listener name with the agent's version 1.14.8")
	res = peergw(t, "xds", "-state", state, "-consul-version", "1.9.0")
	requireCode(t, res, exitUsage)
	assert.Contains(t, res.stderr, `invalid value "1.9.0" for flag -consul-version`)
	assert.Empty(t, res.stdout)
}

// withAgentVersion writes a copy of the capture at path whose agent reports version and
// returns the copy's path.
func withAgentVersion(t *testing.T, path, version string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	var state map[string]any
	require.NoError(t, json.Unmarshal(src, &state))
	agent, _ := state["Agent"].(map[string]any)
	if agent == nil {
		agent = map[string]any{}
	}
	agent["Version"] = version
	state["Agent"] = agent
	out, err := json.Marshal(state)
	require.NoError(t, err)
	copyPath := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(copyPath, out, 0o600))
	return copyPath
}
