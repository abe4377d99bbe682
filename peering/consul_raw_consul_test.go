package peering_test

import (
	"slices"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/peering"
)

// agentConfig returns a client configuration for a that sends token (the anonymous
// token when empty), so that the test does not depend on the environment's token.
func agentConfig(a *testconsul.Agent, token string) *api.Config {
	if token == "" {
		token = "anonymous"
	}
	return &api.Config{Address: a.HTTPAddr, Scheme: "http", Datacenter: a.Datacenter, Token: token}
}

func peeringNames(ps []peering.Peering) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func TestNewConsulSourcesFollowsConsul(t *testing.T) {
	t.Parallel()
	dc1 := testconsul.Start(t)
	dc2 := testconsul.Start(t, testconsul.WithDatacenter("dc2"))
	c1, c2 := dc1.Client(), dc2.Client()
	ctx := t.Context()
	registerGateway(t, c2, nil)
	tok, _, err := c1.Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "dc2"}, nil)
	require.NoError(t, err)
	_, _, err = c2.Peerings().Establish(ctx, api.PeeringEstablishRequest{PeerName: "dc1", PeeringToken: tok.PeeringToken}, nil)
	require.NoError(t, err)
	_, _, err = c2.Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "accepting"}, nil)
	require.NoError(t, err)

	old := peering.ConsulSources(c2, gatewayID)
	require.Eventually(t, func() bool {
		p, _, err := c2.Peerings().Read(ctx, "dc1", nil)
		return err == nil && p != nil && p.State == api.PeeringStateActive && len(p.PeerCAPems) > 0
	}, consulWait, consulTick, "got the dialing peering not active")

	src, err := peering.NewConsulSources(agentConfig(dc2, ""), gatewayID, peering.WithWaitTime(testWaitTime))
	require.NoError(t, err)
	zipped, err := peering.NewConsulSources(agentConfig(dc2, ""), gatewayID, peering.WithGzip(true))
	require.NoError(t, err)

	t.Run("same as ConsulSources", func(t *testing.T) {
		got, err := src.Read(ctx)
		require.NoError(t, err)
		want, err := old.Read(ctx)
		require.NoError(t, err)
		got.Peerings, want.Peerings = withoutStreamStatus(got.Peerings), withoutStreamStatus(want.Peerings)
		assert.Equal(t, want, got, "got a State that differs from ConsulSources'")
		assert.Equal(t, []string{"accepting", "dc1"}, peeringNames(got.Peerings), "got peerings %v", peeringNames(got.Peerings))

		withGzip, _, err := zipped.Peerings.Read(ctx, peering.Version{})
		require.NoError(t, err)
		assert.Equal(t, got.Peerings, withoutStreamStatus(withGzip), "got other peerings with gzip")
	})

	_, v, err := src.Peerings.Read(ctx, peering.Version{})
	require.NoError(t, err)
	changes := []struct {
		name   string
		change func(t *testing.T)
		want   []string
	}{
		{
			name: "peering added",
			change: func(t *testing.T) {
				_, _, err := c2.Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "added"}, nil)
				require.NoError(t, err)
			},
			want: []string{"accepting", "added", "dc1"},
		},
		{
			name: "peering deleted",
			change: func(t *testing.T) {
				_, err := c2.Peerings().Delete(ctx, "added", nil)
				require.NoError(t, err)
			},
			want: []string{"accepting", "dc1"},
		},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			decoded, _ := peering.DecodeCounts(src.Peerings)
			ch.change(t)
			// Blocking reads until the list is as wanted: Consul marks a deleted peering
			// first, then removes it.
			var got []peering.Peering
			for reads := 0; ; reads++ {
				require.Less(t, reads, 20, "got peerings %v after 20 reads, want %v", peeringNames(got), ch.want)
				got, v, err = src.Peerings.Read(ctx, v)
				require.NoError(t, err)
				if slices.Equal(peeringNames(got), ch.want) {
					break
				}
			}
			after, _ := peering.DecodeCounts(src.Peerings)
			// One entry changed per write; the dialing peering's stream may have been
			// written too meanwhile (its addresses or state).
			assert.LessOrEqual(t, after-decoded, 3, "got %d entries decoded for one change of %d peerings", after-decoded, len(got))
			t.Logf("%d entries decoded", after-decoded)
		})
	}
}

func TestNewConsulSourcesPermissions(t *testing.T) {
	t.Parallel()
	const management = "6b0f5d3e-8c2a-4e71-9a55-2d4c7e1f0b93"
	a := testconsul.Start(t, testconsul.WithACLs(management))
	admin := a.Client()
	registerGateway(t, admin, nil)
	tests := []struct {
		name  string
		token string
		rule  string
	}{
		{name: "without peering:read", token: tokenWithRules(t, admin, "no-peering", rulesWithout("peering")), rule: "peering:read"},
		{name: "unknown token", token: "0d7e2c5b-1f43-4a8e-b6c9-5e3a2d1f0c47", rule: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := peering.NewConsulSources(agentConfig(a, tt.token), gatewayID)
			require.NoError(t, err)
			_, _, err = src.Peerings.Read(t.Context(), peering.Version{})
			var pe *peering.PermissionError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.rule, pe.Rule, "got rule %q, want %q (%v)", pe.Rule, tt.rule, err)
		})
	}
	src, err := peering.NewConsulSources(agentConfig(a, tokenWithRules(t, admin, "gateway", rulesWithout())), gatewayID)
	require.NoError(t, err)
	s, err := src.Read(t.Context())
	require.NoError(t, err)
	assert.NotNil(t, s.Peerings, "got nil peerings, want an empty list")
}
