package e2e_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// convergeTimeout bounds the wait for Consul's xDS server and this library to serve a
// gateway the same resources.
const convergeTimeout = 60 * time.Second

// TestDifferential compares, for live gateways, what Consul's own xDS server serves each
// gateway with what xds.Build makes of peering.ReadState for it.
//
// Topology (every address on loopback):
//
//   - dc1 accepts two peerings from dc2. Its mesh entry is set before the tokens, so the
//     tokens list its gateway's WAN address, a hostname ("localhost"): dc2's gateway gets
//     a DNS cluster for dc1, and the two peerings share one peer server name. dc1 also
//     exports a service with a sidecar to dc2, so Consul serves dc1's gateway
//     resources that are not peering control plane, which the comparison leaves out.
//   - dc3 accepts one peering from dc2, without the mesh entry and without a gateway. Its
//     token lists ServerExternalAddresses: two IPv4 addresses and an IPv6 one, so dc2's
//     gateway gets an EDS cluster with three endpoints for dc3.
//   - dc2 dials all three, runs with ACLs, and its gateway, served with the token of the
//     acl package's recipe, binds its tagged addresses and a custom address and sets
//     connect_timeout_ms.
//
// No data plane runs here, so every address a peer dials goes straight to a server:
// dc1's gateway WAN port is dc1's grpc_tls port, and dc3's external addresses carry
// dc3's grpc_tls port (only 127.0.0.1 answers; Consul tries each in turn). dc2's mesh
// entry is set after it establishes, because with it set dc2's servers first spend four
// seconds per peering on dc2's own gateway, which nothing serves here.
func TestDifferential(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ctx := t.Context()
	const mgmt = "11111111-0000-4000-8000-000000000002"
	dc1 := testconsul.Start(t)
	dc2 := testconsul.Start(t, testconsul.WithDatacenter("dc2"), testconsul.WithACLs(mgmt))
	dc3 := testconsul.Start(t, testconsul.WithDatacenter("dc3"))
	c1, c2, c3 := dc1.Client(), dc2.Client(), dc3.Client()
	ports := testconsul.FreePorts(t, 4)

	_, err := meshconfig.Apply(ctx, c1, true)
	require.NoError(t, err)
	gw1 := e2e.RegisterGateway(t, c1, gateway.Registration{
		Address: "127.0.0.1", Port: ports[0],
		WAN: &api.ServiceAddress{Address: "localhost", Port: dc1.GRPCTLSPort},
	})
	exportWeb(t, c1, "dc1-to-dc2")

	gwToken := gatewayToken(t, c2)
	gwClient2 := dc2.ClientWithToken(gwToken)
	gw2 := e2e.RegisterGateway(t, gwClient2, gateway.Registration{
		Address: "127.0.0.1", Port: ports[1],
		LAN: &api.ServiceAddress{Address: "127.0.0.1", Port: ports[1]},
		WAN: &api.ServiceAddress{Address: "127.0.0.1", Port: ports[2]},
		Options: gateway.Options{
			ConnectTimeoutMs:    2345,
			BindTaggedAddresses: true,
			BindAddresses:       map[string]api.ServiceAddress{"extra": {Address: "127.0.0.2", Port: ports[3]}},
		},
	})

	dc1WAN := net.JoinHostPort("localhost", strconv.Itoa(dc1.GRPCTLSPort))
	tokA, decodedA := e2e.GenerateToken(t, c1, "dc1-to-dc2")
	tokB, decodedB := e2e.GenerateToken(t, c1, "dc1-to-dc2-b")
	for _, tok := range []*peering.Token{decodedA, decodedB} {
		assert.Equal(t, []string{dc1WAN}, tok.ServerAddresses, "got dc1 token addresses %v, want its gateway's WAN address", tok.ServerAddresses)
	}
	port3 := strconv.Itoa(dc3.GRPCTLSPort)
	external := []string{
		net.JoinHostPort("127.0.0.2", port3),
		net.JoinHostPort("::1", port3),
		net.JoinHostPort("127.0.0.1", port3),
	}
	tok3, decoded3 := e2e.GenerateToken(t, c3, "dc3-to-dc2", external...)
	require.Equal(t, external, decoded3.ManualServerAddresses, "got dc3 token external addresses %v, want %v", decoded3.ManualServerAddresses, external)

	for name, tok := range map[string]string{"dc2-to-dc1": tokA, "dc2-to-dc1-b": tokB, "dc2-to-dc3": tok3} {
		require.NoError(t, e2e.Establish(c2, name, tok), "establish %s", name)
	}
	_, err = meshconfig.Apply(ctx, c2, true)
	require.NoError(t, err)

	td1, td2, td3 := e2e.TrustDomain(t, c1), e2e.TrustDomain(t, c2), e2e.TrustDomain(t, c3)
	consul1 := e2e.WatchConsulXDS(t, grpcAddr(dc1), gw1, "")
	consul2 := e2e.WatchConsulXDS(t, grpcAddr(dc2), gw2, gwToken)

	t.Run("dc1 gateway", func(t *testing.T) {
		ours := func() (*xds.Resources, error) { return build(ctx, t, c1, gw1, nil) }
		// Wait for the exported service's resources too, so that leaving them out is
		// part of what is checked.
		got := converge(t, consul1, ours, func(c compared) error {
			if len(c.removed.Clusters) == 0 || len(c.removed.Chains) == 0 {
				return fmt.Errorf("got %+v of Consul's left out, want the exported service's clusters and chains", c.removed)
			}
			return hasClusters(c.ours, peering.ServerName("dc1", td1))
		})
		t.Logf("left out of Consul's resources: %+v", got.removed)
	})

	// The HTTP API does not return a peering's ManualServerAddresses (the token's
	// ServerExternalAddresses), while Consul's gateways route to them. A host program
	// that knows them sets them; here they come from the token.
	manual := map[string][]string{"dc2-to-dc3": decoded3.ManualServerAddresses}
	dc1Name, dc3Name := peering.ServerName("dc1", td1), peering.ServerName("dc3", td3)
	t.Run("dc2 gateway", func(t *testing.T) {
		ours := func() (*xds.Resources, error) { return build(ctx, t, gwClient2, gw2, manual) }
		got := converge(t, consul2, ours, func(c compared) error {
			return hasClusters(c.ours, dc1Name, peering.ServerName("dc2", td2), dc3Name)
		})
		// Once the peering stream has replicated dc1's exported service, Consul serves dc2's
		// gateway a cluster for it, named with the peer (".external."): data-plane
		// traffic, left out. Nothing else is.
		for _, name := range slices.Concat(got.removed.Clusters, got.removed.Endpoints, got.removed.Chains) {
			assert.Contains(t, name, ".dc1-to-dc2.external.", "got %s of Consul's left out, want only the imported service's resources", name)
		}
		// The normalisation did something: Consul 1.14.8 gives the hostname peer a
		// LOGICAL_DNS cluster, this library a STRICT_DNS one.
		assert.Equal(t, "LOGICAL_DNS", typeOf(got.consul, dc1Name), "got Consul's dc1 cluster type %s, want LOGICAL_DNS", typeOf(got.consul, dc1Name))
		assert.Equal(t, "STRICT_DNS", typeOf(got.ours, dc1Name), "got dc1's cluster type %s, want STRICT_DNS", typeOf(got.ours, dc1Name))
		assert.Equal(t, 3, endpointCount(got.ours, dc3Name), "got %d endpoints for dc3, want 3", endpointCount(got.ours, dc3Name))
		// The lan tagged address, and the lan_ipv4 and wan_ipv4 ones the agent adds, share
		// the default listener's address and port, so only their first by name is kept.
		wantListeners := []string{
			"default:127.0.0.1:" + strconv.Itoa(ports[1]),
			"extra:127.0.0.2:" + strconv.Itoa(ports[3]),
			"wan:127.0.0.1:" + strconv.Itoa(ports[2]),
		}
		assert.Equal(t, wantListeners, names(got.ours), "got listeners %v, want %v", names(got.ours), wantListeners)
	})

	t.Run("manual addresses are not in the HTTP API", func(t *testing.T) {
		res, err := build(ctx, t, gwClient2, gw2, nil)
		require.NoError(t, err)
		assert.Equal(t, 1, endpointCount(res, dc3Name), "got %d endpoints for dc3 from the HTTP API alone, want 1 (dc3's server)", endpointCount(res, dc3Name))
	})
}

// gatewayToken creates, with the management token of the client, the ACL token of a
// mesh gateway from the acl package's recipe, and returns its secret.
func gatewayToken(t *testing.T, c *api.Client) string {
	t.Helper()
	p, err := acl.MeshGateway(acl.EditionCE)
	require.NoError(t, err)
	ap, err := p.APIPolicy("mesh-gateway", "mesh gateway for peering control-plane traffic")
	require.NoError(t, err)
	created, _, err := acl.CreateOrUpdate(t.Context(), c, ap)
	require.NoError(t, err)
	tok, err := acl.CreateToken(t.Context(), c, created, "mesh gateway")
	require.NoError(t, err)
	return tok.SecretID
}

// exportWeb registers service web with a sidecar proxy and exports it to peer.
func exportWeb(t *testing.T, c *api.Client, peer string) {
	t.Helper()
	require.NoError(t, c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		Name: "web", Port: 8080, Address: "127.0.0.1",
		Connect: &api.AgentServiceConnect{SidecarService: &api.AgentServiceRegistration{Port: 21000}},
	}))
	_, _, err := c.ConfigEntries().Set(&api.ExportedServicesConfigEntry{
		Name:     "default",
		Services: []api.ExportedService{{Name: "web", Consumers: []api.ServiceConsumer{{Peer: peer}}}},
	}, nil)
	require.NoError(t, err)
}

// build reads gateway id's State from the agent behind c, adds the manual server
// addresses of the peerings named in manual, and builds it for the agent's Consul
// version, which must be the one the tests run. Every input of these tests
// is valid, so a diagnostic is an error.
func build(ctx context.Context, t testing.TB, c *api.Client, id string, manual map[string][]string) (*xds.Resources, error) {
	s, err := peering.ReadState(ctx, c, id)
	if err != nil {
		return nil, err
	}
	for i := range s.Peerings {
		s.Peerings[i].ManualServerAddresses = manual[s.Peerings[i].Name]
	}
	if s.Agent.Version != testconsul.Version {
		return nil, fmt.Errorf("got agent version %q, want %q: generation would not target the Consul it is compared with", s.Agent.Version, testconsul.Version)
	}
	res, diags := xds.Build(s) // for the agent's version, as read from /v1/agent/self
	if len(diags) > 0 {
		return nil, fmt.Errorf("got diagnostics %v, want none", diags)
	}
	return res, nil
}

// compared is the outcome of a comparison with Consul.
type compared struct {
	// consul and ours are the peering control-plane resources of each, consul before
	// normalisation.
	consul, ours *xds.Resources
	// removed is what was left out of Consul's resources.
	removed e2e.Removed
}

// converge polls until Consul serves, once left out what is not peering control plane
// and normalised, what this library builds, and ready accepts the comparison. It fails
// the test with the last difference after convergeTimeout.
func converge(t *testing.T, consul *e2e.ConsulXDS, ours func() (*xds.Resources, error), ready func(compared) error) compared {
	t.Helper()
	var out compared
	e2e.Eventually(t, convergeTimeout, func() error {
		require.NoError(t, consul.Err(), "Consul's xDS stream failed")
		var diff string
		out, diff = compareOnce(t, consul, ours)
		if diff != "" {
			return fmt.Errorf("Consul and this library serve different resources (-Consul +ours):\n%s", diff)
		}
		return ready(out)
	})
	return out
}

// compareOnce compares Consul's current resources with this library's once. The
// difference is empty when they are the same.
func compareOnce(t *testing.T, consul *e2e.ConsulXDS, ours func() (*xds.Resources, error)) (compared, string) {
	t.Helper()
	fromConsul, err := consul.Resources()
	require.NoError(t, err)
	theirs, removed := e2e.PeeringOnly(fromConsul)
	built, err := ours()
	require.NoError(t, err)
	kept, ourExtra := e2e.PeeringOnly(built)
	require.True(t, ourExtra.Empty(), "got %+v outside the peering control plane from this library, want nothing", ourExtra)
	diff, err := e2e.Diff(e2e.NormalizeConsul(theirs), kept)
	require.NoError(t, err)
	return compared{consul: theirs, ours: kept, removed: removed}, diff
}

// hasClusters returns an error unless r has a cluster for each of want.
func hasClusters(r *xds.Resources, want ...string) error {
	if have := clusterNames(r); !containsAll(have, want) {
		return fmt.Errorf("got clusters %v, want %v", have, want)
	}
	return nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func clusterNames(r *xds.Resources) []string {
	var out []string
	for _, c := range r.Clusters {
		out = append(out, c.GetName())
	}
	return out
}

func names(r *xds.Resources) []string {
	var out []string
	for _, l := range r.Listeners {
		out = append(out, l.GetName())
	}
	return out
}

func typeOf(r *xds.Resources, cluster string) string {
	for _, c := range r.Clusters {
		if c.GetName() == cluster {
			return c.GetType().String()
		}
	}
	return ""
}

func endpointCount(r *xds.Resources, cluster string) int {
	for _, e := range r.Endpoints {
		if e.GetClusterName() == cluster {
			n := 0
			for _, l := range e.GetEndpoints() {
				n += len(l.GetLbEndpoints())
			}
			return n
		}
	}
	return 0
}

func grpcAddr(a *testconsul.Agent) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.GRPCPort))
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Consul agents; skipped with -short")
	}
}
