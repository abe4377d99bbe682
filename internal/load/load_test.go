package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/xds"
)

// Environment of TestLoad. Each variable overrides a default of loadConfig.
const (
	envClients   = "PEERINGGW_LOAD_CLIENTS"    // clients per protocol
	envPeers     = "PEERINGGW_LOAD_PEERS"      // peerings in the State
	envSubscribe = "PEERINGGW_LOAD_SUBSCRIBE"  // full or watched
	envRamp      = "PEERINGGW_LOAD_RAMP"       // concurrent initial syncs per fleet
	envTimeout   = "PEERINGGW_LOAD_TIMEOUT"    // bound of each wait
	envProfile   = "PEERINGGW_LOAD_CPUPROFILE" // file for a CPU profile of the change's delivery
	envProtocols = "PEERINGGW_LOAD_PROTOCOLS"  // delta, sotw or both
	// envFleet makes the test binary a fleet process: its value is a fleetSpec.
	envFleet = "PEERINGGW_LOAD_FLEET"
)

// fleetSpec is what a fleet process runs and where it writes its outcomes.
type fleetSpec struct {
	Fleet load.Fleet
	Out   string
}

// TestMain runs the test binary as a fleet process when envFleet is set: the clients
// then live in another process than the server, whose memory and goroutines TestLoad
// measures.
func TestMain(m *testing.M) {
	if spec := os.Getenv(envFleet); spec != "" {
		os.Exit(runFleet(spec))
	}
	os.Exit(m.Run())
}

// runFleet runs the fleet spec describes until its standard input ends.
func runFleet(spec string) int {
	var s fleetSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "load: fleet spec:", err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // any end of input, error or not, stops the fleet
		cancel()
	}()
	out, err := s.Fleet.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := json.Marshal(out)
	if err == nil {
		err = os.WriteFile(s.Out, b, 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: write outcomes:", err)
		return 1
	}
	return 0
}

// loadConfig is the size of TestLoad.
type loadConfig struct {
	clients, peers, ramp int
	sub                  load.Subscription
	protocols            []load.Protocol
	timeout              time.Duration
}

// config returns the defaults, overridden by the environment. The defaults keep a plain
// go test ./... quick: 200 clients per protocol against 10,000 peers (100 with the race
// detector, which slows clients and server alike). The figures in the README come from
// PEERINGGW_LOAD_CLIENTS=1000 (see doc.go).
func config(t *testing.T) loadConfig {
	t.Helper()
	c := loadConfig{clients: 200, peers: 10000, ramp: 8, sub: load.Watched, timeout: 5 * time.Minute,
		protocols: []load.Protocol{load.Delta, load.SotW}}
	switch {
	case testing.Short():
		c.clients, c.peers = 20, 100
	case raceEnabled:
		c.clients = 100
	}
	for _, v := range []struct {
		env string
		to  *int
	}{{envClients, &c.clients}, {envPeers, &c.peers}, {envRamp, &c.ramp}} {
		if s := os.Getenv(v.env); s != "" {
			n, err := strconv.Atoi(s)
			require.NoError(t, err, "%s", v.env)
			*v.to = n
		}
	}
	if s := os.Getenv(envSubscribe); s != "" {
		sub, err := load.ParseSubscription(s)
		require.NoError(t, err, "%s", envSubscribe)
		c.sub = sub
	}
	switch s := os.Getenv(envProtocols); s {
	case "", "both":
	case "delta":
		c.protocols = []load.Protocol{load.Delta}
	case "sotw":
		c.protocols = []load.Protocol{load.SotW}
	default:
		t.Fatalf("%s=%q: want delta, sotw or both", envProtocols, s)
	}
	if s := os.Getenv(envTimeout); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err, "%s", envTimeout)
		c.timeout = d
	}
	require.Positive(t, c.peers, "got %d peers, want at least 1", c.peers)
	return c
}

// TestLoad serves one gateway's State of many peers to many delta and
// state-of-the-world clients of that gateway, changes one peer, and checks that every
// client received and acknowledged the change, and that the server's goroutines go
// back to what they were once the clients are gone. It logs the figures: time to sync
// and to converge, memory and goroutines per client on the server.
func TestLoad(t *testing.T) {
	cfg := config(t)
	leaks := goleak.IgnoreCurrent()
	b := xds.NewBuilder()
	state := load.State(cfg.peers)
	b.Set(state)
	endpoints := cfg.peers + 1
	if cfg.sub == load.Watched {
		endpoints = 1
	}
	rec := load.NewRecorder(map[string]int{
		resourcev3.ClusterType: cfg.peers + 1, resourcev3.EndpointType: endpoints, resourcev3.ListenerType: 1,
	})
	ctx, cancel := context.WithCancel(context.Background())
	streams := 2*cfg.clients + 1 // both fleets and the warm-up client, all as one gateway
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithCallbacks(rec),
		xds.WithStreamLimits(max(streams, xds.DefaultMaxStreams), streams))
	require.NoError(t, srv.SetResources(load.GatewayID, b.Resources()))
	addr, stop := serve(t, srv)
	watch := load.PeerServerName(cfg.peers / 2)
	gw := load.Gateway{NodeID: load.GatewayID, Subscription: cfg.sub, Watch: watch}
	warm(t, addr, gw, rec)
	base := measure()
	t.Logf("%d delta and %d state-of-the-world clients, %d peers, subscription %s (%d endpoints each), ramp %d",
		cfg.clients, cfg.clients, cfg.peers, cfg.sub, endpoints, cfg.ramp)
	t.Logf("server idle: heap in use %.1f MB, %d goroutines", mb(base.heap), base.goroutines)

	fleets := map[load.Protocol]*fleetProc{}
	after := map[load.Protocol]usage{}
	prev := base
	for _, p := range cfg.protocols {
		before, began := rec.Synced(p), time.Now()
		fleets[p] = startFleet(t, load.Fleet{Addr: addr, Clients: cfg.clients, Protocol: p, Gateway: gw, Ramp: cfg.ramp})
		waitFor(t, cfg.timeout, func() error {
			if n := rec.Synced(p) - before; n < cfg.clients {
				return fmt.Errorf("got %d %s clients synced, want %d", n, p, cfg.clients)
			}
			return fleets[p].exited()
		})
		synced := time.Since(began)
		after[p] = measure()
		t.Logf("%s: %d clients synced in %s; server heap in use +%.2f MB per client, +%.1f goroutines per client",
			p, cfg.clients, synced.Round(time.Millisecond), perClient(after[p].heap-prev.heap, cfg.clients),
			float64(after[p].goroutines-prev.goroutines)/float64(max(cfg.clients, 1)))
		prev = after[p]
	}

	changed := load.Peering(cfg.peers/2, true)
	ch := b.Set(load.WithPeering(state, changed))
	require.Len(t, ch.Endpoints, 1, "got %d changed endpoints, want 1", len(ch.Endpoints))
	require.True(t, onlyEndpoints(ch), "got changes %v, want only the peer's endpoints", ch)
	value, err := cachev3.MarshalResource(ch.Endpoints[0])
	require.NoError(t, err)
	stopProfile := profile(t, os.Getenv(envProfile))
	cpu := cpuTime(t)
	start := time.Now()
	rec.Measure(watch, value, start)
	require.NoError(t, srv.Apply(load.GatewayID, ch))
	waitFor(t, cfg.timeout, func() error {
		for _, p := range cfg.protocols {
			if n := len(rec.Converged(p)); n < cfg.clients {
				return fmt.Errorf("got %d %s clients with the change, want %d (%d streams open)", n, p, cfg.clients, rec.Open())
			}
			if err := fleets[p].exited(); err != nil {
				return err
			}
		}
		return nil
	})
	stopProfile()
	t.Logf("server CPU to deliver the change: %s", (cpuTime(t) - cpu).Round(time.Millisecond))
	all := append(rec.Converged(load.Delta), rec.Converged(load.SotW)...)
	t.Logf("change of one peer acknowledged by all %d clients in %s (p50 %s, p99 %s); delta p50 %s max %s, sotw p50 %s max %s",
		len(all), pct(all, 100), pct(all, 50), pct(all, 99),
		pct(rec.Converged(load.Delta), 50), pct(rec.Converged(load.Delta), 100),
		pct(rec.Converged(load.SotW), 50), pct(rec.Converged(load.SotW), 100))
	assert.Zero(t, rec.Nacks(), "got %d NACKs, want none", rec.Nacks())

	want := load.Outcome{
		Clients: cfg.clients, Clusters: cfg.peers + 1, Endpoints: endpoints + 1, Listeners: 1,
		Watched: changed.PeerServerAddresses,
	}
	for _, p := range cfg.protocols {
		outcomes := fleets[p].stop(t)
		require.Len(t, outcomes, 1, "got %s clients ending in different ways: %+v", p, outcomes)
		got := outcomes[0]
		got.Responses = 0
		assert.Equal(t, want, got, "got %s clients ending with %+v, want %+v", p, got, want)
	}
	waitFor(t, cfg.timeout, func() error {
		if n := rec.Open(); n != 0 {
			return fmt.Errorf("got %d streams open after the clients left, want 0", n)
		}
		if n := runtime.NumGoroutine(); n > base.goroutines {
			return fmt.Errorf("got %d goroutines after the clients left, want at most %d as before they came", n, base.goroutines)
		}
		return nil
	})
	cancel()
	stop()
	goleak.VerifyNone(t, leaks)
}

// profile starts a CPU profile written to path, unless path is empty, and returns the
// function that stops it.
func profile(t *testing.T, path string) func() {
	t.Helper()
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(t, f.Close())
	}
}

// onlyEndpoints reports whether ch changes endpoints and nothing else.
func onlyEndpoints(ch xds.Changes) bool {
	return len(ch.Clusters)+len(ch.Listeners)+len(ch.RemovedClusters)+len(ch.RemovedEndpoints)+len(ch.RemovedListeners) == 0
}

// serve serves srv on a loopback port and returns its address and a function that
// stops it.
func serve(t *testing.T, srv *xds.Server) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := grpc.NewServer()
	srv.Register(g)
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		g.Stop()
		require.NoError(t, <-served)
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

// warm syncs one client of each protocol and disconnects it, so that the server has
// marshalled and hashed every resource (once, whatever the number of clients) before
// the measures begin.
func warm(t *testing.T, addr string, gw load.Gateway, rec *load.Recorder) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	require.NoError(t, err)
	for _, p := range []load.Protocol{load.Delta, load.SotW} {
		ctx, cancel := context.WithCancel(context.Background())
		synced := make(chan struct{})
		g := gw
		g.OnSynced = func() { close(synced) }
		run := g.RunDelta
		if p == load.SotW {
			run = g.RunSotW
		}
		ran := make(chan error, 1)
		go func() {
			_, err := run(ctx, conn)
			ran <- err
		}()
		select {
		case <-synced:
		case err := <-ran:
			t.Fatalf("%s warm-up client ended before syncing: %v", p, err)
		}
		cancel()
		require.NoError(t, <-ran)
	}
	require.NoError(t, conn.Close())
	waitFor(t, time.Minute, func() error {
		if n := rec.Open(); n != 0 {
			return fmt.Errorf("got %d streams open after the warm-up, want 0", n)
		}
		return nil
	})
}

// cpuTime is the CPU time the test process (the server: the clients run in other
// processes) has used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// usage is the server process's heap in use, after a garbage collection, and its
// goroutines.
type usage struct {
	heap       uint64
	goroutines int
}

func measure() usage {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return usage{heap: m.HeapInuse, goroutines: runtime.NumGoroutine()}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

func perClient(delta uint64, clients int) float64 {
	return float64(int64(delta)) / (1 << 20) / float64(max(clients, 1))
}

// pct returns the p-th percentile of ds (100 is the maximum).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)].Round(time.Millisecond)
}

// waitFor polls check until it returns nil, and fails the test after timeout with its
// last error.
func waitFor(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fleetProc is a fleet running in a child process.
type fleetProc struct {
	stopped bool
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     string
	output  bytes.Buffer
	done    chan error
}

// startFleet runs f in a child process, which is killed when the test ends if it is
// still running.
func startFleet(t *testing.T, f load.Fleet) *fleetProc {
	t.Helper()
	p := &fleetProc{out: filepath.Join(t.TempDir(), "outcomes.json"), done: make(chan error, 1)}
	spec, err := json.Marshal(fleetSpec{Fleet: f, Out: p.out})
	require.NoError(t, err)
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), envFleet+"="+string(spec))
	p.cmd.Stdout, p.cmd.Stderr = &p.output, &p.output
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.stopped {
			_ = p.cmd.Process.Kill() // the test failed before stop; its error is reported
			<-p.done
		}
	})
	return p
}

// exited returns an error when the fleet process has ended.
func (p *fleetProc) exited() error {
	select {
	case err := <-p.done:
		p.done <- err
		return fmt.Errorf("fleet process ended early (%v): %s", err, p.output.String())
	default:
		return nil
	}
}

// stop ends the fleet's clients and returns their outcomes.
func (p *fleetProc) stop(t *testing.T) []load.Outcome {
	t.Helper()
	p.stopped = true
	require.NoError(t, p.stdin.Close())
	require.NoError(t, <-p.done, "fleet process: %s", p.output.String())
	b, err := os.ReadFile(p.out)
	require.NoError(t, err)
	var out []load.Outcome
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
