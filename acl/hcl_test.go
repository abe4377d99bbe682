package acl

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHCLErrors(t *testing.T) {
	runParseErrorCases(t, ParseHCL, []parseErrorCase{
		{"not HCL", "peering: read\n", ErrSyntax, 1, ""},
		{"missing value", "peering =\nmesh = \"write\"\n", ErrSyntax, 2, ""},
		{"unclosed block", "mesh = \"write\"\nservice \"web\" {\n  policy = \"read\"\n", ErrSyntax, 4, ""},
		{"invalid access", "mesh = \"write\"\n\npeering = \"reed\"\n", ErrInvalidAccess, 3, "peering"},
		{"list outside key", "service_prefix \"\" {\n  policy = \"list\"\n}\n", ErrInvalidAccess, 2, `service_prefix "" > policy`},
		{"invalid intentions", "service \"web\" {\n  policy = \"read\"\n  intentions = \"all\"\n}\n", ErrInvalidAccess, 3, `service "web" > intentions`},
		{"invalid namespace policy", "namespace \"ns\" {\n  policy = \"owner\"\n}\n", ErrInvalidAccess, 2, `namespace "ns" > policy`},
		{"number value", "operator = 1\n", ErrInvalidAccess, 1, "operator"},
		{"interpolation is text", "operator = \"${x}\"\n", ErrInvalidAccess, 1, "operator"},
		{"heredoc ends with a newline", "peering = <<EOF\nread\nEOF\n", ErrInvalidAccess, 1, "peering"},
		{"float value", "operator = 1.5\n", ErrRuleShape, 1, "operator"},
		{"bool value", "\noperator = true\n", ErrRuleShape, 2, "operator"},
		{"object value", "peering = {}\n", ErrRuleShape, 1, "peering"},
		{"value as block", "peering \"\" {\n  policy = \"read\"\n}\n", ErrRuleShape, 1, `peering ""`},
		{"block as value", "mesh = \"write\"\nservice = \"read\"\n", ErrRuleShape, 2, "service"},
		{"rule as a list", "service = [{ web = { policy = \"read\" } }]\n", ErrRuleShape, 1, "service"},
		{"missing policy", "key_prefix \"app/\" {\n}\n", ErrMissingPolicy, 1, `key_prefix "app/"`},
		{"empty policy", "\nkey \"app\" {\n  policy = \"\"\n}\n", ErrMissingPolicy, 2, `key "app"`},
		{"two labels nest a block", "service \"a\" \"b\" {\n  policy = \"read\"\n}\n", ErrMissingPolicy, 1, `service "a"`},
		{"body as a string", "service = { web = \"write\" }\n", ErrMissingPolicy, 1, `service "web"`},
		{"mesh in namespace", "namespace_prefix \"\" {\n  mesh = \"write\"\n}\n", ErrRuleNotAllowed, 2, `namespace_prefix "" > mesh`},
		{"peering in namespace", "partition \"p\" {\n  namespace \"n\" {\n    peering = \"read\"\n  }\n}\n", ErrRuleNotAllowed, 3, `partition "p" > namespace "n" > peering`},
		{"invalid access in partition", "partition \"p\" { peering = \"reed\" }\n", ErrInvalidAccess, 1, `partition "p" > peering`},
	})
}

// TestParseHCLWarnings checks text Consul accepts but partly ignores or overrides: Parse
// accepts it, reports a warning, and fails with Strict.
func TestParseHCLWarnings(t *testing.T) {
	runWarningCases(t, ParseHCL, []warningCase{
		{"unknown rule", "mesh = \"write\"\npeerings = \"read\"\n", &Policy{Rules: Rules{Mesh: AccessWrite}}, ErrUnknownRule, 2, "peerings"},
		{"unknown block", "\n\nservices \"web\" {\n  policy = \"read\"\n}\n", &Policy{}, ErrUnknownRule, 3, `services "web"`},
		{"unknown attribute in rule", "service \"web\" {\n  policy = \"read\"\n  polcy = \"write\"\n}\n",
			&Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Policy: AccessRead}}}}, ErrUnknownRule, 3, `service "web" > polcy`},
		{"intentions outside service", "node \"n\" {\n  policy = \"read\"\n  intentions = \"read\"\n}\n",
			&Policy{Rules: Rules{Nodes: []Rule{{Name: "n", Policy: AccessRead}}}}, ErrUnknownRule, 3, `node "n" > intentions`},
		{"unknown rule in partition", "partition \"a\" {\n  meshes = \"write\"\n}\n", &Policy{Partitions: []PartitionRules{{Name: "a"}}}, ErrUnknownRule, 2, `partition "a" > meshes`},
		{"value set twice", "peering = \"reed\"\npeering = \"read\"\n", &Policy{Rules: Rules{Peering: AccessRead}}, ErrDuplicateRule, 1, "peering"},
		{"policy set twice", "namespace \"a\" {\n  policy = \"read\"\n  policy = \"write\"\n}\n",
			&Policy{Namespaces: []NamespaceRules{{Name: "a", Policy: AccessWrite}}}, ErrDuplicateRule, 2, `namespace "a" > policy`},
		{"three labels", "service \"a\" \"b\" \"c\" {\n  policy = \"read\"\n}\n",
			&Policy{Rules: Rules{Services: []ServiceRule{{Name: "a", Policy: AccessRead}}}}, ErrRuleShape, 1, `service "a"`},
		{"block without label", "service {\n  policy = \"read\"\n}\n",
			&Policy{Rules: Rules{Services: []ServiceRule{{Name: "policy", Policy: AccessRead}}}}, ErrRuleShape, 2, `service "policy"`},
		{"nested partition", "partition \"a\" {\n  partition \"b\" {\n  }\n}\n", &Policy{Partitions: []PartitionRules{{Name: "a"}}}, ErrRuleNotAllowed, 2, `partition "a" > partition "b"`},
		{"namespace in namespace", "namespace \"a\" {\n  namespace_prefix \"b\" {\n  }\n}\n", &Policy{Namespaces: []NamespaceRules{{Name: "a"}}}, ErrRuleNotAllowed, 2, `namespace "a" > namespace_prefix "b"`},
		{"partition in namespace", "namespace \"a\" {\n  partition \"b\" {\n  }\n}\n", &Policy{Namespaces: []NamespaceRules{{Name: "a"}}}, ErrRuleNotAllowed, 2, `namespace "a" > partition "b"`},
	})
}

func TestParseHCLCollectsEveryError(t *testing.T) {
	src := "mesh = \"wirte\"\nservice \"web\" {\n  policy = \"reed\"\n}\nbogus = \"x\"\n"
	_, err := ParseHCL([]byte(src), "p.hcl")
	var lines []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *ParseError
		require.ErrorAs(t, e, &pe)
		lines = append(lines, pe.Line)
	}
	assert.Equal(t, []int{1, 3}, lines, "got error lines %v, want both invalid levels in line order", lines)

	_, err = ParseHCL([]byte(src), "p.hcl", Strict())
	lines = nil
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *ParseError
		require.ErrorAs(t, e, &pe)
		lines = append(lines, pe.Line)
	}
	assert.Equal(t, []int{1, 3, 5}, lines, "got error lines %v, want the unknown rule too with Strict", lines)
}

func TestParseHCLConsulSpellings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want *Policy
	}{
		{
			name: "upper-case keywords and levels, as Consul's HCL 1 decoder accepts",
			src:  "PEERING = \"READ\"\nService \"Web\" {\n  Policy = \"Write\"\n  Intentions = \"DENY\"\n}\n",
			want: &Policy{Rules: Rules{Peering: AccessRead, Services: []ServiceRule{{Name: "Web", Policy: AccessWrite, Intentions: AccessDeny}}}},
		},
		{
			name: "comments and one-line blocks",
			src:  "# gateway\n// peering\n/* all */ peering = \"read\"\nkey \"a\" { policy = \"list\" }\n",
			want: &Policy{Rules: Rules{Peering: AccessRead, Keys: []Rule{{Name: "a", Policy: AccessList}}}},
		},
		{
			name: "several attributes on one line, with or without commas",
			src:  "service \"web\" { policy = \"read\" intentions = \"read\" }\nservice \"db\" { policy = \"write\", intentions = \"deny\" }\n",
			want: &Policy{Rules: Rules{Services: []ServiceRule{{Name: "db", Policy: AccessWrite, Intentions: AccessDeny}, {Name: "web", Policy: AccessRead, Intentions: AccessRead}}}},
		},
		{
			name: "nested blocks on one line",
			src:  `partition "default" { namespace "default" { service "gw" { policy = "write" } } }`,
			want: &Policy{Partitions: []PartitionRules{{Name: "default", Namespaces: []NamespaceRules{{Name: "default", Rules: Rules{Services: []ServiceRule{{Name: "gw", Policy: AccessWrite}}}}}}}},
		},
		{
			name: "rules as objects, after the blocks with the same keyword",
			src:  "service = { \"web\" = { policy = \"read\" } }\nservice \"db\" { policy = \"deny\" }\nservice \"web\" { policy = \"write\" }\n",
			want: &Policy{Rules: Rules{Services: []ServiceRule{{Name: "db", Policy: AccessDeny}, {Name: "web", Policy: AccessWrite}, {Name: "web", Policy: AccessRead}}}},
		},
		{
			name: "empty levels set nothing",
			src:  "peering = \"\"\nservice \"web\" {\n  policy = \"read\"\n  intentions = \"\"\n}\n",
			want: &Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Policy: AccessRead}}}},
		},
		{
			name: "identifiers as labels, keywords folded as strings.EqualFold does",
			src:  "service web { policy = \"read\" }\n\u017fession_prefix \"\" { policy = \"read\" }\n",
			want: &Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Policy: AccessRead}}, SessionPrefixes: []Rule{{Name: "", Policy: AccessRead}}}},
		},
		{
			name: "rules come back sorted, equal names in source order",
			src: "service \"b\" {\n  policy = \"read\"\n}\nservice \"a\" {\n  policy = \"deny\"\n}\n" +
				"service \"a\" {\n  policy = \"write\"\n}\nagent \"x\" {\n  policy = \"read\"\n}\nacl = \"read\"\n",
			want: &Policy{Rules: Rules{
				ACL:      AccessRead,
				Agents:   []Rule{{Name: "x", Policy: AccessRead}},
				Services: []ServiceRule{{Name: "a", Policy: AccessDeny}, {Name: "a", Policy: AccessWrite}, {Name: "b", Policy: AccessRead}},
			}},
		},
		{
			name: "every rule kind",
			src: `acl = "read"
keyring = "write"
mesh = "read"
operator = "deny"
peering = "write"
agent "a" { policy = "read" }
agent_prefix "b" { policy = "read" }
event "c" { policy = "write" }
event_prefix "d" { policy = "deny" }
key "e" { policy = "list" }
key_prefix "f" { policy = "list" }
node "g" { policy = "write" }
node_prefix "h" { policy = "read" }
query "i" { policy = "write" }
query_prefix "j" { policy = "read" }
session "k" { policy = "write" }
session_prefix "l" { policy = "read" }
namespace "m" {
  policy = "read"
  acl = "write"
}
namespace_prefix "n" {
  key_prefix "" {
    policy = "write"
  }
}
partition "o" {
  mesh = "write"
  node "p" {
    policy = "read"
  }
  namespace "q" {
    service "r" {
      policy = "read"
    }
  }
  namespace_prefix "s" {
    policy = "write"
  }
}
partition_prefix "t" {
  peering = "read"
}
`,
			want: &Policy{
				Rules: Rules{
					ACL: AccessRead, Keyring: AccessWrite, Mesh: AccessRead, Operator: AccessDeny, Peering: AccessWrite,
					Agents: []Rule{{"a", AccessRead}}, AgentPrefixes: []Rule{{"b", AccessRead}},
					Events: []Rule{{"c", AccessWrite}}, EventPrefixes: []Rule{{"d", AccessDeny}},
					Keys: []Rule{{"e", AccessList}}, KeyPrefixes: []Rule{{"f", AccessList}},
					Nodes: []Rule{{"g", AccessWrite}}, NodePrefixes: []Rule{{"h", AccessRead}},
					Queries: []Rule{{"i", AccessWrite}}, QueryPrefixes: []Rule{{"j", AccessRead}},
					Sessions: []Rule{{"k", AccessWrite}}, SessionPrefixes: []Rule{{"l", AccessRead}},
				},
				Namespaces:        []NamespaceRules{{Name: "m", Policy: AccessRead, Rules: Rules{ACL: AccessWrite}}},
				NamespacePrefixes: []NamespaceRules{{Name: "n", Rules: Rules{KeyPrefixes: []Rule{{"", AccessWrite}}}}},
				Partitions: []PartitionRules{{
					Name:              "o",
					Rules:             Rules{Mesh: AccessWrite, Nodes: []Rule{{"p", AccessRead}}},
					Namespaces:        []NamespaceRules{{Name: "q", Rules: Rules{Services: []ServiceRule{{Name: "r", Policy: AccessRead}}}}},
					NamespacePrefixes: []NamespaceRules{{Name: "s", Policy: AccessWrite}},
				}},
				PartitionPrefixes: []PartitionRules{{Name: "t", Rules: Rules{Peering: AccessRead}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHCL([]byte(tt.src), "p.hcl")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			// Everything parsed renders and parses back to the same value.
			assertRoundTrip(t, got)
		})
	}
}

func TestParseHCLEmpty(t *testing.T) {
	got, err := ParseHCL(nil, "empty.hcl")
	require.NoError(t, err)
	assert.Equal(t, &Policy{}, got)
	text, err := got.RenderHCL()
	require.NoError(t, err)
	assert.Empty(t, text)
}

func TestRenderHCLUnsafeNames(t *testing.T) {
	tests := []struct {
		name   string
		policy *Policy
	}{
		{"template sequence", &Policy{Rules: Rules{KeyPrefixes: []Rule{{Name: "app/${env}", Policy: AccessRead}}}}},
		{"directive sequence", &Policy{Rules: Rules{Keys: []Rule{{Name: "%{if}", Policy: AccessRead}}}}},
		{"not NFC", &Policy{Partitions: []PartitionRules{{Name: "e\u0301", Rules: Rules{Peering: AccessRead}}}}},
		{"nested in a namespace", &Policy{Namespaces: []NamespaceRules{{Name: "ns", Rules: Rules{Services: []ServiceRule{{Name: "${x}", Policy: AccessRead}}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.policy.RenderHCL()
			require.ErrorIs(t, err, ErrNotHCLSafe)
			_, err = tt.policy.RenderCompactHCL()
			require.ErrorIs(t, err, ErrNotHCLSafe)
			text, err := tt.policy.RenderJSON()
			require.NoError(t, err, "JSON carries any name")
			back, err := ParseJSON(text, "p.json")
			require.NoError(t, err)
			assert.Equal(t, tt.policy, back)
		})
	}
}

func TestRenderHCLQuotesNames(t *testing.T) {
	p := &Policy{Rules: Rules{Services: []ServiceRule{{Name: "a \"quoted\"\\name\n", Policy: AccessRead}}}}
	text, err := p.RenderHCL()
	require.NoError(t, err)
	assert.Equal(t, "service \"a \\\"quoted\\\"\\\\name\\n\" {\n  policy = \"read\"\n}\n", string(text))
	back, err := ParseHCL(text, "p.hcl")
	require.NoError(t, err)
	assert.Equal(t, p, back)
}

func TestRenderInvalidPolicy(t *testing.T) {
	p := &Policy{Rules: Rules{Peering: "reed"}}
	for _, r := range renderers {
		t.Run(r.suffix, func(t *testing.T) {
			_, err := r.render(p)
			require.ErrorIs(t, err, ErrInvalidAccess)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "got %v, want a *ValidationError", err)
		})
	}
}

func TestParseErrorFilename(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte, string, ...ParseOption) (*Policy, error)
		src   string
	}{
		{"hcl", ParseHCL, `peering = "x"`},
		{"json", ParseJSON, `{"peering": "x"}`},
		{"detected", Parse, `{"peering": "x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.parse([]byte(tt.src), "team/gateway.policy")
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "team/gateway.policy", pe.Filename)
		})
	}
}
