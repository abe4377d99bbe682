package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNamedLookup(t *testing.T) {
	rules := &Rules{
		Services: []ServiceRule{
			{Name: "web", Policy: AccessRead},
			{Name: "db", Policy: AccessWrite},
			{Name: "db", Policy: AccessDeny},
		},
		ServicePrefixes: []ServiceRule{
			{Name: "", Policy: AccessRead},
			{Name: "w", Policy: AccessDeny},
			{Name: "we", Policy: AccessWrite},
			{Name: "we", Policy: AccessRead},
		},
	}
	tests := []struct {
		name      string
		segment   segment
		want      Access
		wantFound bool
	}{
		{"exact beats prefix", segment{name: "web", exact: true}, AccessRead, true},
		{"duplicates merge, deny first", segment{name: "db", exact: true}, AccessDeny, true},
		{"longest prefix, duplicates merge", segment{name: "west", exact: true}, AccessWrite, true},
		{"shorter prefix", segment{name: "wx", exact: true}, AccessDeny, true},
		{"empty prefix", segment{name: "api", exact: true}, AccessRead, true},
		{"a prefix segment skips exact rules", segment{name: "web", exact: false}, AccessWrite, true},
		{"the empty segment", segment{name: "", exact: false}, AccessRead, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := namedLookup(ResourceService, tt.segment)(rules)
			assert.Equal(t, tt.wantFound, found)
			assert.Equal(t, tt.want, got, "got %q, want %q", got, tt.want)
		})
	}
	got, found := namedLookup(ResourceNode, segment{name: "n", exact: true})(rules)
	assert.False(t, found, "got %q from a policy without node rules", got)
}

func TestResolve(t *testing.T) {
	p := &Policy{
		Rules: Rules{Peering: AccessRead, Operator: AccessWrite},
		Partitions: []PartitionRules{
			{Name: "default", Rules: Rules{Peering: AccessWrite}},
			{Name: "team-a", Rules: Rules{Peering: AccessDeny}},
		},
		PartitionPrefixes: []PartitionRules{
			{Name: "", Rules: Rules{Peering: AccessRead}},
			{Name: "team-", Rules: Rules{Mesh: AccessWrite}},
		},
	}
	sc := scopes(p, true)
	tests := []struct {
		name      string
		partition segment
		field     func(*Rules) *Access
		want      Access
	}{
		{"equally specific blocks merge", defaultSegment, peeringField, AccessWrite},
		{"the exact partition decides", segment{name: "team-a", exact: true}, peeringField, AccessDeny},
		{"a block without the rule is skipped", segment{name: "team-b", exact: true}, peeringField, AccessRead},
		{"any other partition", segment{name: "", exact: false}, peeringField, AccessRead},
		{"mesh falls back to operator in the default partition", defaultSegment, meshField, AccessWrite},
		{"mesh from a prefix", segment{name: "team-b", exact: true}, meshField, AccessWrite},
		{"no mesh and no operator elsewhere", segment{name: "other", exact: true}, meshField, AccessUnset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolveWithFallback(sc, tt.partition, tt.field)
			assert.Equal(t, tt.want, got, "got %q, want %q", got, tt.want)
		})
	}
}

func TestScopesCEIgnoresEnterpriseBlocks(t *testing.T) {
	p := &Policy{Partitions: []PartitionRules{{Name: "default", Rules: Rules{Peering: AccessRead}}}}
	assert.Len(t, scopes(p, false), 1)
	assert.Equal(t, AccessUnset, resolveWithFallback(scopes(p, false), defaultSegment, peeringField))
	assert.Equal(t, AccessRead, resolveWithFallback(scopes(p, true), defaultSegment, peeringField))
}

func TestSegments(t *testing.T) {
	got := segments([]matcher{{name: "b"}, {name: "a", prefix: true}, {name: "b"}, {name: "", prefix: true}}, segment{name: "default", exact: true})
	want := []segment{{name: "", exact: false}, {name: "a", exact: false}, {name: "b", exact: true}, {name: "default", exact: true}}
	assert.Equal(t, want, got)
}
