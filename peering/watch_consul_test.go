package peering_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/peering"
)

// consulWatchOpts make a Watcher of a test agent react quickly.
func consulWatchOpts(quiet time.Duration) []peering.WatchOption {
	return []peering.WatchOption{
		peering.WithQuietPeriod(quiet),
		peering.WithBackoff(20*time.Millisecond, 200*time.Millisecond),
		peering.WithPollInterval(200 * time.Millisecond),
	}
}

func hasPeering(s *peering.State, name string) bool {
	return slices.ContainsFunc(s.Peerings, func(p peering.Peering) bool { return p.Name == name })
}

func meshFlag(s *peering.State) (set, enabled bool) {
	if s.MeshConfig == nil || s.MeshConfig.Peering == nil {
		return false, false
	}
	return true, s.MeshConfig.Peering.PeerThroughMeshGateways
}

// TestWatcherFollowsConsul is not parallel: it checks at the end that no goroutine
// outlives the Watcher.
func TestWatcherFollowsConsul(t *testing.T) {
	a := testconsul.Start(t)
	c, tr := newClient(t, a, "")
	registerGateway(t, c, map[string]string{"v": "0"})
	baseline := goleak.IgnoreCurrent()

	const quiet = 300 * time.Millisecond
	src := peering.ConsulSources(c, gatewayID, peering.WithWaitTime(testWaitTime))
	began := time.Now()
	w, rec, stop := runWatcher(t, src, consulWatchOpts(quiet)...)
	first := rec.waitState(t, consulWait, "every part", complete)
	t.Logf("first State %s after start", time.Since(began).Round(time.Millisecond))
	assert.Nil(t, first.MeshConfig, "got mesh config %+v, want none yet", first.MeshConfig)
	assert.Equal(t, "dc1", first.Datacenter, "got datacenter %q, want dc1", first.Datacenter)
	// Consul 1.14.8 has no Config.BindAddr in /v1/agent/self (1.22, which reads it for
	// its dual-stack rule, has): an agent that does not say is not dual-stack.
	assert.Equal(t, peering.AgentConfig{Version: testconsul.Version}, first.Agent)
	assert.Nil(t, first.ServiceDefaults, "got a service-defaults entry, want none yet")

	ctx := t.Context()
	changes := []struct {
		name   string
		change func(t *testing.T)
		want   func(*peering.State) bool
	}{
		{
			name:   "mesh entry set",
			change: func(t *testing.T) { setMeshConfig(t, c, true) },
			want:   func(s *peering.State) bool { set, on := meshFlag(s); return set && on },
		},
		{
			name: "peering added",
			change: func(t *testing.T) {
				_, _, err := c.Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "other"}, nil)
				require.NoError(t, err)
			},
			want: func(s *peering.State) bool { return hasPeering(s, "other") },
		},
		{
			name:   "gateway meta changed",
			change: func(t *testing.T) { registerGateway(t, c, map[string]string{"v": "1"}) },
			want:   func(s *peering.State) bool { return gatewayMeta(s, "v") == "1" },
		},
		{
			name:   "mesh entry changed",
			change: func(t *testing.T) { setMeshConfig(t, c, false) },
			want:   func(s *peering.State) bool { set, on := meshFlag(s); return set && !on },
		},
		{
			name:   "service-defaults limits set",
			change: func(t *testing.T) { setGatewayLimits(t, c, 10) },
			want:   func(s *peering.State) bool { return gatewayMaxConnections(s) == 10 },
		},
		{
			name:   "service-defaults limits changed",
			change: func(t *testing.T) { setGatewayLimits(t, c, 20) },
			want:   func(s *peering.State) bool { return gatewayMaxConnections(s) == 20 },
		},
		{
			name: "service-defaults deleted",
			change: func(t *testing.T) {
				_, err := c.ConfigEntries().Delete(api.ServiceDefaults, gatewayID, nil)
				require.NoError(t, err)
			},
			want: func(s *peering.State) bool { return s.ServiceDefaults == nil },
		},
		{
			name: "peering deleted",
			change: func(t *testing.T) {
				_, err := c.Peerings().Delete(ctx, "other", nil)
				require.NoError(t, err)
			},
			want: func(s *peering.State) bool { return !hasPeering(s, "other") },
		},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			n := len(rec.States())
			began := time.Now()
			ch.change(t)
			require.Eventually(t, func() bool {
				states := rec.States()
				return len(states) > n && ch.want(states[len(states)-1])
			}, consulWait, consulTick, "got no new State showing the change, want one")
			t.Logf("delivered %s after the change", time.Since(began).Round(time.Millisecond))
		})
	}

	t.Run("burst coalesced", func(t *testing.T) {
		const burst = 10
		n := len(rec.States())
		for i := range burst {
			registerGateway(t, c, map[string]string{"v": "burst-" + strconv.Itoa(i)})
		}
		last := "burst-" + strconv.Itoa(burst-1)
		rec.waitState(t, consulWait, "the last change of the burst", func(s *peering.State) bool { return gatewayMeta(s, "v") == last })
		got := len(rec.States()) - n
		t.Logf("%d deliveries for a burst of %d changes", got, burst)
		assert.LessOrEqual(t, got, 2, "got %d deliveries for a burst of %d changes, want them coalesced", got, burst)
	})

	for i, s := range rec.States() {
		assert.True(t, complete(s), "got State %d incomplete: %+v", i, s)
	}
	require.NoError(t, w.Err())
	assert.False(t, w.LastSync().IsZero(), "got zero last sync, want a time")

	stop()
	tr.CloseIdleConnections()
	goleak.VerifyNone(t, baseline)
}

func TestWatcherSurvivesConsulRestart(t *testing.T) {
	t.Parallel()
	a := testconsul.Start(t, testconsul.WithDataDir(t.TempDir()))
	c, _ := newClient(t, a, "")
	registerGateway(t, c, map[string]string{"v": "before"})
	setMeshConfig(t, c, true)

	src := peering.ConsulSources(c, gatewayID, peering.WithWaitTime(testWaitTime))
	w, rec, _ := runWatcher(t, src, consulWatchOpts(100*time.Millisecond)...)
	rec.waitState(t, consulWait, "every part and the mesh entry", func(s *peering.State) bool {
		set, on := meshFlag(s)
		return complete(s) && set && on && gatewayMeta(s, "v") == "before"
	})

	stopping := time.Now()
	a.Stop(t)
	t.Logf("agent stopped in %s", time.Since(stopping).Round(time.Millisecond))
	delivered := len(rec.States())
	errsAtStop := len(rec.Errors())

	// Every part fails several times over while the agent is down. A request in flight
	// at the stop (one per part) may have got another answer, such as a 500 from the
	// shutting down server; every later one finds the port closed.
	const inFlight, wantErrors = 6, 15
	rec.waitErrors(t, consulWait, errsAtStop+inFlight+wantErrors)
	down := rec.Errors()[errsAtStop:]
	for _, err := range down[inFlight:] {
		require.ErrorIs(t, err, peering.ErrUnreachable)
	}
	assert.Len(t, rec.States(), delivered, "got States delivered while the agent was down, want none")
	require.ErrorIs(t, w.Err(), peering.ErrUnreachable)
	t.Logf("%d errors while down, e.g. %v", len(down), down[len(down)-1])

	restarting := time.Now()
	a.Start(t)
	t.Logf("agent restarted in %s", time.Since(restarting).Round(time.Millisecond))
	registerGateway(t, c, map[string]string{"v": "after"})
	rec.waitState(t, consulWait, "the change made after the restart", func(s *peering.State) bool { return gatewayMeta(s, "v") == "after" })
	require.Eventually(t, func() bool { return w.Err() == nil }, consulWait, consulTick, "got Err %v after the restart, want nil", w.Err())

	for i, s := range rec.States() {
		set, on := meshFlag(s)
		assert.True(t, complete(s) && set && on, "got State %d empty or partial: %+v", i, s)
	}
	for _, err := range rec.Errors() {
		assert.False(t, errors.Is(err, peering.ErrBadConfig), "got error %v, want none of configuration", err)
	}
}

// setGatewayLimits writes the gateway service's service-defaults entry with upstream
// limits of maxConns connections.
func setGatewayLimits(t *testing.T, c *api.Client, maxConns int) {
	t.Helper()
	ok, _, err := c.ConfigEntries().Set(&api.ServiceConfigEntry{
		Kind: api.ServiceDefaults, Name: gatewayID,
		UpstreamConfig: &api.UpstreamConfiguration{Defaults: &api.UpstreamConfig{
			Limits: &api.UpstreamLimits{MaxConnections: &maxConns},
		}},
	}, nil)
	require.NoError(t, err)
	require.True(t, ok, "got the service-defaults entry not written, want it written")
}

// gatewayMaxConnections returns the upstream connection limit of the State's
// service-defaults entry, or 0.
func gatewayMaxConnections(s *peering.State) int {
	sd := s.ServiceDefaults
	if sd == nil || sd.UpstreamConfig == nil || sd.UpstreamConfig.Defaults == nil ||
		sd.UpstreamConfig.Defaults.Limits == nil || sd.UpstreamConfig.Defaults.Limits.MaxConnections == nil {
		return 0
	}
	return *sd.UpstreamConfig.Defaults.Limits.MaxConnections
}
