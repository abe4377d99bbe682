package main

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// unknownNode labels xDS clients whose node ID is not a served gateway, so that
// clients cannot create label values at will.
const unknownNode = "unknown"

// metrics are serve's Prometheus metrics, in a registry of their own.
type metrics struct {
	reg         *prometheus.Registry
	log         *slog.Logger
	gateways    []string
	snapshot    *prometheus.GaugeVec
	resources   *prometheus.GaugeVec
	diagnostics *prometheus.GaugeVec
	pushes      *prometheus.CounterVec
	watchErrors *prometheus.CounterVec
	streams     *prometheus.GaugeVec
	nacks       *prometheus.CounterVec

	mu    sync.Mutex
	nodes map[streamKey]string // xDS stream → node ID
}

func newMetrics(gateways []string, log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(), log: log, gateways: gateways, nodes: map[streamKey]string{},
		snapshot: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "peergw_snapshot_info",
			Help: "The version (content hash) of the resources served to a gateway; 1 for the current version.",
		}, []string{"gateway", "version"}),
		resources: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "peergw_resources", Help: "Resources served to a gateway, by type.",
		}, []string{"gateway", "type"}),
		diagnostics: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "peergw_diagnostics", Help: "Inputs the generation of a gateway's resources skipped or defaulted.",
		}, []string{"gateway"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peergw_pushes_total", Help: "Updates of a gateway's resources pushed to its xDS clients.",
		}, []string{"gateway"}),
		watchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peergw_watch_errors_total", Help: "Failed reads of Consul for a gateway's state.",
		}, []string{"gateway"}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "peergw_xds_streams", Help: "Open xDS streams, by protocol (sotw or delta).",
		}, []string{"protocol"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peergw_xds_nacks_total", Help: "Responses an xDS client rejected, by gateway and resource type.",
		}, []string{"gateway", "type"}),
	}
	m.reg.MustRegister(m.snapshot, m.resources, m.diagnostics, m.pushes, m.watchErrors, m.streams, m.nacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, id := range gateways {
		m.pushes.WithLabelValues(id)
		m.watchErrors.WithLabelValues(id)
	}
	m.streams.WithLabelValues("sotw")
	m.streams.WithLabelValues("delta")
	return m
}

// watchGateway adds the last-sync gauge of gateway id, read with lastSync.
func (m *metrics) watchGateway(id string, lastSync func() time.Time) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "peergw_last_sync_timestamp_seconds",
		Help:        "When the gateway's state was last known to be current (every read of Consul succeeded); 0 before the first.",
		ConstLabels: prometheus.Labels{"gateway": id},
	}, func() float64 {
		t := lastSync()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	}))
}

// resourceCounts are the numbers of resources served to a gateway.
type resourceCounts struct{ clusters, endpoints, listeners int }

// observe records the resources served to gateway id after a State.
func (m *metrics) observe(id, version string, res resourceCounts, diags int, pushed bool) {
	m.snapshot.DeletePartialMatch(prometheus.Labels{"gateway": id})
	m.snapshot.WithLabelValues(id, version).Set(1)
	m.resources.WithLabelValues(id, "clusters").Set(float64(res.clusters))
	m.resources.WithLabelValues(id, "endpoints").Set(float64(res.endpoints))
	m.resources.WithLabelValues(id, "listeners").Set(float64(res.listeners))
	m.diagnostics.WithLabelValues(id).Set(float64(diags))
	if pushed {
		m.pushes.WithLabelValues(id).Inc()
	}
}

// callbacks count streams and NACKs, and log them.
func (m *metrics) callbacks() serverv3.Callbacks {
	open := func(protocol string) func(context.Context, int64, string) error {
		return func(_ context.Context, stream int64, _ string) error {
			m.streams.WithLabelValues(protocol).Inc()
			m.log.Debug("xDS stream opened", "stream", stream, "protocol", protocol)
			return nil
		}
	}
	closed := func(protocol string) func(int64, *corev3.Node) {
		return func(stream int64, _ *corev3.Node) {
			m.streams.WithLabelValues(protocol).Dec()
			m.mu.Lock()
			key := streamKey{protocol, stream}
			node := m.nodes[key]
			delete(m.nodes, key)
			m.mu.Unlock()
			m.log.Info("xDS stream closed", "stream", stream, "protocol", protocol, "node", node)
		}
	}
	return serverv3.CallbackFuncs{
		StreamOpenFunc:        open("sotw"),
		StreamClosedFunc:      closed("sotw"),
		DeltaStreamOpenFunc:   open("delta"),
		DeltaStreamClosedFunc: closed("delta"),
		StreamRequestFunc: func(stream int64, req *discoveryv3.DiscoveryRequest) error {
			m.request(streamKey{"sotw", stream}, req.GetNode(), req.GetTypeUrl(), req.GetErrorDetail().GetMessage(), req.GetErrorDetail() != nil)
			return nil
		},
		StreamDeltaRequestFunc: func(stream int64, req *discoveryv3.DeltaDiscoveryRequest) error {
			m.request(streamKey{"delta", stream}, req.GetNode(), req.GetTypeUrl(), req.GetErrorDetail().GetMessage(), req.GetErrorDetail() != nil)
			return nil
		},
	}
}

// streamKey identifies an xDS stream: go-control-plane numbers state-of-the-world and
// delta streams separately, each from 1.
type streamKey struct {
	protocol string
	id       int64
}

// request notes the node of a stream, which Envoy may send only in its first request,
// and counts a NACK.
func (m *metrics) request(stream streamKey, node *corev3.Node, typeURL, detail string, nack bool) {
	m.mu.Lock()
	id, known := m.nodes[stream]
	if !known && node != nil {
		id = node.GetId()
		m.nodes[stream] = id
	}
	m.mu.Unlock()
	if !known && node != nil {
		m.log.Info("xDS client connected", "stream", stream.id, "protocol", stream.protocol, "node", id)
	}
	if !nack {
		return
	}
	label := id
	if !slices.Contains(m.gateways, id) {
		label = unknownNode
	}
	m.nacks.WithLabelValues(label, typeURL).Inc()
	m.log.Warn("xDS client rejected a response", "node", id, "type", typeURL, "error", detail)
}
