package gateway

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
)

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Consul agent")
	}
}

// consulRegistrations are registrations a Consul CE agent accepts (no partition), with
// their IDs and ports distinct so that one agent can hold them all.
func consulRegistrations() map[string]Registration {
	full := validRegistration()
	full.Partition = ""
	full.Tags = []string{"peering", "dc1"}
	full.Options = fullOptions()
	full.Options.BindTaggedAddresses = false
	full.Options.Extra = map[string]any{
		"envoy_public_listener_json": "{}",
		"nested":                     map[string]any{"list": []any{1, 2.5, true, "s"}, "for": "keyword key"},
	}
	single := Registration{
		Name:    "gw-single",
		Port:    9443,
		WAN:     &api.ServiceAddress{Address: "198.18.0.7", Port: 443},
		Meta:    map[string]string{"note": "tab\there, nbsp\u00a0, ✓, ${x}, %{y}, $${z}, \\, \"q\", \x01"},
		Options: Options{NoDefaultBind: true, BindTaggedAddresses: true, StatsTags: []string{"only"}},
	}
	quoted := Registration{
		Name:    "gw-quoted",
		Port:    10443,
		Meta:    map[string]string{"1st": "digit first", "team": "platform"},
		Options: Options{Extra: map[string]any{"x-weird key": "quoted config key"}},
	}
	return map[string]Registration{"full": full, "single": single, "quoted": quoted}
}

// The agent stores what Build returns: read back with GET /v1/agent/service/<id>, the
// service has the same fields, and its Proxy.Config parses to the same Options.
func TestConsulServiceRegister(t *testing.T) {
	skipShort(t)
	client := testconsul.Start(t).Client()
	for name, r := range consulRegistrations() {
		t.Run(name, func(t *testing.T) {
			reg, err := r.Build()
			require.NoError(t, err)
			require.NoError(t, client.Agent().ServiceRegister(reg))
			got, _, err := client.Agent().Service(reg.ID, nil)
			require.NoError(t, err)
			assertStored(t, r, got)
		})
	}
}

// assertStored checks that svc, as the agent returns it, is registration r.
func assertStored(t *testing.T, r Registration, svc *api.AgentService) {
	t.Helper()
	assert.Equal(t, api.ServiceKindMeshGateway, svc.Kind)
	assert.Equal(t, r.id(), svc.ID)
	assert.Equal(t, r.name(), svc.Service)
	assert.Equal(t, r.Address, svc.Address)
	assert.Equal(t, r.Port, svc.Port)
	assert.Equal(t, emptyIfNil(r.Tags), emptyIfNil(svc.Tags))
	assert.Equal(t, maps.Clone(r.Meta), nilIfEmptyMap(svc.Meta))

	// The agent adds lan_ipv4 and wan_ipv4 to a service with an IPv4 address.
	tagged := maps.Clone(svc.TaggedAddresses)
	if isIP(r.Address) {
		want := api.ServiceAddress{Address: r.Address, Port: r.Port}
		assert.Equal(t, want, tagged["lan_ipv4"])
		assert.Equal(t, want, tagged["wan_ipv4"])
	}
	delete(tagged, "lan_ipv4")
	delete(tagged, "wan_ipv4")
	assert.Equal(t, r.taggedAddresses(), nilIfEmptyMap(tagged))

	var config map[string]any
	if svc.Proxy != nil {
		config = svc.Proxy.Config
	}
	got, problems := ParseOptions(config)
	for _, p := range problems {
		require.ErrorIs(t, p, ErrUnknownOption)
	}
	// Extra values come back as JSON numbers; compare them as JSON.
	assert.JSONEq(t, mustJSON(t, r.Options.Extra), mustJSON(t, got.Extra))
	want := r.Options
	want.Extra, got.Extra = nil, nil
	assert.Equal(t, want, got)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nilIfEmptyMap[M ~map[K]V, K comparable, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return m
}
