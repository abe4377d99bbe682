package main

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/gateway/servicedef"
	"github.com/peeringgw/peeringgw/internal/golden"
	"github.com/peeringgw/peeringgw/meshconfig"
)

// TestRenderGolden checks the output of render for each form against golden files.
func TestRenderGolden(t *testing.T) {
	full := []string{
		"render", "gateway", "-id", "mgw-1", "-address", "10.1.0.10", "-port", "8443",
		"-wan-address", "gw.dc1.example.com", "-wan-port", "443", "-lan-address", "10.1.0.10",
		"-tag", "peering", "-meta", "team=platform", "-connect-timeout-ms", "2500",
		"-bind", "public=192.0.2.10:443", "-proxy-config", "envoy_stats_tags=[\"dc=dc1\"]",
	}
	tests := []struct {
		name string
		args []string
	}{
		{"gateway-default", []string{"render", "gateway"}},
		{"gateway-full-hcl", full},
		{"gateway-full-json", append(full, "-format", "json")},
		{"acl-ce", []string{"render", "acl"}},
		{"acl-enterprise-json", []string{"render", "acl", "-edition", "enterprise", "-format", "json"}},
		{"acl-both-compact", []string{"render", "acl", "-edition", "both", "-compact", "-gateway-name", "gw", "-agent-read=false"}},
		{"acl-peering-only", []string{"render", "acl", "-peering-only", "-compact"}},
		{"acl-peering-only-enterprise-json", []string{"render", "acl", "-peering-only", "-compact", "-format", "json", "-edition", "enterprise"}},
		{"mesh-hcl", []string{"render", "mesh"}},
		{"mesh-json", []string{"render", "mesh", "-format", "json"}},
		{"mesh-yaml-off", []string{"render", "mesh", "-format", "yaml", "-enable=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, tt.args...)
			requireCode(t, res, exitOK)
			assert.Empty(t, res.stderr)
			golden.Assert(t, filepath.Join("testdata", "render", tt.name+".golden"), []byte(res.stdout))
		})
	}
}

// TestRenderRoundTrip reads what render prints with the packages' parsers.
func TestRenderRoundTrip(t *testing.T) {
	args := []string{"render", "gateway", "-address", "10.1.0.10", "-wan-address", "198.51.100.1", "-bind-tagged", "-connect-timeout-ms", "100"}
	for _, format := range []string{"hcl", "json"} {
		t.Run("gateway "+format, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, append(args, "-format", format)...)
			requireCode(t, res, exitOK)
			parse := map[string]func([]byte) (gateway.Registration, error){
				"hcl":  func(b []byte) (gateway.Registration, error) { return servicedef.ParseHCL(b, "gw.hcl") },
				"json": servicedef.ParseJSON,
			}[format]
			r, err := parse([]byte(res.stdout))
			require.NoError(t, err)
			assert.Equal(t, &api.ServiceAddress{Address: "198.51.100.1", Port: 8443}, r.WAN, "got WAN %v, want the -port default", r.WAN)
			assert.True(t, r.Options.BindTaggedAddresses)
			assert.Equal(t, 100, r.Options.ConnectTimeoutMs)
		})
	}
	t.Run("acl", func(t *testing.T) {
		t.Parallel()
		res := peergw(t, "render", "acl", "-edition", "both")
		requireCode(t, res, exitOK)
		rep, err := acl.Check(res.stdout, acl.EditionBoth)
		require.NoError(t, err)
		assert.True(t, rep.LeastPrivilege(), "got report %v, want least privilege", rep)
	})
	for _, format := range []string{"hcl", "json", "yaml"} {
		t.Run("mesh "+format, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, "render", "mesh", "-format", format)
			requireCode(t, res, exitOK)
			parse := map[string]func([]byte, string) (*api.MeshConfigEntry, error){
				"hcl": meshconfig.ParseHCL, "json": meshconfig.ParseJSON, "yaml": meshconfig.ParseYAML,
			}[format]
			e, err := parse([]byte(res.stdout), "mesh")
			require.NoError(t, err)
			assert.True(t, meshconfig.Enabled(e), "got flag off in %s, want on", format)
		})
	}
}

// TestRenderErrors checks the exit status rule: 2 when the command line cannot be
// understood, 1 when it can but describes something invalid.
func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{"port not a number", []string{"gateway", "-port", "x"}, exitUsage, []string{`invalid value "x" for flag -port`}},
		{"bind without port", []string{"gateway", "-bind", "wan=10.0.0.1"}, exitUsage, []string{"want host:port"}},
		{"bind without name", []string{"gateway", "-bind", "10.0.0.1:443"}, exitUsage, []string{"want name=ip:port"}},
		{"bind port not a number", []string{"gateway", "-bind", "wan=10.0.0.1:x"}, exitUsage, []string{"is not a number"}},
		{"bind twice", []string{"gateway", "-bind", "a=10.0.0.1:1", "-bind", "a=10.0.0.2:2"}, exitUsage, []string{"key given twice"}},
		{"meta without value", []string{"gateway", "-meta", "team"}, exitUsage, []string{"want key=value"}},
		{"wan port without address", []string{"gateway", "-wan-port", "443"}, exitUsage, []string{"-wan-port needs -wan-address"}},
		{"lan port without address", []string{"gateway", "-lan-port", "443"}, exitUsage, []string{"-lan-port needs -lan-address"}},
		{"gateway format", []string{"gateway", "-format", "yaml"}, exitUsage, []string{"-format must be hcl or json"}},
		{"port out of range", []string{"gateway", "-port", "70000"}, exitFailure, []string{`Port "70000": port out of range`}},
		{"bind port out of range", []string{"gateway", "-bind", "wan=10.0.0.1:70000"}, exitFailure, []string{"envoy_gateway_bind_addresses[wan].port"}},
		{"bind hostname", []string{"gateway", "-bind", "wan=gw.example.com:443"}, exitFailure, []string{"not an IP address"}},
		{"address hostname", []string{"gateway", "-address", "gw.example.com"}, exitFailure, []string{"not an IP address"}},
		{"partition", []string{"gateway", "-partition", "team1"}, exitFailure, []string{"partition is not default"}},
		{"bad proxy config", []string{"gateway", "-proxy-config", "connect_timeout_ms=soon"}, exitFailure, []string{"invalid -proxy-config"}},
		{"every problem listed", []string{"gateway", "-port", "0", "-wan-address", "gw.example.com", "-wan-port", "99999"}, exitFailure, []string{`Port "0"`, `WAN.Port "99999"`}},
		{"acl edition", []string{"acl", "-edition", "oss"}, exitUsage, []string{"-edition must be ce, enterprise or both"}},
		{"acl format", []string{"acl", "-format", "yaml"}, exitUsage, []string{"-format must be hcl or json"}},
		{"acl peering-only with name", []string{"acl", "-peering-only", "-gateway-name", "gw"}, exitUsage, []string{"do not apply to -peering-only"}},
		{"acl empty gateway name", []string{"acl", "-gateway-name", ""}, exitFailure, []string{"invalid argument"}},
		{"mesh format", []string{"mesh", "-format", "toml"}, exitUsage, []string{"-format must be hcl, json or yaml"}},
		{"mesh enable", []string{"mesh", "-enable=maybe"}, exitUsage, []string{"invalid boolean value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, append([]string{"render"}, tt.args...)...)
			requireCode(t, res, tt.wantCode)
			assert.Empty(t, res.stdout)
			for _, want := range tt.wantErr {
				assert.Contains(t, res.stderr, want)
			}
			if tt.wantCode == exitUsage {
				assert.Contains(t, res.stderr, "Usage: peergw render")
			} else {
				assert.NotContains(t, res.stderr, "Usage:")
			}
		})
	}
}

// TestRenderWarnsUnknownOption: a Proxy.Config key Consul ignores is rendered, with a
// warning.
func TestRenderWarnsUnknownOption(t *testing.T) {
	t.Parallel()
	res := peergw(t, "render", "gateway", "-proxy-config", "envoy_made_up=1")
	requireCode(t, res, exitOK)
	assert.Contains(t, res.stdout, "envoy_made_up = 1")
	assert.Contains(t, res.stderr, "warning: gateway: envoy_made_up: unknown proxy config key (Consul ignores it)")
}
