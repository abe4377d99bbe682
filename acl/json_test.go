package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseJSONErrors(t *testing.T) {
	runParseErrorCases(t, ParseJSON, []parseErrorCase{
		{"not JSON", "{\n  \"peering\": \"read\",\n}\n", ErrSyntax, 3, ""},
		{"truncated", "{\n  \"peering\": \"read\"\n", ErrSyntax, 3, ""},
		{"trailing data", "{}\n{}\n", ErrSyntax, 2, ""},
		{"not an object", "\n[\"peering\"]\n", ErrRuleShape, 2, ""},
		{"unknown value", "{\n  \"mesh\": \"write\",\n  \"peerings\": \"read\"\n}", ErrUnknownRule, 3, "peerings"},
		{"unknown block", "{\n  \"services\": {\n    \"web\": {\"policy\": \"read\"}\n  }\n}", ErrUnknownRule, 3, `services "web"`},
		{"unknown attribute in rule", "{\"service\": {\"web\": {\n  \"policy\": \"read\",\n  \"polcy\": \"write\"\n}}}", ErrUnknownRule, 3, `service "web" > polcy`},
		{"invalid access", "{\n\n  \"peering\": \"reed\"\n}", ErrInvalidAccess, 3, "peering"},
		{"list outside key", "{\"node_prefix\": {\"\": {\n  \"policy\": \"list\"}}}", ErrInvalidAccess, 2, `node_prefix "" > policy`},
		{"value as block", "{\n  \"peering\": {\"\": {\"policy\": \"read\"}}\n}", ErrRuleShape, 2, `peering ""`},
		{"block as value", "{\n  \"service\": \"read\"\n}", ErrRuleShape, 2, "service"},
		{"number value", "{\n  \"operator\": 1\n}", ErrRuleShape, 2, "operator"},
		{"body not an object", "{\"service\": {\n  \"web\": \"write\"\n}}", ErrRuleShape, 2, `service "web"`},
		{"list of strings", "{\"service\": [\n  \"web\"\n]}", ErrRuleShape, 2, "service"},
		{"missing policy", "{\"key\": {\n  \"app\": {}\n}}", ErrMissingPolicy, 2, `key "app"`},
		{"duplicate value", "{\n  \"peering\": \"read\",\n  \"peering\": \"write\"\n}", ErrDuplicateRule, 3, "peering"},
		{"duplicate policy", "{\"service\": {\"web\": {\n  \"policy\": \"read\",\n  \"Policy\": \"write\"}}}", ErrDuplicateRule, 3, `service "web" > policy`},
		{"mesh in namespace", "{\"namespace\": {\"ns\": {\n  \"mesh\": \"write\"}}}", ErrRuleNotAllowed, 2, `namespace "ns" > mesh`},
		{"nested partition", "{\"partition\": {\"a\": {\n  \"partition\": {\"b\": {}}}}}", ErrRuleNotAllowed, 2, `partition "a" > partition "b"`},
	})
}

func TestParseJSONConsulForms(t *testing.T) {
	gateway := &Policy{Rules: Rules{
		Mesh:            AccessWrite,
		Peering:         AccessRead,
		AgentPrefixes:   []Rule{{Name: "", Policy: AccessRead}},
		NodePrefixes:    []Rule{{Name: "", Policy: AccessRead}},
		Services:        []ServiceRule{{Name: "mesh-gateway", Policy: AccessWrite}},
		ServicePrefixes: []ServiceRule{{Name: "", Policy: AccessRead}},
	}}
	tests := []struct {
		name string
		src  string
		want *Policy
	}{
		{
			name: "the brief's example",
			src:  `{"service": {"web": {"policy": "write"}}, "partition_prefix": {"": {"peering": "read"}}, "peering": "read"}`,
			want: &Policy{
				Rules:             Rules{Peering: AccessRead, Services: []ServiceRule{{Name: "web", Policy: AccessWrite}}},
				PartitionPrefixes: []PartitionRules{{Name: "", Rules: Rules{Peering: AccessRead}}},
			},
		},
		{
			// The JSON tab of Consul's "Create a mesh gateway token" page (Consul OSS).
			name: "bodies as lists, as Consul's documentation writes them",
			src: `{
  "mesh": "write",
  "peering": "read",
  "service": {"mesh-gateway": [{"policy": "write"}]},
  "service_prefix": {"": [{"policy": "read"}]},
  "node_prefix": {"": [{"policy": "read"}]},
  "agent_prefix": {"": [{"policy": "read"}]}
}`,
			want: gateway,
		},
		{
			name: "keywords as lists of objects",
			src:  `{"mesh": "write", "peering": "read", "service": [{"mesh-gateway": {"policy": "write"}}, {"": {"policy": "deny"}}], "service_prefix": {"": {"policy": "read"}}, "node_prefix": {"": {"policy": "read"}}, "agent_prefix": {"": {"policy": "read"}}}`,
			want: func() *Policy {
				p := *gateway
				p.Services = []ServiceRule{{Name: "", Policy: AccessDeny}, {Name: "mesh-gateway", Policy: AccessWrite}}
				return &p
			}(),
		},
		{
			name: "repeated labels keep their order",
			src:  `{"service": {"web": [{"policy": "write", "intentions": "deny"}, {"policy": "write"}]}}`,
			want: &Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Policy: AccessWrite, Intentions: AccessDeny}, {Name: "web", Policy: AccessWrite}}}},
		},
		{
			name: "empty objects",
			src:  `{"service": {}, "partition": {"p": {}}}`,
			want: &Policy{Partitions: []PartitionRules{{Name: "p"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJSON([]byte(tt.src), "p.json")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			detected, err := Parse([]byte("\n  "+tt.src), "p.json")
			require.NoError(t, err)
			assert.Equal(t, tt.want, detected, "got Parse's policy, want ParseJSON's")
			assertRoundTrip(t, got)
		})
	}
}

func TestRenderJSONRepeatedLabels(t *testing.T) {
	p := &Policy{Rules: Rules{Services: []ServiceRule{
		{Name: "web", Policy: AccessDeny},
		{Name: "web", Policy: AccessRead, Intentions: AccessWrite},
		{Name: "web", Policy: AccessWrite},
	}}}
	got, err := p.RenderCompactJSON()
	require.NoError(t, err)
	want := `{ "service": { "web": [ { "policy": "deny" }, { "intentions": "write", "policy": "read" }, { "policy": "write" } ] } }`
	assert.Equal(t, want, string(got))
}

func TestRenderJSONEscapes(t *testing.T) {
	p := &Policy{Rules: Rules{KeyPrefixes: []Rule{{Name: "<a&b>\"\n", Policy: AccessRead}}}}
	got, err := p.RenderCompactJSON()
	require.NoError(t, err)
	assert.Equal(t, `{ "key_prefix": { "<a&b>\"\n": { "policy": "read" } } }`, string(got))
	indented, err := p.RenderJSON()
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"key_prefix\": {\n    \"<a&b>\\\"\\n\": {\n      \"policy\": \"read\"\n    }\n  }\n}\n", string(indented))
}

func TestRenderEmptyPolicy(t *testing.T) {
	p := &Policy{}
	for _, tt := range []struct {
		name   string
		render func(*Policy) ([]byte, error)
		want   string
	}{
		{"hcl", (*Policy).RenderHCL, ""},
		{"compact hcl", (*Policy).RenderCompactHCL, ""},
		{"json", (*Policy).RenderJSON, "{}\n"},
		{"compact json", (*Policy).RenderCompactJSON, "{}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.render(p)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			back, err := Parse(got, "empty")
			require.NoError(t, err)
			assert.Equal(t, p, back)
		})
	}
}
