package xds_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/peeringgw/peeringgw/internal/consulsim"
	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// The pipeline benchmarks measure the path a control plane runs: the library's Consul
// sources read an HTTP server that answers like Consul 1.14.8 (internal/consulsim:
// the endpoints the sources read, every field of the peering objects, StreamStatus times that change
// on every read, blocking queries), a Loop builds each State with no quiet period, and
// an op ends when the Server holds the result. The State is load.State's, the input of
// Consul's own generator benchmark (consul-xds-bench).

var pipelinePeerCounts = []int{1000, 10000}

// pipeline is a Loop serving consulsim's gateway, with its updates on a channel.
type pipeline struct {
	sim     *consulsim.Server
	srv     *xds.Server
	updates chan *xds.Update
	stop    func()
}

// startPipeline starts a Loop reading sim and waits for its first State.
func startPipeline(b *testing.B, sim *consulsim.Server, opts ...peering.ConsulOption) *pipeline {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipeline{sim: sim, srv: xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll)), updates: make(chan *xds.Update, 16)}
	sources, err := peering.NewConsulSources(sim.Config(), consulsim.GatewayID, opts...)
	if err != nil {
		b.Fatal(err)
	}
	loop, err := xds.NewLoop(p.srv,
		[]xds.Gateway{{ID: consulsim.GatewayID, Sources: sources}},
		xds.WithWatchOptions(peering.WithQuietPeriod(0)),
		xds.WithObserver(xds.ObserverFuncs{
			OnServed:     func(_ string, u *xds.Update) { p.updates <- u },
			OnReadFailed: func(_ string, err error) { b.Errorf("read failed: %v", err) },
		}))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	p.stop = func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
	p.await(b, func(u *xds.Update) bool { return u.First })
	return p
}

// await waits for an update for which done holds.
func (p *pipeline) await(b *testing.B, done func(*xds.Update) bool) *xds.Update {
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		select {
		case u := <-p.updates:
			if done(u) {
				return u
			}
		case <-timeout.C:
			b.Fatal("no update within a minute")
		}
	}
}

func pushedEndpoints(u *xds.Update, name string) bool {
	return slices.ContainsFunc(u.Changes.Endpoints, func(e *endpointv3.ClusterLoadAssignment) bool { return e.GetClusterName() == name })
}

// BenchmarkPipelineChange measures one peering's addresses changing in Consul, until
// the Server holds its new endpoints.
func BenchmarkPipelineChange(b *testing.B) { benchPipelineChange(b, false) }

// BenchmarkPipelineChangeGzip is BenchmarkPipelineChange with Consul's answers
// gzip-compressed.
func BenchmarkPipelineChangeGzip(b *testing.B) { benchPipelineChange(b, true) }

func benchPipelineChange(b *testing.B, gzip bool) {
	for _, n := range pipelinePeerCounts {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			p := startPipeline(b, consulsim.New(b, n), peering.WithGzip(gzip))
			defer p.stop()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				peer := i % n
				p.sim.SetPeeringAddresses(peer, (i/n)%2 == 0)
				name := load.PeerServerName(peer)
				p.await(b, func(u *xds.Update) bool { return pushedEndpoints(u, name) })
				i++
			}
		})
	}
}

// BenchmarkPipelineAddPeering measures one peering being added in Consul, until the
// Server holds its cluster and endpoints and the listener with its filter chain.
func BenchmarkPipelineAddPeering(b *testing.B) {
	const n = 10000
	b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
		p := startPipeline(b, consulsim.New(b, n))
		defer p.stop()
		b.ReportAllocs()
		i := n
		for b.Loop() {
			p.sim.AddPeering(i)
			name := load.PeerServerName(i)
			p.await(b, func(u *xds.Update) bool { return len(u.Changes.Listeners) > 0 && pushedEndpoints(u, name) })
			i++
		}
	})
}

// BenchmarkPipelineColdStart measures a control plane starting: from the Loop's start
// to the first complete set of resources served, reading and decoding every part.
func BenchmarkPipelineColdStart(b *testing.B) {
	const n = 10000
	b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
		sim := consulsim.New(b, n)
		b.ReportAllocs()
		for b.Loop() {
			p := startPipeline(b, sim)
			b.StopTimer()
			p.stop()
			b.StartTimer()
		}
	})
}

// BenchmarkPipelineFloor measures the least any control plane pays for one change: a
// blocking read of Consul's peerings answer after one peering changed, read to the end
// and not decoded.
func BenchmarkPipelineFloor(b *testing.B) { benchPipelineFloor(b, false) }

// BenchmarkPipelineFloorGzip is BenchmarkPipelineFloor with the answer gzip-compressed,
// as Consul sends it to a client that accepts it.
func BenchmarkPipelineFloorGzip(b *testing.B) { benchPipelineFloor(b, true) }

func benchPipelineFloor(b *testing.B, gzip bool) {
	for _, n := range pipelinePeerCounts {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			sim := consulsim.New(b, n)
			client := &http.Client{Transport: &http.Transport{DisableCompression: !gzip}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				index := sim.Index()
				sim.SetPeeringAddresses(i%n, (i/n)%2 == 0)
				resp, err := client.Get(sim.URL() + "/v1/peerings?index=" + strconv.FormatUint(index, 10))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				i++
			}
		})
	}
}
