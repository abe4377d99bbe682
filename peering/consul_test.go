package peering_test

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/peering"
)

const (
	// consulWait bounds polls for a state Consul reaches on its own.
	consulWait = 60 * time.Second
	// consulTick is the polling interval of the tests against Consul.
	consulTick = 20 * time.Millisecond
	// testWaitTime keeps blocking queries below the 10 s timeout of testconsul's clients.
	testWaitTime = 5 * time.Second
	// gatewayID is the ID and name of the mesh gateway the tests register.
	gatewayID = "mesh-gateway"
)

// newClient returns a client of a with its own transport, whose idle connections are
// closed when the test ends, and no timeout, so that blocking queries may wait.
func newClient(t *testing.T, a *testconsul.Agent, token string) (*api.Client, *http.Transport) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := api.NewClient(&api.Config{Address: a.HTTPAddr, Scheme: "http", Token: token, Transport: tr})
	require.NoError(t, err)
	return c, tr
}

// registerGateway registers (or updates) the mesh gateway with the agent behind c.
func registerGateway(t *testing.T, c *api.Client, meta map[string]string) {
	t.Helper()
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		Kind: api.ServiceKindMeshGateway, ID: gatewayID, Name: gatewayID,
		Address: "127.0.0.1", Port: 8443, Meta: meta,
		TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "127.0.0.1", Port: 8443}},
	})
	require.NoError(t, err)
}

// setMeshConfig writes the mesh config entry with PeerThroughMeshGateways = enable.
func setMeshConfig(t *testing.T, c *api.Client, enable bool) {
	t.Helper()
	ok, _, err := c.ConfigEntries().Set(&api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: enable}}, nil)
	require.NoError(t, err)
	require.True(t, ok, "got the mesh entry not written, want it written")
}

func TestReadState(t *testing.T) {
	t.Parallel()
	dc1 := testconsul.Start(t)
	dc2 := testconsul.Start(t, testconsul.WithDatacenter("dc2"))
	c1, c2 := dc1.Client(), dc2.Client()
	ctx := t.Context()
	registerGateway(t, c2, map[string]string{"team": "platform"})

	began := time.Now()
	tok, _, err := c1.Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "dc2"}, nil)
	require.NoError(t, err)
	_, _, err = c2.Peerings().Establish(ctx, api.PeeringEstablishRequest{PeerName: "dc1", PeeringToken: tok.PeeringToken}, nil)
	require.NoError(t, err)
	setMeshConfig(t, c2, true)
	setGatewayLimits(t, c2, 7)

	s, err := peering.ReadState(ctx, c2, gatewayID)
	require.NoError(t, err)
	t.Logf("read the dialer's State %s after generating the token", time.Since(began).Round(time.Millisecond))

	assert.Equal(t, "dc2", s.Datacenter, "got datacenter %q, want dc2", s.Datacenter)
	roots, _, err := c2.Connect().CARoots(nil)
	require.NoError(t, err)
	assert.Equal(t, roots.TrustDomain, s.TrustDomain, "got trust domain %q, want %q", s.TrustDomain, roots.TrustDomain)
	assert.True(t, strings.HasSuffix(s.TrustDomain, ".consul"), "got trust domain %q, want <uuid>.consul", s.TrustDomain)

	require.NotNil(t, s.Gateway, "got no gateway, want the registered one")
	assert.Equal(t, api.ServiceKindMeshGateway, s.Gateway.Kind, "got gateway kind %q, want mesh-gateway", s.Gateway.Kind)
	assert.Equal(t, 8443, s.Gateway.Port, "got gateway port %d, want 8443", s.Gateway.Port)
	assert.Equal(t, "platform", s.Gateway.Meta["team"], "got gateway meta %v, want team=platform", s.Gateway.Meta)

	require.NotNil(t, s.MeshConfig, "got no mesh config, want the entry set")
	require.NotNil(t, s.MeshConfig.Peering, "got no Peering block, want one")
	assert.True(t, s.MeshConfig.Peering.PeerThroughMeshGateways, "got PeerThroughMeshGateways false, want true")
	entry, _, err := c2.ConfigEntries().Get(api.MeshConfig, api.MeshConfigMesh, nil)
	require.NoError(t, err)
	assert.Equal(t, entry, s.MeshConfig, "got mesh entry %+v, want what GET /v1/config/mesh/mesh returns: %+v", s.MeshConfig, entry)

	sd, _, err := c2.ConfigEntries().Get(api.ServiceDefaults, gatewayID, nil)
	require.NoError(t, err)
	assert.Equal(t, sd, s.ServiceDefaults, "got service-defaults %+v, want what GET /v1/config/service-defaults/%s returns", s.ServiceDefaults, gatewayID)
	assert.Equal(t, 7, gatewayMaxConnections(s), "got upstream connection limit %d, want 7", gatewayMaxConnections(s))
	assert.Equal(t, testconsul.Version, s.Agent.Version, "got agent version %q, want %s", s.Agent.Version, testconsul.Version)

	require.Len(t, s.Servers, 1, "got %d servers, want 1", len(s.Servers))
	tlsPort := strconv.Itoa(dc2.GRPCTLSPort)
	assert.Equal(t, tlsPort, s.Servers[0].Service.Meta["grpc_tls_port"], "got grpc_tls_port %q, want %s", s.Servers[0].Service.Meta["grpc_tls_port"], tlsPort)

	require.Len(t, s.Peerings, 1, "got %d peerings, want 1", len(s.Peerings))
	p := s.Peerings[0]
	assert.Equal(t, "dc1", p.Name, "got peering %q, want dc1", p.Name)
	assert.True(t, p.Dialing(), "got the dialer's peering not dialing, want addresses")
	want := "127.0.0.1:" + strconv.Itoa(dc1.GRPCTLSPort)
	assert.Contains(t, p.PeerServerAddresses, want, "got peer addresses %v, want %s (dc1's grpc_tls)", p.PeerServerAddresses, want)
	acceptorTD, _, err := c1.Connect().CARoots(nil)
	require.NoError(t, err)
	targets, issues := peering.DialTargets(s.Peerings)
	assert.Empty(t, issues, "got issues %v, want none", issues)
	require.Len(t, targets, 1, "got %d dial targets, want 1", len(targets))
	assert.Equal(t, "server.dc1.peering."+acceptorTD.TrustDomain, targets[0].ServerName, "got server name %q", targets[0].ServerName)

	// The acceptor has the peering without addresses, and no gateway.
	acc, _, err := peering.ConsulSources(c1, gatewayID).Peerings.Read(ctx, peering.Version{})
	require.NoError(t, err)
	require.Len(t, acc, 1, "got %d peerings on the acceptor, want 1", len(acc))
	assert.False(t, acc[0].Dialing(), "got the acceptor's peering dialing, want no addresses")
	_, err = peering.ReadState(ctx, c1, gatewayID)
	require.ErrorIs(t, err, peering.ErrGatewayNotFound)
	assert.NotErrorIs(t, err, peering.ErrPermissionDenied, "got %v, want only the missing gateway", err)
}

func TestReadStateWithoutMeshConfig(t *testing.T) {
	t.Parallel()
	a := testconsul.Start(t)
	c := a.Client()
	registerGateway(t, c, nil)
	s, err := peering.ReadState(t.Context(), c, gatewayID)
	require.NoError(t, err)
	assert.Nil(t, s.MeshConfig, "got mesh config %+v, want nil without an entry", s.MeshConfig)
	assert.NotNil(t, s.Peerings, "got nil peerings, want an empty list")
	assert.Empty(t, s.Peerings, "got peerings %v, want none", s.Peerings)
}

func TestReadStateUnreachable(t *testing.T) {
	t.Parallel()
	a := testconsul.Start(t)
	c := a.Client()
	a.Stop(t)
	s, err := peering.ReadState(t.Context(), c, gatewayID)
	require.ErrorIs(t, err, peering.ErrUnreachable)
	assert.Nil(t, s, "got a State from a stopped agent, want none")
	assert.NotContains(t, err.Error(), "\n", "got joined errors %v, want one unreachable error", err)
}

// permissionRules lists the permission errors in err's tree by rule.
func permissionRules(err error) []string {
	var rules []string
	var walk func(error)
	walk = func(err error) {
		if pe, ok := err.(*peering.PermissionError); ok {
			rules = append(rules, pe.Rule)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	slices.Sort(rules)
	return rules
}

// tokenWithRules creates a policy with rules and a token with it, and returns the
// token's secret.
func tokenWithRules(t *testing.T, c *api.Client, name, rules string) string {
	t.Helper()
	p, _, err := c.ACL().PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
	require.NoError(t, err)
	tok, _, err := c.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
	require.NoError(t, err)
	return tok.SecretID
}

// gatewayRules are the read rules a gateway's token needs, by name.
var gatewayRules = map[string]string{
	"agent":   `agent_prefix "" { policy = "read" }`,
	"peering": `peering = "read"`,
	"service": `service_prefix "" { policy = "read" }`,
	"node":    `node_prefix "" { policy = "read" }`,
}

// rulesWithout returns gatewayRules except the named ones.
func rulesWithout(names ...string) string {
	var out []string
	for name, r := range gatewayRules {
		if !slices.Contains(names, name) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func TestReadStatePermissions(t *testing.T) {
	t.Parallel()
	const management = "2f1e7d64-5b1a-4c0e-9e43-6a9d3c1b8f70"
	a := testconsul.Start(t, testconsul.WithACLs(management))
	admin := a.Client()
	registerGateway(t, admin, nil)

	tests := []struct {
		name    string
		without []string
		token   *string // used instead of a token with the remaining rules
		want    []string
	}{
		{name: "every rule", want: nil},
		{name: "without peering:read", without: []string{"peering"}, want: []string{"peering:read"}},
		{name: "without agent:read", without: []string{"agent"}, want: []string{"agent:read"}},
		{name: "without node:read", without: []string{"node"}, want: []string{"service:consul:read and node:read"}},
		{
			name: "without service:read", without: []string{"service"},
			want: []string{"service:consul:read and node:read", "service:mesh-gateway:read"},
		},
		{
			name: "without peering:read and agent:read", without: []string{"peering", "agent"},
			want: []string{"agent:read", "peering:read"},
		},
		{
			// Consul does not say it filtered the servers for the anonymous token.
			name: "anonymous token", token: new(""),
			want: []string{"agent:read", "peering:read", "service:consul:read and node:read", "service:mesh-gateway:read"},
		},
		{
			name: "unknown token", token: new("7c0d3a4e-91b2-4f6a-8d15-3e2f1a0b9c84"),
			// Reading the CA roots needs no token; every other read names no rule.
			want: []string{"", "", "", "", ""},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var token string
			if tt.token != nil {
				token = *tt.token
			} else {
				token = tokenWithRules(t, admin, "gateway-"+strconv.Itoa(i), rulesWithout(tt.without...))
			}
			s, err := peering.ReadState(t.Context(), a.ClientWithToken(token), gatewayID)
			if tt.want == nil {
				require.NoError(t, err)
				require.NotNil(t, s.Gateway, "got no gateway, want it")
				return
			}
			assert.Nil(t, s, "got a State, want none when a read is denied")
			require.ErrorIs(t, err, peering.ErrPermissionDenied)
			var pe *peering.PermissionError
			require.ErrorAs(t, err, &pe)
			got := permissionRules(err)
			assert.Equal(t, tt.want, got, "got missing rules %q, want %q (%v)", got, tt.want, err)
		})
	}
}

func TestCaptureHasNoSecrets(t *testing.T) {
	t.Parallel()
	const management = "9a4c2e71-3d5b-4f80-b6e2-1c7d9e0f3a58"
	a := testconsul.Start(t, testconsul.WithACLs(management))
	admin := a.Client()
	ctx := t.Context()
	registerGateway(t, admin, map[string]string{"contact": "platform@example.com"})
	setMeshConfig(t, admin, false)
	tok, _, err := admin.Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "dc9"}, nil)
	require.NoError(t, err)
	decoded, err := peering.DecodeToken(tok.PeeringToken)
	require.NoError(t, err)
	// Agents keep no check definition in the catalog; checks registered through the
	// catalog (as consul-esm does for external nodes) do.
	_, err = admin.Catalog().Register(&api.CatalogRegistration{
		Node: "server-2", Address: "127.0.0.2",
		Service: &api.AgentService{ID: "consul", Service: "consul", Port: 8300, Meta: map[string]string{"grpc_tls_port": "8503"}},
		Check: &api.AgentCheck{
			Node: "server-2", CheckID: "monitor", Name: "monitor", Status: api.HealthPassing, Type: "http",
			Definition: api.HealthCheckDefinition{
				HTTP:   "http://monitor:" + checkSecret + "@127.0.0.2:9000/health",
				Header: map[string][]string{"Authorization": {"Bearer " + checkSecret}},
			},
		},
	}, nil)
	require.NoError(t, err)
	gatewayToken := tokenWithRules(t, admin, "gateway", rulesWithout())
	client := a.ClientWithToken(gatewayToken)

	var s *peering.State
	require.Eventually(t, func() bool {
		s, err = peering.ReadState(ctx, client, gatewayID)
		return err == nil && slices.ContainsFunc(s.Servers, func(e *api.ServiceEntry) bool {
			return slices.ContainsFunc(e.Checks, func(c *api.HealthCheck) bool { return len(c.Definition.Header) > 0 })
		})
	}, consulWait, consulTick, "got no State with the monitor check's definition, want one (last error %v)", err)

	var buf bytes.Buffer
	require.NoError(t, peering.WriteCapture(&buf, s))
	capture := buf.String()
	secrets := map[string]string{
		"management token":     management,
		"gateway token":        gatewayToken,
		"peering token":        tok.PeeringToken,
		"establishment secret": decoded.EstablishmentSecret.Reveal(),
		"check credential":     checkSecret,
	}
	for name, secret := range secrets {
		require.NotEmpty(t, secret, "got an empty %s, want one to look for", name)
		assert.NotContains(t, capture, secret, "got the %s in the capture, want it absent", name)
	}
	assert.Contains(t, capture, `"Name": "dc9"`, "got no peering dc9 in the capture, want it")
	assert.Contains(t, capture, "platform@example.com", "got the gateway meta dropped, want it kept")
	assert.Contains(t, capture, "[redacted]", "got no redacted check header, want one")
	back, err := peering.DecodeState(&buf)
	require.NoError(t, err)
	assert.Equal(t, s.Peerings, back.Peerings, "got peerings that read back differently")
}

func TestConsulSourcesBadConfig(t *testing.T) {
	tests := []struct {
		name   string
		client *api.Client
		id     string
	}{
		{name: "nil client", client: nil, id: gatewayID},
		{name: "no gateway ID", client: mustClient(t), id: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := peering.ReadState(t.Context(), tt.client, tt.id)
			require.ErrorIs(t, err, peering.ErrBadConfig)
		})
	}
}

func mustClient(t *testing.T) *api.Client {
	t.Helper()
	// Nothing listens on port 1; only the gateway ID is checked before a request.
	c, err := api.NewClient(&api.Config{Address: "127.0.0.1:1", Scheme: "http"})
	require.NoError(t, err)
	return c
}
