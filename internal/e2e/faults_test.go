package e2e_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// outageErrors is how many failed reads the watcher must report while the agent is
// down before the test restarts it: several rounds of retries of every part, about a
// second and a half with the control plane's backoff.
const outageErrors = 30

// TestAgentRestart stops the accepting agent under a running control plane and data
// plane. While it is down, the gateway keeps being served exactly its last good
// resources, the watcher reports errors and delivers nothing, and the data plane
// receives no update. Once the agent is back (its state kept in its data directory),
// the watcher recovers, the dialing cluster's servers reach it again through the
// unchanged gateways, and a change of the gateway's registration is served.
func TestAgentRestart(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dc1 := newMeshCluster(t, "dc1", testconsul.WithDataDir(t.TempDir()))
	dc2 := newMeshCluster(t, "dc2")
	cp1, dp1 := serve(t, dc1)
	serve(t, dc2)
	token, _ := e2e.GenerateToken(t, dc1.client, "dc1-to-dc2")
	establish(t, dc1, dc2, token)

	// Wait until the control plane serves what the agent's current State gives, and the
	// data plane holds it, so that a State or an update still in flight when the agent
	// stops cannot change the resources.
	e2e.Eventually(t, e2e.PeeringTimeout, func() error {
		want, err := build(t.Context(), t, dc1.client, dc1.gatewayID, nil)
		if err != nil {
			return err
		}
		if diff, err := e2e.Diff(want, cp1.Served(t)); err != nil || diff != "" {
			return fmt.Errorf("served resources not current (%v):\n%s", err, diff)
		}
		return nil
	})
	cp1.WaitApplied(t, dp1)
	lastGood := cp1.Served(t)
	require.Len(t, lastGood.Clusters, 1, "got clusters %v served before the outage, want the accept side's", clusterNames(lastGood))
	applied := len(cp1.States())
	updates := updateCounts(dp1)
	errsBefore := len(cp1.ReadErrors())
	dc1.agent.Stop(t)
	stopped := time.Now()

	e2e.Eventually(t, e2e.PeeringTimeout, func() error {
		// Checked at every poll of the outage, not only at its end.
		requireSameResources(t, lastGood, cp1.Served(t))
		// A State read just before the agent stopped may still arrive; none is partial.
		for _, s := range cp1.States()[applied:] {
			requireComplete(t, s)
		}
		if err := cp1.ReadErr(); !errors.Is(err, peering.ErrUnreachable) {
			return fmt.Errorf("got watcher error %v, want Consul unreachable", err)
		}
		if n := len(cp1.ReadErrors()) - errsBefore; n < outageErrors {
			return fmt.Errorf("got %d read errors during the outage, want at least %d", n, outageErrors)
		}
		return nil
	})
	assert.Equal(t, updates, updateCounts(dp1), "got data plane updates during the outage, want none")
	// The agent answers the reads in flight while it shuts down with errors of its own;
	// then it cannot be reached.
	var status api.StatusError
	for _, err := range cp1.ReadErrors()[errsBefore:] {
		if !errors.Is(err, peering.ErrUnreachable) {
			assert.ErrorAs(t, err, &status, "got read error %v during the outage, want Consul unreachable or an answer of Consul's", err)
		}
	}
	t.Logf("outage of %s: %d read errors, served resources unchanged", time.Since(stopped).Round(time.Millisecond), len(cp1.ReadErrors())-errsBefore)

	dc1.agent.Start(t)
	restarted := time.Now()
	e2e.Eventually(t, e2e.PeeringTimeout, func() error {
		if err := cp1.ReadErr(); err != nil {
			return fmt.Errorf("got watcher error %w after the restart, want none", err)
		}
		return nil
	})

	// The dialing servers reconnect to the restarted ones through both gateways, whose
	// configuration survived the outage.
	e2e.WaitPeering(t, dc1.client, "dc1-to-dc2", e2e.PeeringTimeout, func(p *api.Peering) bool {
		return p.State == api.PeeringStateActive && p.StreamStatus.LastReceive != nil && p.StreamStatus.LastReceive.After(restarted)
	})
	t.Logf("peering stream back %s after the restart", time.Since(restarted).Round(time.Millisecond))

	changed := dc1.gateway
	changed.Options.ConnectTimeoutMs = 1500
	e2e.RegisterGateway(t, dc1.client, changed)
	e2e.Eventually(t, e2e.PeeringTimeout, func() error {
		served := cp1.Served(t)
		if len(served.Clusters) != 1 {
			return fmt.Errorf("got %d clusters served, want the accept side's", len(served.Clusters))
		}
		if got := served.Clusters[0].GetConnectTimeout().AsDuration(); got != 1500*time.Millisecond {
			return fmt.Errorf("got connect timeout %s served, want 1.5s", got)
		}
		return nil
	})
	waitStat(t, dp1, "cluster_manager.cds.update_success", dataplane.AtLeast(updates["cluster_manager.cds.update_success"]+1))
	assertNoRejects(t, dp1)
}

// updateCounts returns the data plane's counts of configuration updates received.
func updateCounts(dp *dataplane.DataPlane) map[string]uint64 {
	out := map[string]uint64{}
	for _, name := range []string{
		"cluster_manager.cds.update_attempt", "cluster_manager.cds.update_success",
		"listener_manager.lds.update_attempt", "listener_manager.lds.update_success",
	} {
		out[name] = dp.Stat(name)
	}
	return out
}

// requireComplete fails the test unless s has every part of a gateway's State.
func requireComplete(t *testing.T, s *peering.State) {
	t.Helper()
	require.NotEmpty(t, s.Datacenter, "got a State without datacenter")
	require.NotEmpty(t, s.TrustDomain, "got a State without trust domain")
	require.NotNil(t, s.Gateway, "got a State without gateway")
	require.NotNil(t, s.MeshConfig, "got a State without mesh config entry")
	require.NotEmpty(t, s.Servers, "got a State without servers")
	require.NotEmpty(t, s.Peerings, "got a State without peerings")
}

// requireSameResources fails the test unless got equals want exactly.
func requireSameResources(t *testing.T, want, got *xds.Resources) {
	t.Helper()
	diff, err := e2e.Diff(want, got)
	require.NoError(t, err)
	require.Empty(t, diff, "served resources changed during the outage (-before +now):\n%s", diff)
}
