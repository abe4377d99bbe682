package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// Shutdown budgets: open xDS streams are ended first, so these are rarely reached.
const (
	grpcStopTimeout = 10 * time.Second
	httpStopTimeout = 5 * time.Second
)

// serveConfig is what the serve flags say.
type serveConfig struct {
	ids            []string
	listen         string
	healthAddr     string
	unhealthyAfter time.Duration
	retryMax       time.Duration
	security       securityFlags
	version        consulVersion // -consul-version
}

func runServe(c *cli, args []string) error {
	fs := c.newFlagSet("serve", "[flags]", `
Serve mesh gateways their Envoy configuration for peering control-plane traffic over
ADS (state-of-the-world and delta, as Envoy asks), keeping it current by watching
Consul with blocking queries. The Envoy node ID is the gateway's service ID; see
"peergw bootstrap". Only the resources that change are pushed.

With -health-addr, GET /healthz answers 200 once every gateway's first State is served
and 503 before, or while reading Consul has failed for longer than -unhealthy-after;
GET /metrics serves Prometheus metrics. Logs go to stderr. SIGINT or SIGTERM stops
the watches, ends the xDS streams and exits with status 0.

Every xDS stream must name a gateway given with -gateway-id and carry a Consul ACL
token (gRPC metadata x-consul-token) with service:write on that gateway's service, as
Consul's own xDS server requires; tokens are checked with Consul, kept 10s, and
checked again while the stream is open. With -xds-client-ca-file, a client certificate
whose SPIFFE URI SAN (or common name) names the gateway's service is let in too. TLS
(-xds-cert-file, -xds-key-file) is required on any address but loopback; the files are
reread when they change. -xds-insecure turns all of this off, for development.`)
	var cf consulFlags
	cf.register(fs)
	var ids stringList
	fs.Var(&ids, "gateway-id", "service instance `ID` of a mesh gateway registered with the agent; repeatable (default mesh-gateway)")
	cfg := serveConfig{}
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:18000", "`address` the xDS gRPC server listens on")
	fs.StringVar(&cfg.healthAddr, "health-addr", "127.0.0.1:19100", "`address` of the /healthz and /metrics HTTP server; empty disables it")
	fs.DurationVar(&cfg.unhealthyAfter, "unhealthy-after", 30*time.Second, "how long reading Consul may fail before /healthz answers 503")
	fs.DurationVar(&cfg.retryMax, "retry-max", 30*time.Second, "longest wait between reads of Consul after errors (backoff from 500ms)")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	cfg.security.register(fs)
	cfg.version.register(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := cfg.check(fs, ids, *logFormat, *logLevel); err != nil {
		return err
	}
	if err := cfg.security.check(fs, cfg.listen); err != nil {
		return err
	}
	cfg.ids = ids
	if len(cfg.ids) == 0 {
		cfg.ids = []string{gateway.DefaultName}
	}
	conn, err := cf.connect()
	if err != nil {
		return err
	}
	log := newLogger(c.stderr, *logFormat, *logLevel).With("consul", conn.addr)
	cp, err := newControlPlane(conn, cfg, log)
	if err != nil {
		return err
	}
	return cp.run(c.ctx)
}

// check validates the flags that are not checked by their type.
func (cfg *serveConfig) check(fs *flag.FlagSet, ids []string, logFormat, logLevel string) error {
	if err := oneOf(fs, "log-format", logFormat, "text", "json"); err != nil {
		return err
	}
	if err := oneOf(fs, "log-level", logLevel, "debug", "info", "warn", "error"); err != nil {
		return err
	}
	for i, id := range ids {
		if id == "" || slices.Contains(ids[:i], id) {
			return usagef(fs, "-gateway-id %q is empty or given twice", id)
		}
	}
	if cfg.unhealthyAfter <= 0 || cfg.retryMax < 500*time.Millisecond {
		return usagef(fs, "-unhealthy-after must be positive and -retry-max at least 500ms")
	}
	return nil
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// controlPlane is an xds.Loop serving the gateways, with the gRPC server, the health
// and metrics endpoints and the logs around it.
type controlPlane struct {
	cfg     serveConfig
	log     *slog.Logger
	xds     *xds.Server
	loop    *xds.Loop
	metrics *metrics
	// stopStreams ends the xDS streams at shutdown.
	stopStreams context.CancelFunc

	mu    sync.Mutex
	diags map[string][]string // the diagnostics last logged, by gateway
}

func newControlPlane(conn *consulConn, cfg serveConfig, log *slog.Logger) (*controlPlane, error) {
	cp := &controlPlane{cfg: cfg, log: log, diags: map[string][]string{}}
	streamCtx, stop := context.WithCancel(context.Background())
	cp.stopStreams = stop
	cp.metrics = newMetrics(cfg.ids, log)
	secOpts, err := cfg.security.serverOptions(conn, log, cp.metrics.reg)
	if err != nil {
		stop()
		return nil, err
	}
	cp.xds = xds.NewServer(streamCtx, append(secOpts, xds.WithCallbacks(cp.metrics.callbacks()), xds.WithGateways(cfg.ids...))...)
	gateways := make([]xds.Gateway, len(cfg.ids))
	for i, id := range cfg.ids {
		sources, err := peering.NewConsulSources(conn.cfg, id)
		if err != nil {
			stop()
			return nil, err
		}
		gateways[i] = xds.Gateway{ID: id, Sources: sources}
	}
	loopOpts := []xds.LoopOption{xds.WithObserver(cp), xds.WithWatchOptions(peering.WithBackoff(500*time.Millisecond, cfg.retryMax))}
	if o := cfg.version.option(); o != nil {
		loopOpts = append(loopOpts, *o)
	}
	loop, err := xds.NewLoop(cp.xds, gateways, loopOpts...)
	if err != nil {
		stop()
		return nil, err
	}
	cp.loop = loop
	for _, id := range cfg.ids {
		cp.metrics.watchGateway(id, func() time.Time { st, _ := loop.Status(id); return st.LastSync })
	}
	return cp, nil
}

// run serves until ctx ends, then shuts down in order: the watches, the xDS streams
// and server, the HTTP server.
func (cp *controlPlane) run(ctx context.Context) error {
	defer cp.stopStreams()
	lis, err := net.Listen("tcp", cp.cfg.listen)
	if err != nil {
		return fmt.Errorf("xds listener: %w", err)
	}
	g := cp.xds.NewGRPCServer()
	var hs *http.Server
	var hlis net.Listener
	if cp.cfg.healthAddr != "" {
		if hlis, err = net.Listen("tcp", cp.cfg.healthAddr); err != nil {
			lis.Close()
			return fmt.Errorf("health listener: %w", err)
		}
		hs = &http.Server{Handler: cp.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	}
	failed := make(chan error, 2)
	var servers sync.WaitGroup
	servers.Go(func() {
		if err := g.Serve(lis); err != nil {
			failed <- fmt.Errorf("xds server: %w", err)
		}
	})
	cp.log.Info("xDS server listening", "addr", lis.Addr().String(), "gateways", cp.cfg.ids,
		"tls", cp.cfg.security.certFile != "", "client_certs", cp.cfg.security.clientCAFile != "", "insecure", cp.cfg.security.insecure)
	if hs != nil {
		servers.Go(func() {
			if err := hs.Serve(hlis); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("health server: %w", err)
			}
		})
		cp.log.Info("health server listening", "addr", hlis.Addr().String())
	}
	loopCtx, stopLoop := context.WithCancel(ctx)
	looped := make(chan error, 1)
	go func() { looped <- cp.loop.Run(loopCtx) }()
	select {
	case <-ctx.Done():
		cp.log.Info("shutting down")
	case err = <-failed:
		cp.log.Error("shutting down", "error", err)
	}
	stopLoop()
	if lerr := <-looped; lerr != nil {
		cp.log.Error("control loop stopped", "error", lerr)
	}
	cp.shutdown(g, hs)
	servers.Wait()
	cp.log.Info("stopped")
	return err
}

// shutdown ends the xDS streams, stops the gRPC server and then the HTTP server.
func (cp *controlPlane) shutdown(g *grpc.Server, hs *http.Server) {
	cp.stopStreams()
	done := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grpcStopTimeout):
		g.Stop()
		<-done
	}
	if hs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), httpStopTimeout)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		cp.log.Warn("health server shutdown", "error", err)
	}
}

var _ xds.Observer = (*controlPlane)(nil)

// Served records a gateway's update in the metrics and logs.
func (cp *controlPlane) Served(id string, u *xds.Update) {
	pushed := u.First || !u.Changes.Empty()
	st, _ := cp.loop.Status(id) // already holds this update
	cp.metrics.observe(id, u.Version, resourceCounts{st.Clusters, st.Endpoints, st.Listeners}, len(u.Diagnostics), pushed)
	if u.Err != nil {
		cp.log.Error("push failed", "gateway", id, "error", u.Err)
	}
	if pushed {
		cp.log.Info("resources pushed", "gateway", id, "version", u.Version, "clusters", len(u.Changes.Clusters),
			"endpoints", len(u.Changes.Endpoints), "listeners", len(u.Changes.Listeners),
			"removed", len(u.Changes.RemovedClusters)+len(u.Changes.RemovedEndpoints)+len(u.Changes.RemovedListeners),
			"diagnostics", len(u.Diagnostics))
	}
	msgs := make([]string, len(u.Diagnostics))
	for i, d := range u.Diagnostics {
		msgs[i] = d.Error()
	}
	cp.mu.Lock()
	newDiags := !slices.Equal(cp.diags[id], msgs)
	cp.diags[id] = msgs
	cp.mu.Unlock()
	if newDiags {
		for _, msg := range msgs {
			cp.log.Warn("input skipped or defaulted", "gateway", id, "diagnostic", msg)
		}
	}
}

// ReadFailed logs and counts a failed read of Consul.
func (cp *controlPlane) ReadFailed(id string, err error) {
	cp.metrics.watchErrors.WithLabelValues(id).Inc()
	cp.log.Warn("reading Consul failed; keeping the last good state", "gateway", id, "error", err)
}
