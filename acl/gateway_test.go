package acl

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
)

var editions = []Edition{EditionCE, EditionEnterprise, EditionBoth}

// builderCase is a policy from a builder, named for its golden files.
type builderCase struct {
	name   string
	policy *Policy
}

// builderCases returns every builder output for every edition.
func builderCases(t *testing.T) []builderCase {
	t.Helper()
	var cases []builderCase
	for _, e := range editions {
		p, err := PeeringRead(e)
		require.NoError(t, err)
		cases = append(cases, builderCase{"peering-read-" + e.String(), p})
		for _, v := range []struct {
			suffix string
			opts   []Option
		}{
			{"", nil},
			{"-no-agent", []Option{WithAgentRead(false)}},
			{"-named", []Option{WithGatewayName("gw-east")}},
		} {
			p, err := MeshGateway(e, v.opts...)
			require.NoError(t, err)
			cases = append(cases, builderCase{"mesh-gateway-" + e.String() + v.suffix, p})
		}
	}
	return cases
}

func TestBuilders(t *testing.T) {
	for _, c := range builderCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range renderers {
				got, err := r.render(c.policy)
				require.NoError(t, err)
				golden.Assert(t, filepath.Join("testdata", c.name+r.suffix+".golden"), got)
			}
			assertRoundTrip(t, c.policy)
		})
	}
}

// TestPeeringReadSeed checks the compact forms against the four snippets of Consul's
// "Enabling Peering Control Plane Traffic" page, byte for byte.
func TestPeeringReadSeed(t *testing.T) {
	tests := []struct {
		name        string
		edition     Edition
		wantHCL     string
		wantJSON    string
		wantBothHCL bool
	}{
		{name: "ce", edition: EditionCE, wantHCL: `peering = "read"`, wantJSON: `{ "peering": "read" }`},
		{name: "enterprise", edition: EditionEnterprise, wantHCL: `partition_prefix "" { peering = "read" }`, wantJSON: `{ "partition_prefix": { "": { "peering": "read" } } }`},
		{
			name:     "both",
			edition:  EditionBoth,
			wantHCL:  "peering = \"read\"\npartition_prefix \"\" { peering = \"read\" }",
			wantJSON: `{ "partition_prefix": { "": { "peering": "read" } }, "peering": "read" }`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PeeringRead(tt.edition)
			require.NoError(t, err)
			gotHCL, err := p.RenderCompactHCL()
			require.NoError(t, err)
			assert.Equal(t, tt.wantHCL, string(gotHCL), "got compact HCL %q, want %q", gotHCL, tt.wantHCL)
			gotJSON, err := p.RenderCompactJSON()
			require.NoError(t, err)
			assert.Equal(t, tt.wantJSON, string(gotJSON), "got compact JSON %q, want %q", gotJSON, tt.wantJSON)
		})
	}
}

func TestBuildersInvalidArguments(t *testing.T) {
	tests := []struct {
		name    string
		build   func() (*Policy, error)
		wantErr error
	}{
		{"peering read, zero edition", func() (*Policy, error) { return PeeringRead(0) }, ErrUnknownEdition},
		{"peering read, edition past the last", func() (*Policy, error) { return PeeringRead(EditionBoth + 1) }, ErrUnknownEdition},
		{"mesh gateway, zero edition", func() (*Policy, error) { return MeshGateway(0) }, ErrUnknownEdition},
		{"mesh gateway, empty name", func() (*Policy, error) { return MeshGateway(EditionCE, WithGatewayName("")) }, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.build()
			require.ErrorIs(t, err, tt.wantErr)
			assert.Nil(t, p)
		})
	}
}

func TestMeshGatewayShape(t *testing.T) {
	tests := []struct {
		name    string
		edition Edition
		opts    []Option
		want    *Policy
	}{
		{
			name:    "ce without agent read",
			edition: EditionCE,
			opts:    []Option{WithAgentRead(false), WithGatewayName("gw")},
			want: &Policy{Rules: Rules{
				Mesh:            AccessWrite,
				Peering:         AccessRead,
				NodePrefixes:    []Rule{{Name: "", Policy: AccessRead}},
				Services:        []ServiceRule{{Name: "gw", Policy: AccessWrite}},
				ServicePrefixes: []ServiceRule{{Name: "", Policy: AccessRead}},
			}},
		},
		{
			name:    "enterprise without agent read",
			edition: EditionEnterprise,
			opts:    []Option{WithAgentRead(false)},
			want: &Policy{
				Rules:             Rules{Mesh: AccessWrite},
				PartitionPrefixes: []PartitionRules{{Name: "", Rules: Rules{Peering: AccessRead}}},
				Partitions: []PartitionRules{{
					Name: "default",
					Namespaces: []NamespaceRules{{Name: "default", Rules: Rules{
						Services: []ServiceRule{{Name: "mesh-gateway", Policy: AccessWrite}},
					}}},
					NamespacePrefixes: []NamespaceRules{{Name: "", Rules: Rules{
						NodePrefixes:    []Rule{{Name: "", Policy: AccessRead}},
						ServicePrefixes: []ServiceRule{{Name: "", Policy: AccessRead}},
					}}},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MeshGateway(tt.edition, tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEditionString(t *testing.T) {
	tests := []struct {
		edition Edition
		want    string
	}{
		{EditionCE, "ce"},
		{EditionEnterprise, "enterprise"},
		{EditionBoth, "both"},
		{Edition(7), "Edition(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.edition.String())
		})
	}
}
