package gateway

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
)

// definitionCases are the registrations rendered to testdata/<name>.{hcl,json}.golden.
func definitionCases() map[string]Registration {
	full := validRegistration()
	full.ID = "mesh-gateway-1"
	full.Tags = []string{"peering", "dc1"}
	full.Options = fullOptions()
	full.Options.BindTaggedAddresses = false
	full.Options.Extra = map[string]any{
		"envoy_public_listener_json": "{}",
		"nested": map[string]any{
			"list": []any{1, 2.5, true, "s", map[string]any{"a": "b"}},
			"for":  "keyword key",
			"1x":   "digit key",
		},
	}
	quoted := Registration{
		Name: DefaultName,
		Port: 8443,
		Meta: map[string]string{"1st": "digit first", "team": "platform"},
		Options: Options{
			Extra: map[string]any{"x-weird key": "quoted config key"},
		},
	}
	return map[string]Registration{
		"seed": {
			Name:    "mesh-gateway",
			Address: "10.0.0.5",
			Port:    8443,
			WAN:     &api.ServiceAddress{Address: "198.18.0.1", Port: 443},
			Options: Options{ConnectTimeoutMs: 2500},
		},
		"minimal":     {Name: DefaultName, Port: 8443},
		"full":        full,
		"quoted-keys": quoted,
	}
}

func TestRenderGolden(t *testing.T) {
	for name, r := range definitionCases() {
		t.Run(name, func(t *testing.T) {
			hcl, err := r.RenderHCL()
			require.NoError(t, err)
			golden.Assert(t, filepath.Join("testdata", name+".hcl.golden"), hcl)
			js, err := r.RenderJSON()
			require.NoError(t, err)
			golden.Assert(t, filepath.Join("testdata", name+".json.golden"), js)
		})
	}
}

func TestDefinitionRoundTrip(t *testing.T) {
	for name, r := range definitionCases() {
		t.Run(name, func(t *testing.T) {
			hcl, err := r.RenderHCL()
			require.NoError(t, err)
			fromHCL, err := ParseHCL(hcl, name+".hcl")
			require.NoError(t, err)
			assert.Equal(t, r, fromHCL, "HCL:\n%s", hcl)

			js, err := r.RenderJSON()
			require.NoError(t, err)
			fromJSON, err := ParseJSON(js)
			require.NoError(t, err)
			assert.Equal(t, r, fromJSON, "JSON:\n%s", js)
		})
	}
}

func TestRenderInvalid(t *testing.T) {
	r := Registration{Port: 0}
	_, err := r.RenderHCL()
	require.ErrorIs(t, err, ErrPortRange)
	_, err = r.RenderJSON()
	require.ErrorIs(t, err, ErrPortRange)
}
