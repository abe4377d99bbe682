package acl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
)

const managementToken = "0c8f5f22-6d8a-4a5e-9f3a-6f8e2c1d7b10"

// startConsul starts a Consul 1.14.8 CE agent with ACLs (default policy deny) and
// returns a management client.
func startConsul(t *testing.T) (*testconsul.Agent, *api.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Consul agent")
	}
	t.Setenv("CONSUL_HTTP_TOKEN", "")
	t.Setenv("CONSUL_HTTP_TOKEN_FILE", "")
	agent := testconsul.Start(t, testconsul.WithACLs(managementToken))
	return agent, agent.Client()
}

func TestCreateOrUpdate(t *testing.T) {
	_, client := startConsul(t)
	ctx := context.Background()
	p, err := MeshGateway(EditionCE)
	require.NoError(t, err)
	want, err := p.APIPolicy("mesh-gateway-peering", "mesh gateway routing peering traffic")
	require.NoError(t, err)

	created, changed, err := CreateOrUpdate(ctx, client, want)
	require.NoError(t, err)
	assert.True(t, changed, "got unchanged, want created")
	require.NotEmpty(t, created.ID)
	assert.Equal(t, want.Rules, created.Rules)

	again, changed, err := CreateOrUpdate(ctx, client, want)
	require.NoError(t, err)
	assert.False(t, changed, "got changed on the second call, want unchanged")
	assert.Equal(t, created.ID, again.ID)
	assert.Equal(t, created.ModifyIndex, again.ModifyIndex, "got a write on the second call")

	smaller, err := MeshGateway(EditionCE, WithAgentRead(false))
	require.NoError(t, err)
	update, err := smaller.APIPolicy(want.Name, want.Description)
	require.NoError(t, err)
	updated, changed, err := CreateOrUpdate(ctx, client, update)
	require.NoError(t, err)
	assert.True(t, changed, "got unchanged, want the rules updated")
	assert.Equal(t, created.ID, updated.ID, "got a new policy, want the same one updated")
	stored, _, err := client.ACL().PolicyReadByName(want.Name, nil)
	require.NoError(t, err)
	assert.Equal(t, update.Rules, stored.Rules)

	update.Description = "new description"
	_, changed, err = CreateOrUpdate(ctx, client, update)
	require.NoError(t, err)
	assert.True(t, changed, "got unchanged, want the description updated")
	update.Datacenters = []string{"dc1"}
	_, changed, err = CreateOrUpdate(ctx, client, update)
	require.NoError(t, err)
	assert.True(t, changed, "got unchanged, want the datacenters updated")
	_, changed, err = CreateOrUpdate(ctx, client, update)
	require.NoError(t, err)
	assert.False(t, changed, "got changed, want unchanged")

	// The stored rules parse back to the policy.
	back, err := Parse([]byte(stored.Rules), "stored")
	require.NoError(t, err)
	assert.Equal(t, smaller, back)
}

func TestCreateOrUpdatePermissionDenied(t *testing.T) {
	agent, client := startConsul(t)
	ctx := context.Background()
	p, err := MeshGateway(EditionCE)
	require.NoError(t, err)
	ap, err := p.APIPolicy("gw", "")
	require.NoError(t, err)
	ap, _, err = CreateOrUpdate(ctx, client, ap)
	require.NoError(t, err)
	tok, err := CreateToken(ctx, client, ap, "mesh gateway")
	require.NoError(t, err)
	require.Len(t, tok.Policies, 1)
	assert.Equal(t, ap.ID, tok.Policies[0].ID)

	gw := agent.ClientWithToken(tok.SecretID)
	other, err := p.APIPolicy("other", "")
	require.NoError(t, err)
	_, _, err = CreateOrUpdate(ctx, gw, other)
	require.ErrorIs(t, err, ErrPermissionDenied)
	var se api.StatusError
	require.ErrorAs(t, err, &se, "the API error stays in the chain")
	assert.Contains(t, err.Error(), `acl: read policy "other"`)
	_, err = CreateToken(ctx, gw, ap, "")
	require.ErrorIs(t, err, ErrPermissionDenied)
}

func TestCreateOrUpdateArguments(t *testing.T) {
	client, err := api.NewClient(api.DefaultConfig())
	require.NoError(t, err)
	tests := []struct {
		name   string
		client *api.Client
		policy *api.ACLPolicy
	}{
		{"nil client", nil, &api.ACLPolicy{Name: "p"}},
		{"nil policy", client, nil},
		{"empty name", client, &api.ACLPolicy{}},
		{"bad name", client, &api.ACLPolicy{Name: "mesh gateway"}},
		{"long name", client, &api.ACLPolicy{Name: strings.Repeat("a", 129)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, changed, err := CreateOrUpdate(context.Background(), tt.client, tt.policy)
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.False(t, changed)
		})
	}
	_, err = CreateToken(context.Background(), nil, &api.ACLPolicy{Name: "p"}, "")
	require.ErrorIs(t, err, ErrInvalidArgument)
}

func TestAPIPolicy(t *testing.T) {
	p, err := PeeringRead(EditionBoth)
	require.NoError(t, err)
	got, err := p.APIPolicy("peering-read", "lists peerings")
	require.NoError(t, err)
	assert.Equal(t, &api.ACLPolicy{
		Name:        "peering-read",
		Description: "lists peerings",
		Rules:       "peering = \"read\"\npartition_prefix \"\" {\n  peering = \"read\"\n}\n",
	}, got)

	_, err = p.APIPolicy("bad name", "")
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = (&Policy{Rules: Rules{Peering: "x"}}).APIPolicy("ok", "")
	require.ErrorIs(t, err, ErrInvalidAccess)
}

func TestAPIErrorWrapping(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantDenied bool
	}{
		{"permission denied", api.StatusError{Code: 403, Body: "Permission denied: token with AccessorID 'x' lacks permission 'acl:read'"}, true},
		{"ACL not found", api.StatusError{Code: 403, Body: "ACL not found"}, false},
		{"server error", api.StatusError{Code: 500, Body: "boom"}, false},
		{"transport error", errors.New("connection refused"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apiError("read policy", "p", tt.err)
			assert.Equal(t, tt.wantDenied, errors.Is(err, ErrPermissionDenied), "got errors.Is(ErrPermissionDenied) = %v, want %v", !tt.wantDenied, tt.wantDenied)
			assert.ErrorIs(t, err, tt.err)
			assert.Equal(t, `acl: read policy "p": `, err.Error()[:len(`acl: read policy "p": `)])
		})
	}
}

// TestConsulAcceptsRenderedPolicies stores every policy the builders make, in every
// form, in Consul CE 1.14.8. CE parses rules with HCL 1 and ignores keys it does not
// know, so it also accepts the Enterprise forms (and then ignores them; see
// TestConsulEnforcesLikeCheck).
func TestConsulAcceptsRenderedPolicies(t *testing.T) {
	_, client := startConsul(t)
	for i, c := range builderCases(t) {
		for j, r := range renderers {
			t.Run(c.name+r.suffix, func(t *testing.T) {
				rules, err := r.render(c.policy)
				require.NoError(t, err)
				created, _, err := client.ACL().PolicyCreate(&api.ACLPolicy{
					Name:  fmt.Sprintf("p-%d-%d", i, j),
					Rules: string(rules),
				}, nil)
				require.NoError(t, err, "Consul rejected\n%s", rules)
				assert.Equal(t, string(rules), created.Rules)
			})
		}
	}
	t.Run("an invalid policy is rejected", func(t *testing.T) {
		_, _, err := client.ACL().PolicyCreate(&api.ACLPolicy{Name: "bad", Rules: `peering = "reed"`}, nil)
		var se api.StatusError
		require.ErrorAs(t, err, &se)
		assert.Contains(t, se.Body, "Invalid peering policy")
	})
	t.Run("Consul ignores unknown rules, which ParseHCL accepts with a warning", func(t *testing.T) {
		rules := "peerings = \"read\"\n"
		_, _, err := client.ACL().PolicyCreate(&api.ACLPolicy{Name: "typo", Rules: rules}, nil)
		require.NoError(t, err)
		var warnings []*ParseError
		_, err = ParseHCL([]byte(rules), "typo", WithWarnings(&warnings))
		require.NoError(t, err)
		require.Len(t, warnings, 1)
		require.ErrorIs(t, warnings[0], ErrUnknownRule)
	})
}

// TestConsulCorpusVerdicts stores every policy of testdata/corpus in Consul CE 1.14.8
// and checks that Consul accepts or rejects it as testdata/corpus/consul-1.14.8.txt
// records, and that Parse agrees (TestCorpus checks the rules it reads).
func TestConsulCorpusVerdicts(t *testing.T) {
	_, client := startConsul(t)
	f, err := os.Open(filepath.Join("testdata", "corpus", "consul-1.14.8.txt"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		require.GreaterOrEqual(t, len(fields), 3, line)
		file, accept := fields[0], fields[1] == "accept"
		n++
		t.Run(file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "corpus", file))
			require.NoError(t, err)
			_, _, err = client.ACL().PolicyCreate(&api.ACLPolicy{Name: fmt.Sprintf("corpus-%d", n), Rules: string(src)}, nil)
			if accept {
				require.NoError(t, err, "Consul rejected a policy the corpus says it accepts")
			} else {
				require.Error(t, err, "Consul accepted a policy the corpus says it rejects")
			}
			_, parseErr := Parse(src, file)
			if !accept {
				require.Error(t, parseErr, "Parse accepted a policy Consul rejects")
				return
			}
			if parseErr != nil {
				var pe *ParseError
				require.ErrorAs(t, parseErr, &pe)
				require.Regexp(t, `^(partition|namespace)`, pe.Rule, "Parse rejected a policy Consul accepts, outside an Enterprise block: %v", parseErr)
			}
		})
	}
	require.NoError(t, sc.Err())
	require.NotZero(t, n)
}

// TestConsulEnforcesLikeCheck compares Check's CE verdicts with what Consul CE lets a
// token do: list peerings (peering:read), write the mesh config entry (mesh:write) and
// register the gateway service (service:<gateway>:write).
func TestConsulEnforcesLikeCheck(t *testing.T) {
	agent, client := startConsul(t)
	ctx := context.Background()
	peeringOnly := func(e Edition) string {
		p, err := PeeringRead(e)
		require.NoError(t, err)
		text, err := p.RenderHCL()
		require.NoError(t, err)
		return string(text)
	}
	gateway := func(e Edition) string {
		p, err := MeshGateway(e)
		require.NoError(t, err)
		text, err := p.RenderHCL()
		require.NoError(t, err)
		return string(text)
	}
	tests := []struct {
		name  string
		rules string
	}{
		{"empty", ""},
		{"peering read ce", peeringOnly(EditionCE)},
		{"peering read enterprise", peeringOnly(EditionEnterprise)},
		{"peering read both", peeringOnly(EditionBoth)},
		{"operator read", `operator = "read"`},
		{"operator write", `operator = "write"`},
		{"peering deny beats operator write", "peering = \"deny\"\noperator = \"write\"\n"},
		{"mesh read beats operator write", "mesh = \"read\"\noperator = \"write\"\n"},
		{"gateway ce", gateway(EditionCE)},
		{"gateway enterprise", gateway(EditionEnterprise)},
		{"gateway both", gateway(EditionBoth)},
		{"gateway service from a prefix", `service_prefix "mesh-" { policy = "write" }`},
		{"exact read beats prefix write", "service \"mesh-gateway\" { policy = \"read\" }\nservice_prefix \"\" { policy = \"write\" }\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := &api.ACLPolicy{Name: fmt.Sprintf("enforce-%d", i), Rules: tt.rules}
			if tt.rules == "" {
				ap.Rules = "# nothing\n"
			}
			ap, _, err := CreateOrUpdate(ctx, client, ap)
			require.NoError(t, err)
			tok, err := CreateToken(ctx, client, ap, tt.name)
			require.NoError(t, err)
			tc := agent.ClientWithToken(tok.SecretID)

			report, err := Check(tt.rules, EditionCE)
			require.NoError(t, err)
			missing := map[string]bool{}
			for _, g := range report.Missing {
				missing[g.String()] = true
			}

			_, _, err = tc.Peerings().List(ctx, nil)
			assertAllowed(t, "peering:read", !missing["peering:read"], err)

			_, _, err = tc.ConfigEntries().Set(&api.MeshConfigEntry{}, nil)
			assertAllowed(t, "mesh:write", !missing["mesh:write"], err)

			err = tc.Agent().ServiceRegister(&api.AgentServiceRegistration{
				Kind: api.ServiceKindMeshGateway, Name: DefaultGatewayName, ID: fmt.Sprintf("gw-%d", i), Port: 8443,
			})
			assertAllowed(t, "service:mesh-gateway:write", !missing["service:mesh-gateway:write"], err)
		})
	}
}

// assertAllowed checks that Consul allowed the call exactly when Check said the grant
// is there.
func assertAllowed(t *testing.T, grant string, want bool, err error) {
	t.Helper()
	if want {
		assert.NoError(t, err, "Check grants %s, Consul refused", grant)
		return
	}
	var se api.StatusError
	if assert.ErrorAs(t, err, &se, "Check says %s is missing, Consul allowed it", grant) {
		assert.Equal(t, 403, se.Code, "got %d, want 403 for %s", se.Code, grant)
	}
}
