package servicedef

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/testconsul"
)

// consulRegistrations are registrations a Consul CE agent accepts (no partition), with
// their IDs and ports distinct so that one agent can hold them all.
func consulRegistrations() map[string]gateway.Registration {
	full := definitionCases()["full"]
	full.ID, full.Partition = "", ""
	full.Options.Extra = map[string]any{
		"envoy_public_listener_json": "{}",
		"nested":                     map[string]any{"list": []any{1, 2.5, true, "s"}, "for": "keyword key"},
	}
	single := gateway.Registration{
		Name:    "gw-single",
		Port:    9443,
		WAN:     &api.ServiceAddress{Address: "198.18.0.7", Port: 443},
		Meta:    map[string]string{"note": "tab\there, nbsp\u00a0, ✓, ${x}, %{y}, $${z}, \\, \"q\", \x01"},
		Options: gateway.Options{NoDefaultBind: true, BindTaggedAddresses: true, StatsTags: []string{"only"}},
	}
	quoted := definitionCases()["quoted-keys"]
	quoted.Name, quoted.Port = "gw-quoted", 10443
	return map[string]gateway.Registration{"full": full, "single": single, "quoted": quoted}
}

// The agent reads the HCL definitions RenderHCL writes, with Consul's own HCL 1 parser
// (through -hcl), and registers the services they describe, as Registration.Build
// returns them. (The agent reads JSON definitions only from files named *.json, which
// testconsul cannot pass; RenderJSON's output was checked the same way by hand, with
// consul agent -dev -config-file.)
func TestConsulLoadsHCLDefinitions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Consul agent")
	}
	regs := consulRegistrations()
	var opts []testconsul.Option
	for _, name := range slices.Sorted(maps.Keys(regs)) {
		hcl, err := RenderHCL(regs[name])
		require.NoError(t, err)
		opts = append(opts, testconsul.WithHCL(string(hcl)))
	}
	client := testconsul.Start(t, opts...).Client()
	for name, r := range regs {
		t.Run(name, func(t *testing.T) {
			want, err := r.Build()
			require.NoError(t, err)
			got, _, err := client.Agent().Service(want.ID, nil)
			require.NoError(t, err)
			assert.Equal(t, want.Kind, got.Kind)
			assert.Equal(t, want.Name, got.Service)
			assert.Equal(t, want.Address, got.Address)
			assert.Equal(t, want.Port, got.Port)
			assert.Equal(t, len(want.Tags), len(got.Tags))
			if len(want.Tags) > 0 {
				assert.Equal(t, want.Tags, got.Tags)
			}
			assert.Equal(t, len(want.Meta), len(got.Meta))
			if len(want.Meta) > 0 {
				assert.Equal(t, want.Meta, got.Meta)
			}
			// The agent adds lan_ipv4 and wan_ipv4 to a service with an IPv4 address.
			tagged := maps.Clone(got.TaggedAddresses)
			delete(tagged, "lan_ipv4")
			delete(tagged, "wan_ipv4")
			assert.Equal(t, len(want.TaggedAddresses), len(tagged))
			for tag, a := range want.TaggedAddresses {
				assert.Equal(t, a, tagged[tag], "tagged address %s", tag)
			}
			require.Equal(t, want.Proxy != nil, got.Proxy != nil)
			if want.Proxy != nil {
				wantOpts, _ := gateway.ParseOptions(want.Proxy.Config)
				gotOpts, _ := gateway.ParseOptions(got.Proxy.Config)
				// Extra values come back as JSON numbers; compare them as JSON.
				assert.JSONEq(t, mustJSON(t, wantOpts.Extra), mustJSON(t, gotOpts.Extra))
				wantOpts.Extra, gotOpts.Extra = nil, nil
				assert.Equal(t, wantOpts, gotOpts)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
