package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthReport is the body of /healthz.
type healthReport struct {
	// Status is "ok" (200) or "unavailable" (503).
	Status   string          `json:"status"`
	Gateways []gatewayHealth `json:"gateways"`
}

type gatewayHealth struct {
	ID      string `json:"id"`
	Healthy bool   `json:"healthy"`
	// Served reports whether the gateway's first State has been served.
	Served  bool   `json:"served"`
	Version string `json:"version,omitempty"`
	// LastSync is when the state was last known to be current.
	LastSync *time.Time `json:"last_sync,omitempty"`
	// Reason says why the gateway is not healthy.
	Reason string `json:"reason,omitempty"`
	// Error is the current error of reading Consul, if any.
	Error string `json:"error,omitempty"`
}

func (cp *controlPlane) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", cp.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cp.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

func (cp *controlPlane) serveHealth(w http.ResponseWriter, _ *http.Request) {
	rep := cp.health(time.Now())
	w.Header().Set("Content-Type", "application/json")
	if rep.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		cp.log.Debug("health response", "error", err)
	}
}

// health reports every gateway healthy once its first State is served, unless reading
// Consul has been failing for longer than -unhealthy-after: it is then serving a State
// that may be stale.
func (cp *controlPlane) health(now time.Time) healthReport {
	rep := healthReport{Status: "ok"}
	for _, id := range cp.cfg.ids {
		st, _ := cp.loop.Status(id)
		h := gatewayHealth{ID: id, Healthy: true, Served: st.Served, Version: st.Version}
		err := st.ReadErr
		if err != nil {
			h.Error = err.Error()
		}
		last := st.LastSync
		if !last.IsZero() {
			h.LastSync = &last
		}
		switch {
		case !h.Served:
			h.Healthy, h.Reason = false, "waiting for the first state from Consul"
		case err != nil && now.Sub(last) > cp.cfg.unhealthyAfter:
			h.Healthy, h.Reason = false, fmt.Sprintf("reading Consul has failed for %s", now.Sub(last).Round(time.Second))
		}
		if !h.Healthy {
			rep.Status = "unavailable"
		}
		rep.Gateways = append(rep.Gateways, h)
	}
	return rep
}
