package servicedef

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/golden"
)

// definitionCases are the registrations rendered to testdata/<name>.{hcl,json}.golden.
func definitionCases() map[string]gateway.Registration {
	zero := 0
	full := gateway.Registration{
		Name:      "mesh-gateway",
		ID:        "mesh-gateway-1",
		Address:   "10.0.0.5",
		Port:      8443,
		LAN:       &api.ServiceAddress{Address: "10.0.0.5", Port: 8443},
		WAN:       &api.ServiceAddress{Address: "gw.dc1.example.com", Port: 443},
		Tags:      []string{"peering", "dc1"},
		Meta:      map[string]string{"consul-wan-federation": "1", "team": "platform"},
		Partition: "default",
		Options: gateway.Options{
			ConnectTimeoutMs:     2500,
			BindAddresses:        map[string]api.ServiceAddress{"public": {Address: "198.18.0.1", Port: 443}, "v6": {Address: "2001:db8::1", Port: 8443}},
			NoDefaultBind:        true,
			DNSDiscoveryType:     "STRICT_DNS",
			TCPKeepalive:         true,
			TCPKeepaliveTime:     120,
			TCPKeepaliveInterval: 10,
			TCPKeepaliveProbes:   3,
			XDSFetchTimeoutMs:    &zero,
			StatsdURL:            "udp://${HOST_IP}:8125",
			DogstatsdURL:         "unix:///var/run/dogstatsd.sock",
			StatsTags:            []string{"team=peering", "canary"},
			PrometheusBindAddr:   "0.0.0.0:9102",
			StatsBindAddr:        "127.0.0.1:9103",
			BootstrapTemplate:    `{"admin": {{ .AdminJSON }}}`,
			StaticClustersJSON:   `{"name": "zipkin", "type": "STRICT_DNS"}`,
			StaticListenersJSON:  `{"name": "health"}`,
			StatsSinksJSON:       `{"name": "envoy.stat_sinks.statsd"}`,
			StatsConfigJSON:      `{"use_all_default_tags": true}`,
			StatsFlushInterval:   "5s",
			TracingJSON:          "{\n  \"http\": {\"name\": \"envoy.tracers.zipkin\", \"note\": \"100%{x} <&>\"}\n}",
		},
	}
	full.Options.Extra = map[string]any{
		"envoy_public_listener_json": "{}",
		"nested": map[string]any{
			"list": []any{1, 2.5, true, "s", map[string]any{"a": "b"}},
			"for":  "keyword key",
			"1x":   "digit key",
		},
	}
	quoted := gateway.Registration{
		Name: gateway.DefaultName,
		Port: 8443,
		Meta: map[string]string{"1st": "digit first", "team": "platform"},
		Options: gateway.Options{
			Extra: map[string]any{"x-weird key": "quoted config key"},
		},
	}
	return map[string]gateway.Registration{
		"seed": {
			Name:    "mesh-gateway",
			Address: "10.0.0.5",
			Port:    8443,
			WAN:     &api.ServiceAddress{Address: "198.18.0.1", Port: 443},
			Options: gateway.Options{ConnectTimeoutMs: 2500},
		},
		"minimal":     {Name: gateway.DefaultName, Port: 8443},
		"full":        full,
		"quoted-keys": quoted,
	}
}

func TestRenderGolden(t *testing.T) {
	for name, r := range definitionCases() {
		t.Run(name, func(t *testing.T) {
			hcl, err := RenderHCL(r)
			require.NoError(t, err)
			golden.Assert(t, filepath.Join("testdata", name+".hcl.golden"), hcl)
			js, err := RenderJSON(r)
			require.NoError(t, err)
			golden.Assert(t, filepath.Join("testdata", name+".json.golden"), js)
		})
	}
}

func TestDefinitionRoundTrip(t *testing.T) {
	for name, r := range definitionCases() {
		t.Run(name, func(t *testing.T) {
			hcl, err := RenderHCL(r)
			require.NoError(t, err)
			fromHCL, err := ParseHCL(hcl, name+".hcl")
			require.NoError(t, err)
			assert.Equal(t, r, fromHCL, "HCL:\n%s", hcl)

			js, err := RenderJSON(r)
			require.NoError(t, err)
			fromJSON, err := ParseJSON(js)
			require.NoError(t, err)
			assert.Equal(t, r, fromJSON, "JSON:\n%s", js)
		})
	}
}

// problem is a *gateway.ValidationError expected on a field, wrapping err.
type problem struct {
	field string
	err   error
}

// assertErrors checks that err joins exactly the problems want, in order.
func assertErrors(t *testing.T, want []problem, err error) {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	require.Len(t, errs, len(want), "got problems %v", errs)
	for i, w := range want {
		var ve *gateway.ValidationError
		require.ErrorAs(t, errs[i], &ve)
		assert.Equal(t, w.field, ve.Field, "problem %d: %v", i, errs[i])
		assert.ErrorIs(t, errs[i], w.err, "problem %d", i)
	}
}

func TestRenderInvalid(t *testing.T) {
	r := gateway.Registration{Port: 0}
	_, err := RenderHCL(r)
	require.ErrorIs(t, err, gateway.ErrPortRange)
	_, err = RenderJSON(r)
	require.ErrorIs(t, err, gateway.ErrPortRange)
}
