package peering_test

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/peering"
)

// serviceDefaultsRead is the result of one read of the service-defaults source.
type serviceDefaultsRead struct {
	entry *api.ServiceConfigEntry
	v     peering.Version
	err   error
}

// TestServiceDefaultsBlocksOnItsEntry checks against Consul that a blocking read of the
// gateway's service-defaults entry sleeps through changes to other services' entries
// and wakes when the gateway's entry is written.
func TestServiceDefaultsBlocksOnItsEntry(t *testing.T) {
	t.Parallel()
	a := testconsul.Start(t)
	c := a.Client()
	registerGateway(t, c, nil)
	src := peering.ConsulSources(c, gatewayID, peering.WithWaitTime(testWaitTime)).ServiceDefaults
	ctx := t.Context()
	first, v, err := src.Read(ctx, peering.Version{})
	require.NoError(t, err)
	require.Nil(t, first, "got an entry, want none yet")

	done := make(chan serviceDefaultsRead, 1)
	go func() {
		e, next, err := src.Read(ctx, v)
		done <- serviceDefaultsRead{e, next, err}
	}()
	_, _, err = c.ConfigEntries().Set(&api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "web", Protocol: "http"}, nil)
	require.NoError(t, err)
	select {
	case r := <-done:
		t.Fatalf("got a read that returned %+v at %v (error %v) after another service's entry changed, want it still blocked", r.entry, r.v, r.err)
	case <-time.After(time.Second):
	}
	setGatewayLimits(t, c, 3)
	select {
	case r := <-done:
		require.NoError(t, r.err)
		assert.Equal(t, 3, gatewayMaxConnections(&peering.State{ServiceDefaults: r.entry}), "got entry %+v", r.entry)
		assert.NotEqual(t, v, r.v, "got the same Version for a new entry")
	case <-time.After(testWaitTime / 2):
		t.Fatal("got no answer after the gateway's entry was written, want the read to wake")
	}
}
