package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		policy   *Policy
		wantErr  error
		wantRule string
	}{
		{"empty policy", &Policy{}, nil, ""},
		{"invalid acl", &Policy{Rules: Rules{ACL: "all"}}, ErrInvalidAccess, "acl"},
		{"invalid keyring", &Policy{Rules: Rules{Keyring: "list"}}, ErrInvalidAccess, "keyring"},
		{"invalid mesh", &Policy{Rules: Rules{Mesh: "Write"}}, ErrInvalidAccess, "mesh"},
		{"invalid operator", &Policy{Rules: Rules{Operator: "x"}}, ErrInvalidAccess, "operator"},
		{"invalid peering", &Policy{Rules: Rules{Peering: "reed"}}, ErrInvalidAccess, "peering"},
		{"agent without policy", &Policy{Rules: Rules{Agents: []Rule{{Name: "n"}}}}, ErrMissingPolicy, `agent "n" > policy`},
		{"list on node_prefix", &Policy{Rules: Rules{NodePrefixes: []Rule{{Name: "", Policy: AccessList}}}}, ErrInvalidAccess, `node_prefix "" > policy`},
		{"list on key", &Policy{Rules: Rules{Keys: []Rule{{Name: "k", Policy: AccessList}}}}, nil, ""},
		{"list on key_prefix", &Policy{Rules: Rules{KeyPrefixes: []Rule{{Name: "", Policy: AccessList}}}}, nil, ""},
		{"service without policy", &Policy{Rules: Rules{Services: []ServiceRule{{Name: "web", Intentions: AccessRead}}}}, ErrMissingPolicy, `service "web" > policy`},
		{"invalid service_prefix intentions", &Policy{Rules: Rules{ServicePrefixes: []ServiceRule{{Name: "", Policy: AccessRead, Intentions: AccessList}}}}, ErrInvalidAccess, `service_prefix "" > intentions`},
		{"invalid namespace policy", &Policy{Namespaces: []NamespaceRules{{Name: "ns", Policy: "own"}}}, ErrInvalidAccess, `namespace "ns" > policy`},
		{"mesh in namespace_prefix", &Policy{NamespacePrefixes: []NamespaceRules{{Name: "", Rules: Rules{Mesh: AccessRead}}}}, ErrRuleNotAllowed, `namespace_prefix "" > mesh`},
		{"peering in partition namespace", &Policy{Partitions: []PartitionRules{{Name: "p", Namespaces: []NamespaceRules{{Name: "n", Rules: Rules{Peering: AccessRead}}}}}}, ErrRuleNotAllowed, `partition "p" > namespace "n" > peering`},
		{"mesh and peering in a partition", &Policy{Partitions: []PartitionRules{{Name: "p", Rules: Rules{Mesh: AccessWrite, Peering: AccessRead}}}}, nil, ""},
		{"invalid rule in partition_prefix namespace_prefix", &Policy{PartitionPrefixes: []PartitionRules{{Name: "", NamespacePrefixes: []NamespaceRules{{Name: "", Rules: Rules{Sessions: []Rule{{Name: "s", Policy: "rw"}}}}}}}}, ErrInvalidAccess, `partition_prefix "" > namespace_prefix "" > session "s" > policy`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.wantRule, ve.Field, "got rule %q, want %q", ve.Field, tt.wantRule)
		})
	}
}

func TestValidateJoinsEveryError(t *testing.T) {
	p := &Policy{Rules: Rules{ACL: "x", Peering: "y", Services: []ServiceRule{{Name: "s"}}}}
	err := p.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "got %T, want an errors.Join value", err)
	assert.Len(t, joined.Unwrap(), 3)
}
