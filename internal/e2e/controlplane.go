package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// Timing of the watcher, chosen so that changes reach the gateway within a fraction of
// a second and reads resume quickly after an agent restarts.
const (
	// watchWait is the wait of a blocking query. It must stay below the timeout of the
	// agents' HTTP clients (10 s), or every quiet wait ends as an error.
	watchWait     = 2 * time.Second
	watchQuiet    = 50 * time.Millisecond
	watchBackoff  = 50 * time.Millisecond
	watchMaxDelay = 500 * time.Millisecond
	watchPoll     = 500 * time.Millisecond
)

// ControlPlane is this library's control plane for one mesh gateway, run the way a host
// program runs it: an xds.Loop reads the gateway's State from its Consul agent and
// serves its resources from an xds.Server over gRPC on loopback to data planes that
// connect as the gateway.
type ControlPlane struct {
	// NodeID is the gateway's service ID, the node ID its data planes use.
	NodeID string
	// Server serves the gateway's resources.
	Server *xds.Server
	// Loop keeps them current.
	Loop *xds.Loop

	addr string

	mu        sync.Mutex
	states    []*peering.State
	last      *xds.Update
	applyErrs []error
	readErrs  []error
}

// StartControlPlane starts the control plane of the gateway with service ID gatewayID
// registered with the agent that cfg describes, and stops it when the test ends. cfg's
// token is the gateway's.
func StartControlPlane(t testing.TB, cfg *api.Config, gatewayID string) *ControlPlane {
	t.Helper()
	sources, err := peering.NewConsulSources(cfg, gatewayID, peering.WithWaitTime(watchWait))
	if err != nil {
		t.Fatalf("e2e: sources of gateway %s: %v", gatewayID, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The data planes connect on loopback without credentials: authorization has its
	// own tests, in package xds and with peergw serve.
	cp := &ControlPlane{NodeID: gatewayID, Server: xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithGateways(gatewayID))}
	// Generation targets the agent's own version, which the sources read from
	// /v1/agent/self: the Consul these tests run and compare with.
	loop, err := xds.NewLoop(cp.Server, []xds.Gateway{{ID: gatewayID, Sources: sources}},
		xds.WithObserver(xds.ObserverFuncs{OnServed: cp.served, OnReadFailed: cp.readFailed}),
		xds.WithWatchOptions(
			peering.WithQuietPeriod(watchQuiet),
			peering.WithBackoff(watchBackoff, watchMaxDelay),
			peering.WithPollInterval(watchPoll),
		))
	if err != nil {
		cancel()
		t.Fatalf("e2e: control loop of gateway %s: %v", gatewayID, err)
	}
	cp.Loop = loop
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatalf("e2e: listen for xDS: %v", err)
	}
	cp.addr = lis.Addr().String()
	g := grpc.NewServer()
	cp.Server.Register(g)
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	looped := make(chan error, 1)
	go func() { looped <- loop.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-looped; err != nil {
			t.Errorf("e2e: control loop of gateway %s: %v", gatewayID, err)
		}
		g.Stop()
		if err := <-served; err != nil {
			t.Errorf("e2e: xDS server of gateway %s: %v", gatewayID, err)
		}
	})
	return cp
}

// served records each State the loop served.
func (cp *ControlPlane) served(_ string, u *xds.Update) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.states = append(cp.states, u.State)
	cp.last = u
	if u.Err != nil {
		cp.applyErrs = append(cp.applyErrs, u.Err)
	}
}

// readFailed records each error of the gateway's sources.
func (cp *ControlPlane) readFailed(_ string, err error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.readErrs = append(cp.readErrs, err)
}

// States returns every State the control plane has applied, in order. They must not be
// modified.
func (cp *ControlPlane) States() []*peering.State {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return slices.Clone(cp.states)
}

// ApplyErr returns the errors pushing to the xds.Server gave, joined.
func (cp *ControlPlane) ApplyErr() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return errors.Join(cp.applyErrs...)
}

// ReadErrors returns every error the loop's sources returned so far.
func (cp *ControlPlane) ReadErrors() []error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return slices.Clone(cp.readErrs)
}

// ReadErr returns the errors of the parts whose last read failed, joined, or nil.
func (cp *ControlPlane) ReadErr() error {
	st, _ := cp.Loop.Status(cp.NodeID)
	return st.ReadErr
}

// Built returns the resources of the last State applied and its diagnostics.
func (cp *ControlPlane) Built() (*xds.Resources, []xds.Diagnostic) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.last == nil {
		return &xds.Resources{}, nil
	}
	return xds.Translate(cp.last.Model), cp.last.Diagnostics
}

// Served returns the resources the server holds for the gateway now, each list sorted
// by name; it fails t if they do not decode.
func (cp *ControlPlane) Served(t testing.TB) *xds.Resources {
	t.Helper()
	r, err := cp.Server.Resources(cp.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// StartDataPlane starts a data plane that connects to the control plane as the gateway,
// and stops it when the test ends, checking that its stream ended cleanly.
func (cp *ControlPlane) StartDataPlane(t testing.TB) *dataplane.DataPlane {
	t.Helper()
	conn, err := grpc.NewClient(cp.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("e2e: connect to the control plane of gateway %s: %v", cp.NodeID, err)
	}
	dp := dataplane.New(cp.NodeID)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- dp.Run(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("e2e: data plane of gateway %s: %v", cp.NodeID, err)
		}
		if err := errors.Join(dp.Close(), conn.Close()); err != nil {
			t.Errorf("e2e: close data plane of gateway %s: %v", cp.NodeID, err)
		}
	})
	return dp
}

// WaitApplied waits until dp holds exactly the resources cp serves, at the versions it
// serves them, so that an update in flight cannot reach the data plane later.
func (cp *ControlPlane) WaitApplied(t testing.TB, dp *dataplane.DataPlane) {
	t.Helper()
	Eventually(t, PeeringTimeout, func() error {
		for typ, want := range cp.Server.Versions(cp.NodeID) {
			if got := dp.Versions(typ); !maps.Equal(got, want) {
				return fmt.Errorf("data plane holds %s versions %v, want %v", typ, got, want)
			}
		}
		return nil
	})
}
