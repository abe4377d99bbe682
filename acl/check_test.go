package acl

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ceRecipe is the CE gateway policy of Consul's documentation, one rule a line so that
// cases can drop or replace single rules.
var ceRecipe = []string{
	`mesh = "write"`,
	`peering = "read"`,
	`service "mesh-gateway" { policy = "write" }`,
	`service_prefix "" { policy = "read" }`,
	`node_prefix "" { policy = "read" }`,
	`agent_prefix "" { policy = "read" }`,
}

// entRecipe is the Enterprise gateway policy of Consul's documentation.
const entRecipe = `mesh = "write"
partition_prefix "" { peering = "read" }
partition "default" {
  namespace "default" {
    service "mesh-gateway" { policy = "write" }
    agent_prefix "" { policy = "read" }
  }
  namespace_prefix "" {
    node_prefix "" { policy = "read" }
    service_prefix "" { policy = "read" }
  }
}
`

// ce returns the CE recipe without the rules starting with the drop prefixes, plus extra
// lines.
func ce(drop []string, extra ...string) string {
	var lines []string
	for _, l := range ceRecipe {
		if !slices.ContainsFunc(drop, func(p string) bool { return strings.HasPrefix(l, p) }) {
			lines = append(lines, l)
		}
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

func drop(prefixes ...string) []string { return prefixes }

func TestCheck(t *testing.T) {
	tests := []struct {
		name        string
		policy      string
		edition     Edition
		opts        []Option
		wantMissing []string
		wantExcess  []string
		wantIgnored []string
	}{
		// Consul CE: the recipe and each grant missing.
		{name: "ce recipe", policy: ce(nil), edition: EditionCE},
		{name: "ce recipe as JSON", policy: `{"mesh": "write", "peering": "read", "service": {"mesh-gateway": [{"policy": "write"}]}, "service_prefix": {"": {"policy": "read"}}, "node_prefix": {"": {"policy": "read"}}, "agent_prefix": {"": {"policy": "read"}}}`, edition: EditionCE},
		{name: "no mesh", policy: ce(drop("mesh")), edition: EditionCE, wantMissing: []string{"mesh:write"}},
		{name: "mesh read only", policy: ce(drop("mesh"), `mesh = "read"`), edition: EditionCE, wantMissing: []string{"mesh:write"}},
		{name: "no peering", policy: ce(drop("peering")), edition: EditionCE, wantMissing: []string{"peering:read"}},
		{name: "peering denied", policy: ce(drop("peering"), `peering = "deny"`), edition: EditionCE, wantMissing: []string{"peering:read"}},
		{name: "no gateway service", policy: ce(drop("service \"mesh")), edition: EditionCE, wantMissing: []string{"service:mesh-gateway:write"}},
		{name: "gateway service read only", policy: ce(drop("service \"mesh"), `service "mesh-gateway" { policy = "read" }`), edition: EditionCE, wantMissing: []string{"service:mesh-gateway:write"}},
		{name: "no service_prefix", policy: ce(drop("service_prefix")), edition: EditionCE, wantMissing: []string{"service:*:read"}},
		{name: "no node_prefix", policy: ce(drop("node_prefix")), edition: EditionCE, wantMissing: []string{"node:*:read"}},
		{name: "no agent_prefix", policy: ce(drop("agent_prefix")), edition: EditionCE, wantMissing: []string{"agent:*:read"}},
		{name: "no agent_prefix, agent read not needed", policy: ce(drop("agent_prefix")), edition: EditionCE, opts: []Option{WithAgentRead(false)}},
		{name: "empty policy", policy: "", edition: EditionCE, wantMissing: []string{"mesh:write", "peering:read", "service:mesh-gateway:write", "service:*:read", "node:*:read", "agent:*:read"}},

		// Fallbacks to operator.
		{name: "peering from operator read", policy: ce(drop("peering"), `operator = "read"`), edition: EditionCE, wantExcess: []string{"operator"}},
		{name: "peering from operator write", policy: ce(drop("peering"), `operator = "write"`), edition: EditionCE, wantExcess: []string{"operator"}},
		{name: "mesh and peering from operator write", policy: ce(drop("peering", "mesh"), `operator = "write"`), edition: EditionCE, wantExcess: []string{"operator"}},
		{name: "operator read does not give mesh write", policy: ce(drop("peering", "mesh"), `operator = "read"`), edition: EditionCE, wantMissing: []string{"mesh:write"}, wantExcess: []string{"operator"}},
		{name: "a peering rule beats the fallback", policy: ce(drop("peering"), `peering = "deny"`, `operator = "write"`), edition: EditionCE, wantMissing: []string{"peering:read"}, wantExcess: []string{"operator"}},
		{name: "a mesh rule beats the fallback", policy: ce(drop("mesh"), `mesh = "read"`, `operator = "write"`), edition: EditionCE, wantMissing: []string{"mesh:write"}, wantExcess: []string{"operator"}},

		// Name matching.
		{name: "gateway write from a prefix", policy: ce(drop("service \"mesh"), `service_prefix "mesh-" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`service_prefix "mesh-" > policy`}},
		{name: "everything from a write prefix", policy: ce(drop("service"), `service_prefix "" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`service_prefix "" > policy`}},
		{name: "exact read beats prefix write", policy: ce(drop("service"), `service "mesh-gateway" { policy = "read" }`, `service_prefix "" { policy = "write" }`), edition: EditionCE, wantMissing: []string{"service:mesh-gateway:write"}, wantExcess: []string{`service_prefix "" > policy`}},
		{name: "longest prefix wins", policy: ce(drop("service"), `service_prefix "" { policy = "deny" }`, `service_prefix "mesh" { policy = "read" }`, `service_prefix "mesh-" { policy = "write" }`), edition: EditionCE, wantMissing: []string{"service:*:read"}, wantExcess: []string{`service_prefix "mesh-" > policy`}},
		{name: "a denied service", policy: ce(nil, `service "billing" { policy = "deny" }`), edition: EditionCE, wantMissing: []string{"service:*:read"}},
		{name: "a denied node prefix", policy: ce(nil, `node_prefix "db-" { policy = "deny" }`), edition: EditionCE, wantMissing: []string{"node:*:read"}},
		{name: "an exact node rule without prefix", policy: ce(drop("node_prefix"), `node "n1" { policy = "read" }`), edition: EditionCE, wantMissing: []string{"node:*:read"}},
		{name: "deny beats write in duplicates", policy: ce(nil, `service "mesh-gateway" { policy = "deny" }`), edition: EditionCE, wantMissing: []string{"service:mesh-gateway:write", "service:*:read"}},
		{name: "write beats read in duplicates", policy: ce(nil, `node_prefix "" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`node_prefix "" > policy`}},
		{name: "custom gateway name", policy: ce(nil), edition: EditionCE, opts: []Option{WithGatewayName("gw-east")}, wantMissing: []string{"service:gw-east:write"}, wantExcess: []string{`service "mesh-gateway" > policy`}},

		// More than needed.
		{name: "acl", policy: ce(nil, `acl = "read"`), edition: EditionCE, wantExcess: []string{"acl"}},
		{name: "keyring", policy: ce(nil, `keyring = "write"`), edition: EditionCE, wantExcess: []string{"keyring"}},
		{name: "peering write", policy: ce(drop("peering"), `peering = "write"`), edition: EditionCE, wantExcess: []string{"peering"}},
		{name: "key_prefix", policy: ce(nil, `key_prefix "" { policy = "read" }`), edition: EditionCE, wantExcess: []string{`key_prefix "" > policy`}},
		{name: "key list", policy: ce(nil, `key "cfg" { policy = "list" }`), edition: EditionCE, wantExcess: []string{`key "cfg" > policy`}},
		{name: "event", policy: ce(nil, `event_prefix "" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`event_prefix "" > policy`}},
		{name: "query", policy: ce(nil, `query "q" { policy = "read" }`), edition: EditionCE, wantExcess: []string{`query "q" > policy`}},
		{name: "session", policy: ce(nil, `session_prefix "" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`session_prefix "" > policy`}},
		{name: "node write", policy: ce(drop("node_prefix"), `node_prefix "" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`node_prefix "" > policy`}},
		{name: "agent write", policy: ce(drop("agent_prefix"), `agent_prefix "" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`agent_prefix "" > policy`}},
		{name: "agent read not needed", policy: ce(nil), edition: EditionCE, opts: []Option{WithAgentRead(false)}, wantExcess: []string{`agent_prefix "" > policy`}},
		{name: "another service written", policy: ce(nil, `service "web" { policy = "write" }`), edition: EditionCE, wantExcess: []string{`service "web" > policy`}},
		{name: "intentions write", policy: ce(drop("service_prefix"), "service_prefix \"\" {\n  policy = \"read\"\n  intentions = \"write\"\n}"), edition: EditionCE, wantExcess: []string{`service_prefix "" > intentions`}},
		{name: "deny rules are never excess", policy: ce(nil, `key_prefix "" { policy = "deny" }`, `operator = "deny"`, `acl = "deny"`), edition: EditionCE},

		// Consul CE ignores Enterprise blocks.
		{name: "enterprise recipe on ce", policy: entRecipe, edition: EditionCE, wantMissing: []string{"peering:read", "service:mesh-gateway:write", "service:*:read", "node:*:read", "agent:*:read"}, wantIgnored: []string{`partition "default"`, `partition_prefix ""`}},
		{name: "enterprise blocks are not excess on ce", policy: ce(nil, `partition_prefix "" { operator = "write" }`), edition: EditionCE, wantIgnored: []string{`partition_prefix ""`}},

		// Consul Enterprise.
		{name: "enterprise recipe", policy: entRecipe, edition: EditionEnterprise},
		{name: "ce recipe on enterprise", policy: ce(nil), edition: EditionEnterprise, wantMissing: []string{"peering:read in all partitions", "service:*:read in partition default, all namespaces"}},
		{name: "peering in the default partition only", policy: strings.Replace(entRecipe, `partition_prefix "" { peering = "read" }`, `peering = "read"`, 1), edition: EditionEnterprise, wantMissing: []string{"peering:read in all partitions"}},
		{name: "peering denied in one partition", policy: entRecipe + `partition "secret" { peering = "deny" }`, edition: EditionEnterprise, wantMissing: []string{"peering:read in all partitions"}},
		{name: "peering denied in a partition prefix", policy: entRecipe + `partition_prefix "team-" { peering = "deny" }`, edition: EditionEnterprise, wantMissing: []string{"peering:read in all partitions"}},
		{name: "peering from operator in every partition", policy: strings.Replace(entRecipe, `partition_prefix "" { peering = "read" }`, `partition_prefix "" { operator = "read" }`, 1), edition: EditionEnterprise, wantExcess: []string{`partition_prefix "" > operator`}},
		{name: "mesh granted in every partition", policy: strings.Replace(entRecipe, "mesh = \"write\"\n", "", 1) + `partition_prefix "p" { mesh = "write" }` + "\n" + `partition "default" { mesh = "write" }`, edition: EditionEnterprise, wantExcess: []string{`partition_prefix "p" > mesh`}},
		{name: "no mesh", policy: strings.Replace(entRecipe, "mesh = \"write\"\n", "", 1), edition: EditionEnterprise, wantMissing: []string{"mesh:write in partition default"}},
		{name: "services read in every partition", policy: entRecipe + "partition_prefix \"\" {\n  namespace_prefix \"\" {\n    service_prefix \"\" { policy = \"read\" }\n  }\n}\n", edition: EditionEnterprise, wantExcess: []string{`partition_prefix "" > namespace_prefix "" > service_prefix "" > policy`}},
		{name: "services denied in one namespace", policy: entRecipe + "namespace \"vault\" {\n  service_prefix \"\" { policy = \"deny\" }\n}\n", edition: EditionEnterprise, wantMissing: []string{"service:*:read in partition default, all namespaces"}},
		{name: "gateway write in every namespace", policy: strings.Replace(entRecipe, `node_prefix "" { policy = "read" }`, `service "mesh-gateway" { policy = "write" }`+"\n"+`node_prefix "" { policy = "read" }`, 1), edition: EditionEnterprise, wantExcess: []string{`partition "default" > namespace_prefix "" > service "mesh-gateway" > policy`}},
		{name: "gateway denied in the default namespace", policy: entRecipe + "namespace \"default\" {\n  service \"mesh-gateway\" { policy = \"deny\" }\n}\n", edition: EditionEnterprise, wantMissing: []string{"service:mesh-gateway:write in partition default, namespace default", "service:*:read in partition default, all namespaces"}},
		{name: "namespace management", policy: entRecipe + "namespace_prefix \"\" {\n  policy = \"write\"\n}\n", edition: EditionEnterprise, wantExcess: []string{`namespace_prefix "" > policy`}},
		{name: "no agent read in the default partition", policy: strings.Replace(entRecipe, `agent_prefix "" { policy = "read" }`, "", 1), edition: EditionEnterprise, wantMissing: []string{"agent:*:read in partition default"}},

		// Both editions.
		{name: "both recipe", policy: ce(nil) + strings.Replace(entRecipe, "mesh = \"write\"\n", "", 1), edition: EditionBoth},
		{name: "ce recipe on both", policy: ce(nil), edition: EditionBoth, wantMissing: []string{"peering:read in all partitions", "service:*:read in partition default, all namespaces"}},
		{name: "consul-k8s style on both", policy: ce(nil, `partition_prefix "" { peering = "read" }`), edition: EditionBoth, wantMissing: []string{"service:*:read in partition default, all namespaces"}},
		{name: "enterprise recipe on both", policy: entRecipe, edition: EditionBoth, wantMissing: []string{"peering:read", "service:mesh-gateway:write", "service:*:read", "node:*:read", "agent:*:read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Check(tt.policy, tt.edition, tt.opts...)
			require.NoError(t, err)
			var missing, excess []string
			for _, g := range r.Missing {
				missing = append(missing, g.String())
			}
			for _, x := range r.Excess {
				excess = append(excess, x.Rule)
			}
			assert.Equal(t, tt.wantMissing, missing, "got missing %q, want %q\n%s", missing, tt.wantMissing, r)
			assert.Equal(t, tt.wantExcess, excess, "got excess %q, want %q\n%s", excess, tt.wantExcess, r)
			assert.Equal(t, tt.wantIgnored, r.Ignored, "got ignored %q, want %q", r.Ignored, tt.wantIgnored)
			assert.Equal(t, len(tt.wantMissing) == 0, r.Sufficient())
			assert.Equal(t, len(tt.wantMissing) == 0 && len(tt.wantExcess) == 0, r.LeastPrivilege())
		})
	}
}

func TestCheckBuilders(t *testing.T) {
	for _, c := range builderCases(t) {
		if !strings.HasPrefix(c.name, "mesh-gateway-") {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var opts []Option
			if strings.HasSuffix(c.name, "-no-agent") {
				opts = append(opts, WithAgentRead(false))
			}
			if strings.HasSuffix(c.name, "-named") {
				opts = append(opts, WithGatewayName("gw-east"))
			}
			edition := EditionCE
			switch {
			case strings.Contains(c.name, "-enterprise"):
				edition = EditionEnterprise
			case strings.Contains(c.name, "-both"):
				edition = EditionBoth
			}
			r, err := c.policy.Check(edition, opts...)
			require.NoError(t, err)
			assert.True(t, r.LeastPrivilege(), "got\n%s\nwant least privilege", r)
		})
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		edition Edition
		opts    []Option
		wantErr error
	}{
		{"syntax", "peering: read", EditionCE, nil, ErrSyntax},
		{"invalid access", `peering = "reed"`, EditionCE, nil, ErrInvalidAccess},
		{"unknown edition", `peering = "read"`, Edition(0), nil, ErrUnknownEdition},
		{"empty gateway name", `peering = "read"`, EditionCE, []Option{WithGatewayName("")}, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(tt.policy, tt.edition, tt.opts...)
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestPolicyCheckInvalid(t *testing.T) {
	p := &Policy{Rules: Rules{Mesh: "all"}}
	_, err := p.Check(EditionCE)
	require.ErrorIs(t, err, ErrInvalidAccess)
}

func TestReportString(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		edition Edition
		want    string
	}{
		{
			name:    "least privilege",
			policy:  ce(nil),
			edition: EditionCE,
			want:    `mesh gateway "mesh-gateway" (ce): grants what a peering gateway needs and no more`,
		},
		{
			name:    "sufficient with excess",
			policy:  ce(drop("peering", "mesh"), `operator = "write"`),
			edition: EditionCE,
			want: `mesh gateway "mesh-gateway" (ce): grants what a peering gateway needs, and more
more than needed:
  operator = "write": operator grants cluster-wide operations; mesh = "write" and peering = "read" are enough`,
		},
		{
			name:    "missing on both with ignored",
			policy:  `partition_prefix "" { peering = "read" }`,
			edition: EditionBoth,
			want: `mesh gateway "mesh-gateway" (both): does not grant what a peering gateway needs
missing:
  mesh:write (ce)
  peering:read (ce)
  service:mesh-gateway:write (ce)
  service:*:read (ce)
  node:*:read (ce)
  agent:*:read (ce)
  mesh:write in partition default (enterprise)
  service:mesh-gateway:write in partition default, namespace default (enterprise)
  service:*:read in partition default, all namespaces (enterprise)
  node:*:read in partition default (enterprise)
  agent:*:read in partition default (enterprise)`,
		},
		{
			name:    "ignored on ce",
			policy:  ce(nil, `partition "default" { mesh = "write" }`),
			edition: EditionCE,
			want: `mesh gateway "mesh-gateway" (ce): grants what a peering gateway needs and no more
ignored by Consul CE:
  partition "default"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Check(tt.policy, tt.edition)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.String())
		})
	}
}
