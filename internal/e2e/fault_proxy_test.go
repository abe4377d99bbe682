package e2e_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/internal/faultproxy"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// Timing of TestConsulFaults. The control plane's blocking queries wait watchWait (2 s);
// its HTTP client gives up after faultClientTimeout.
const (
	faultClientTimeout = 8 * time.Second
	// slowLatency is a latency Consul's answers tolerate: a round trip of 200 ms.
	slowLatency = 100 * time.Millisecond
	// slowerThanWait makes a round trip (2.4 s) longer than a blocking query's wait,
	// while a blocking read (wait + round trip) still ends before the client's timeout.
	slowerThanWait = 1200 * time.Millisecond
	// slowerThanTimeout makes every round trip (10 s) longer than the client's timeout.
	slowerThanTimeout = 5 * time.Second
	// faultErrors is how many failed reads the watcher must report under a fault before
	// it is cleared: at least one round of reads of every part.
	faultErrors = 6
	// faultHold is how long a fault lasts at least: longer than the control plane's
	// blocking wait (2 s), so that every read in flight when it began has ended, and
	// every part has been read again under it.
	faultHold = 3 * time.Second
	// faultTimeout bounds each wait of the test.
	faultTimeout = 90 * time.Second
)

// faultEnv is a gateway whose control plane reads Consul through a fault proxy: dc1 with
// ACLs on, peered with dc2 (dc1 dials), the mesh entry set, a mesh gateway registered
// and its token created from the acl package's recipe with a known secret.
type faultEnv struct {
	agent  *testconsul.Agent
	mgmt   *api.Client // straight to the agent, with the management token
	proxy  *faultproxy.Proxy
	cp     *e2e.ControlPlane
	dp     *dataplane.DataPlane
	gw     gateway.Registration
	gwID   string
	policy *api.ACLPolicy
	// secret is the gateway token's SecretID, which the control plane's client sends;
	// accessor is its current AccessorID.
	secret, accessor string
}

// gatewaySecret is the SecretID of the gateway's token in TestConsulFaults.
const gatewaySecret = "6a1d4f0e-7b1c-4c2d-9e3f-5a6b7c8d9e0f"

// newFaultEnv sets up a faultEnv and waits until its control plane serves what the
// agent's State gives, with the peer's cluster among it.
func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	ctx := t.Context()
	dc1 := testconsul.Start(t, testconsul.WithACLs("9f1c2b3a-4d5e-4f60-8172-93a4b5c6d7e8"))
	dc2 := testconsul.Start(t, testconsul.WithDatacenter("dc2"))
	env := &faultEnv{agent: dc1, mgmt: dc1.Client(), secret: gatewaySecret}

	// Establish before setting the mesh entry: the secret exchange then goes straight
	// to dc2's servers, which the token lists, as there is no gateway to go through.
	token, _ := e2e.GenerateToken(t, dc2.Client(), "dc2-to-dc1")
	require.NoError(t, e2e.Establish(env.mgmt, "dc1-to-dc2", token))
	e2e.WaitPeering(t, env.mgmt, "dc1-to-dc2", e2e.PeeringTimeout, e2e.Active)
	_, err := meshconfig.Apply(ctx, env.mgmt, true)
	require.NoError(t, err)
	ports := testconsul.FreePorts(t, 2)
	env.gw = gateway.Registration{
		Address: "127.0.0.1", Port: ports[0],
		WAN: &api.ServiceAddress{Address: "127.0.0.1", Port: ports[1]},
	}
	env.gwID = e2e.RegisterGateway(t, env.mgmt, env.gw)

	p, err := acl.MeshGateway(acl.EditionCE)
	require.NoError(t, err)
	ap, err := p.APIPolicy("mesh-gateway", "mesh gateway for peering control-plane traffic")
	require.NoError(t, err)
	env.policy, _, err = acl.CreateOrUpdate(ctx, env.mgmt, ap)
	require.NoError(t, err)
	env.createToken(t)

	env.proxy, err = faultproxy.New(dc1.HTTPAddr, faultproxy.HTTP())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, env.proxy.Close()) })
	env.cp = e2e.StartControlPlane(t, &api.Config{
		Address: env.proxy.Addr(), Scheme: "http", Datacenter: "dc1", Token: env.secret,
		HttpClient: &http.Client{Timeout: faultClientTimeout},
	}, env.gwID)
	env.dp = env.cp.StartDataPlane(t)
	t.Cleanup(func() {
		assert.NoError(t, env.cp.ApplyErr(), "got errors serving the gateway")
		assertNoRejects(t, env.dp)
	})

	e2e.Eventually(t, faultTimeout, func() error {
		want, err := build(ctx, t, env.mgmt, env.gwID, nil)
		if err != nil {
			return err
		}
		if len(want.Clusters) != 2 {
			return fmt.Errorf("got clusters %v built, want the accept side's and dc2's", clusterNames(want))
		}
		if diff, err := e2e.Diff(want, env.cp.Served(t)); err != nil || diff != "" {
			return fmt.Errorf("served resources not current (%v):\n%s", err, diff)
		}
		return nil
	})
	waitStat(t, env.dp, "listener_manager.total_listeners_active", dataplane.Equal(1))
	return env
}

// createToken creates the gateway's token with the env's secret.
func (env *faultEnv) createToken(t *testing.T) {
	t.Helper()
	tok, _, err := env.mgmt.ACL().TokenCreate(&api.ACLToken{
		SecretID:    env.secret,
		Description: "mesh gateway",
		Policies:    []*api.ACLTokenPolicyLink{{ID: env.policy.ID}},
	}, nil)
	require.NoError(t, err)
	env.accessor = tok.AccessorID
}

// setPolicy replaces the rules of the gateway's policy.
func (env *faultEnv) setPolicy(t *testing.T, p *acl.Policy) {
	t.Helper()
	ap, err := p.APIPolicy(env.policy.Name, env.policy.Description)
	require.NoError(t, err)
	_, changed, err := acl.CreateOrUpdate(t.Context(), env.mgmt, ap)
	require.NoError(t, err)
	require.True(t, changed, "got the gateway policy unchanged, want it updated")
}

// gatewayPolicy returns the gateway's policy, without peering:read unless peering.
func gatewayPolicy(t *testing.T, peering bool) *acl.Policy {
	t.Helper()
	p, err := acl.MeshGateway(acl.EditionCE)
	require.NoError(t, err)
	if !peering {
		p.Peering = acl.AccessUnset
	}
	return p
}

// faultCase is one fault of Consul as the control plane sees it.
type faultCase struct {
	name string
	// inject starts the fault and clear ends it.
	inject, clear func(t *testing.T, env *faultEnv)
	// check accepts one read error the watcher reported under the fault; nil means the
	// fault must cause no error at all.
	check func(err error) error
	// checkEach, when set, replaces check for each single read error; check then applies
	// to the watcher's error once the fault has settled.
	checkEach func(err error) error
}

// TestConsulFaults runs this library's control plane against a real Consul agent with
// ACLs, through a fault proxy, with a data plane connected, and injects one fault after
// another: Consul slow, slower than a blocking query's wait, slower than the client's
// timeout, unreachable, resetting connections, answering 500, the gateway's token
// deleted, and its policy losing peering:read. Under the faults that fail reads, the
// watcher reports the typed error the peering package documents, and at every poll the
// gateway is served exactly its last good resources, every State delivered is complete
// and the data plane has received no update. Under the others, no read fails. Once the
// fault clears, the watcher recovers by itself and a change made in Consul is served,
// with no resource lost or added on the way.
func TestConsulFaults(t *testing.T) {
	skipShort(t)
	t.Parallel()
	env := newFaultEnv(t)
	cases := []faultCase{
		{name: "slow", inject: latency(slowLatency), clear: latency(0)},
		{name: "slower than the blocking wait", inject: latency(slowerThanWait), clear: latency(0)},
		{
			name: "slower than the client timeout", inject: latency(slowerThanTimeout), clear: latency(0),
			check: isUnreachable,
		},
		{name: "unreachable", inject: fault(faultproxy.Refuse), clear: fault(faultproxy.Pass), check: isUnreachable},
		{name: "resetting connections", inject: fault(faultproxy.Reset), clear: fault(faultproxy.Pass), check: isUnreachable},
		{name: "answering 500", inject: fault(faultproxy.Status(http.StatusInternalServerError)), clear: fault(faultproxy.Pass), check: isStatus500},
		{
			name: "gateway token deleted",
			inject: func(t *testing.T, env *faultEnv) {
				_, err := env.mgmt.ACL().TokenDelete(env.accessor, nil)
				require.NoError(t, err)
			},
			// The token comes back with the same secret, the one the control plane sends.
			clear: func(t *testing.T, env *faultEnv) { env.createToken(t) },
			check: isTokenUnknown,
		},
		{
			name:   "policy without peering:read",
			inject: func(t *testing.T, env *faultEnv) { env.setPolicy(t, gatewayPolicy(t, false)) },
			clear:  func(t *testing.T, env *faultEnv) { env.setPolicy(t, gatewayPolicy(t, true)) },
			check:  lacksPeeringRead,
			// While Consul applies the policy change, a read may briefly see the token
			// with no rights at all (the servers come back empty): still a typed
			// permission error.
			checkEach: isPermissionDenied,
		},
	}
	for i, fc := range cases {
		ok := t.Run(fc.name, func(t *testing.T) {
			timeoutMs := 1000 + 100*i // a connect timeout no earlier change has set
			if fc.check == nil {
				runTolerated(t, env, fc, timeoutMs)
				return
			}
			runFailing(t, env, fc, timeoutMs)
		})
		if !ok {
			return // the next faults would start from an unknown state
		}
	}
}

// latency returns a step that sets the proxy's latency to d.
func latency(d time.Duration) func(*testing.T, *faultEnv) {
	return func(_ *testing.T, env *faultEnv) { env.proxy.SetLatency(d) }
}

// fault returns a step that sets the proxy's fault to f.
func fault(f faultproxy.Fault) func(*testing.T, *faultEnv) {
	return func(t *testing.T, env *faultEnv) { require.NoError(t, env.proxy.Set(f)) }
}

// runTolerated injects a fault the control plane must ride out without errors, changes
// the gateway in Consul meanwhile, and checks that the change is served, that the
// served resources never lose or gain one on the way, and that no read fails.
func runTolerated(t *testing.T, env *faultEnv, fc faultCase, timeoutMs int) {
	lastGood := env.cp.Served(t)
	errsBefore := len(env.cp.ReadErrors())
	fc.inject(t, env)
	changed := changeGateway(t, env, timeoutMs, lastGood)
	require.Empty(t, env.cp.ReadErrors()[errsBefore:], "got read errors under fault %q, want none", fc.name)
	fc.clear(t, env)
	t.Logf("%s: change served after %s, no read error", fc.name, changed.Round(time.Millisecond))
}

// runFailing injects a fault that fails reads, checks at every poll that the served
// resources stay the last good ones until the watcher has reported enough errors of
// the expected kind, then clears the fault and checks the recovery.
func runFailing(t *testing.T, env *faultEnv, fc faultCase, timeoutMs int) {
	lastGood := env.cp.Served(t)
	applied, errsBefore := len(env.cp.States()), len(env.cp.ReadErrors())
	updates := updateCounts(env.dp)
	fc.inject(t, env)
	began := time.Now()
	e2e.Eventually(t, faultTimeout, func() error {
		requireSameResources(t, lastGood, env.cp.Served(t))
		require.Equal(t, updates, updateCounts(env.dp), "got updates pushed to the data plane under fault %q, want none", fc.name)
		for _, s := range env.cp.States()[applied:] {
			requireComplete(t, s) // a State read just before the fault may still arrive
		}
		errs := env.cp.ReadErrors()[errsBefore:]
		if held := time.Since(began); held < faultHold {
			return fmt.Errorf("fault %q held for %s, want at least %s", fc.name, held, faultHold)
		}
		if len(errs) < faultErrors {
			return fmt.Errorf("got %d read errors under fault %q, want at least %d", len(errs), fc.name, faultErrors)
		}
		return fc.check(env.cp.ReadErr())
	})
	detected := time.Since(began)
	errs := env.cp.ReadErrors()[errsBefore:]
	each := fc.check
	if fc.checkEach != nil {
		each = fc.checkEach
	}
	for _, err := range errs {
		require.NoError(t, each(err), "read error under fault %q", fc.name)
	}
	requireSameResources(t, lastGood, env.cp.Served(t))

	fc.clear(t, env)
	cleared := time.Now()
	e2e.Eventually(t, faultTimeout, func() error {
		requireSameResources(t, lastGood, env.cp.Served(t))
		if err := env.cp.ReadErr(); err != nil {
			return fmt.Errorf("got watcher error %w after the fault cleared, want none", err)
		}
		return nil
	})
	recovered := time.Since(cleared)
	require.Equal(t, updates, updateCounts(env.dp), "got updates pushed to the data plane before the change, want none")
	changed := changeGateway(t, env, timeoutMs, lastGood)
	t.Logf("%s: %d read errors in %s, e.g. %q; served resources unchanged; recovered %s after the fault cleared; change served after %s",
		fc.name, len(errs), detected.Round(time.Millisecond), errs[0], recovered.Round(time.Millisecond), changed.Round(time.Millisecond))
}

// changeGateway re-registers the gateway with connect timeout timeoutMs and waits until
// it is served and the data plane has applied it, checking at every poll that the served
// resources are named as in lastGood: none is lost or added on the way. It returns how
// long the change took to be served. (Waiting for the data plane keeps the update from
// arriving late, under the next fault.)
func changeGateway(t *testing.T, env *faultEnv, timeoutMs int, lastGood *xds.Resources) time.Duration {
	t.Helper()
	gw := env.gw
	gw.Options.ConnectTimeoutMs = timeoutMs
	e2e.RegisterGateway(t, env.mgmt, gw)
	began := time.Now()
	want := time.Duration(timeoutMs) * time.Millisecond
	wantNames := resourceNames(lastGood)
	e2e.Eventually(t, faultTimeout, func() error {
		served := env.cp.Served(t)
		got := resourceNames(served)
		require.Equal(t, wantNames, got, "got resources %v served, want %v", got, wantNames)
		for _, c := range served.Clusters {
			if d := c.GetConnectTimeout().AsDuration(); d != want {
				return fmt.Errorf("got connect timeout %s for cluster %s, want %s", d, c.GetName(), want)
			}
		}
		return nil
	})
	served := time.Since(began)
	env.cp.WaitApplied(t, env.dp)
	return served
}

// resourceNames lists the names of r's resources, each prefixed with its type.
func resourceNames(r *xds.Resources) []string {
	var out []string
	for _, c := range r.Clusters {
		out = append(out, "cluster "+c.GetName())
	}
	for _, e := range r.Endpoints {
		out = append(out, "endpoints "+e.GetClusterName())
	}
	for _, l := range r.Listeners {
		out = append(out, "listener "+l.GetName())
	}
	return out
}

// isUnreachable accepts errors that say Consul could not be reached.
func isUnreachable(err error) error {
	if !errors.Is(err, peering.ErrUnreachable) {
		return fmt.Errorf("got %v, want Consul unreachable", err)
	}
	return nil
}

// isStatus500 accepts errors that carry Consul's (here the proxy's) 500 answer.
func isStatus500(err error) error {
	status, ok := errors.AsType[api.StatusError](err)
	if !ok || status.Code != http.StatusInternalServerError {
		return fmt.Errorf("got %v, want an HTTP 500 answer", err)
	}
	return nil
}

// isTokenUnknown accepts permission errors of a token Consul does not know: no rule
// would help.
func isTokenUnknown(err error) error {
	pe, ok := errors.AsType[*peering.PermissionError](err)
	if !ok || !errors.Is(err, peering.ErrPermissionDenied) {
		return fmt.Errorf("got %v, want permission denied", err)
	}
	if pe.Rule != "" {
		return fmt.Errorf("got missing rule %q, want none named for an unknown token", pe.Rule)
	}
	return nil
}

// lacksPeeringRead accepts permission errors naming peering:read.
func lacksPeeringRead(err error) error {
	pe, ok := errors.AsType[*peering.PermissionError](err)
	if !ok || pe.Rule != "peering:read" {
		return fmt.Errorf("got %v, want permission denied naming peering:read", err)
	}
	return nil
}

// isPermissionDenied accepts any typed permission error.
func isPermissionDenied(err error) error {
	var pe *peering.PermissionError
	if !errors.As(err, &pe) || !errors.Is(err, peering.ErrPermissionDenied) {
		return fmt.Errorf("got %v, want a *peering.PermissionError", err)
	}
	return nil
}
