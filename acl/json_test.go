package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseJSONErrors(t *testing.T) {
	runParseErrorCases(t, ParseJSON, []parseErrorCase{
		{"not an object", "\n[\"peering\"]\n", ErrSyntax, 2, ""},
		{"bad character", "{\n  \"peering\": read\n}\n", ErrSyntax, 2, ""},
		{"invalid access", "{\n\n  \"peering\": \"reed\"\n}", ErrInvalidAccess, 3, "peering"},
		{"list outside key", "{\"node_prefix\": {\"\": {\n  \"policy\": \"list\"}}}", ErrInvalidAccess, 2, `node_prefix "" > policy`},
		{"number value", "{\n  \"operator\": 1\n}", ErrInvalidAccess, 2, "operator"},
		{"float value", "{\n  \"operator\": 1.5\n}", ErrRuleShape, 2, "operator"},
		{"value as block", "{\n  \"peering\": {\"\": {\"policy\": \"read\"}}\n}", ErrRuleShape, 2, `peering ""`},
		{"block as value", "{\n  \"service\": \"read\"\n}", ErrRuleShape, 2, "service"},
		{"body not an object", "{\"service\": {\n  \"web\": \"write\"\n}}", ErrMissingPolicy, 2, `service "web"`},
		{"missing policy", "{\"key\": {\n  \"app\": {}\n}}", ErrMissingPolicy, 2, `key "app"`},
		{"mesh in namespace", "{\"namespace\": {\"ns\": {\n  \"mesh\": \"write\"}}}", ErrRuleNotAllowed, 2, `namespace "ns" > mesh`},
	})
}

// TestParseJSONWarnings checks JSON Consul accepts but partly ignores or overrides.
func TestParseJSONWarnings(t *testing.T) {
	runWarningCases(t, ParseJSON, []warningCase{
		{"unknown value", "{\n  \"mesh\": \"write\",\n  \"peerings\": \"read\"\n}", &Policy{Rules: Rules{Mesh: AccessWrite}}, ErrUnknownRule, 3, "peerings"},
		{"unknown attribute in rule", "{\"service\": {\"web\": {\n  \"policy\": \"read\",\n  \"polcy\": \"write\"\n}}}",
			&Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Policy: AccessRead}}}}, ErrUnknownRule, 3, `service "web" > polcy`},
		{"value set twice", "{\n  \"peering\": \"read\",\n  \"peering\": \"write\"\n}", &Policy{Rules: Rules{Peering: AccessWrite}}, ErrDuplicateRule, 2, "peering"},
		{"policy set twice", "{\"service\": {\"web\": {\n  \"policy\": \"read\",\n  \"Policy\": \"write\"}}}",
			&Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Policy: AccessWrite}}}}, ErrDuplicateRule, 2, `service "web" > policy`},
		{"nested partition", "{\"partition\": {\"a\": {\n  \"partition\": {\"b\": {}}}}}", &Policy{Partitions: []PartitionRules{{Name: "a"}}}, ErrRuleNotAllowed, 2, `partition "a" > partition "b"`},
		{"trailing data", "{\"peering\": \"read\"}\n{\"mesh\": \"write\"}\n", &Policy{Rules: Rules{Peering: AccessRead}}, ErrSyntax, 2, ""},
		{"missing comma", "{\n  \"peering\": \"read\"\n  \"mesh\": \"write\"\n}\n", &Policy{Rules: Rules{Peering: AccessRead}}, ErrSyntax, 3, ""},
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
			name: "a trailing comma and a missing brace, which HCL 1 allows",
			src:  "{\n  \"peering\": \"read\",\n",
			want: &Policy{Rules: Rules{Peering: AccessRead}},
		},
		{
			name: "null is no rule",
			src:  `{"peering": null, "service": {"web": {"policy": "read", "intentions": null}}}`,
			want: &Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Policy: AccessRead}}}},
		},
		{
			name: "Enterprise blocks whose bodies hold only blocks, which HCL 1 splits",
			src:  `{"partition": {"default": {"namespace": {"default": {"service": {"gw": {"policy": "write"}}}}, "namespace_prefix": {"": {"node_prefix": {"": {"policy": "read"}}}}}}}`,
			want: &Policy{Partitions: []PartitionRules{{
				Name:              "default",
				Namespaces:        []NamespaceRules{{Name: "default", Rules: Rules{Services: []ServiceRule{{Name: "gw", Policy: AccessWrite}}}}},
				NamespacePrefixes: []NamespaceRules{{Name: "", Rules: Rules{NodePrefixes: []Rule{{Name: "", Policy: AccessRead}}}}},
			}}},
		},
		{
			name: "two bodies of one partition stay two blocks",
			src:  `{"partition": {"p": [{"mesh": "write"}, {"peering": "read"}]}}`,
			want: &Policy{Partitions: []PartitionRules{{Name: "p", Rules: Rules{Mesh: AccessWrite}}, {Name: "p", Rules: Rules{Peering: AccessRead}}}},
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
