package xds

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/peering"
)

// defaultConnectTimeout is Consul's connect timeout for gateway clusters.
const defaultConnectTimeout = gateway.DefaultConnectTimeout

// gatewayConfig is what the resources need from the gateway service, the mesh entry and
// the cluster's identity.
type gatewayConfig struct {
	// listeners reports whether the gateway gets listeners at all (it exists and is a
	// mesh gateway).
	listeners bool
	// enabled reports whether peering control-plane resources are generated: the mesh
	// entry sets PeerThroughMeshGateways and the gateway is in the default partition.
	enabled bool
	// datacenter and acceptName name the accept side; acceptName is empty when the
	// datacenter or trust domain is unknown.
	datacenter string
	acceptName string
	binds      []gateway.Bind
	timeout    time.Duration
	// settings are the version-dependent settings of the clusters and listeners.
	settings clusterSettings
	diags    []Diagnostic
}

func (g *gatewayConfig) sameListeners(o *gatewayConfig) bool {
	return g.listeners == o.listeners && g.enabled == o.enabled && g.datacenter == o.datacenter &&
		g.acceptName == o.acceptName && slices.Equal(g.binds, o.binds) && g.settings.joinHostPort == o.settings.joinHostPort
}

// sameClusters reports whether every cluster of g and o has the same settings.
func (g *gatewayConfig) sameClusters(o *gatewayConfig) bool {
	return g.timeout == o.timeout && g.settings == o.settings
}

// readGateway reads the gateway-wide settings of s, deciding the version-dependent
// ones with p.
func readGateway(s *peering.State, p profile) gatewayConfig {
	g := gatewayConfig{timeout: defaultConnectTimeout, datacenter: s.Datacenter}
	g.settings.joinHostPort = p.on[featureJoinHostPort]
	gw := s.Gateway
	switch {
	case gw == nil:
		g.diags = append(g.diags, Diagnostic{Part: PartGateway, Input: "Gateway", Err: fmt.Errorf("%w; nothing generated", ErrNoGateway)})
		return g
	case gw.Kind != api.ServiceKindMeshGateway:
		g.diags = append(g.diags, Diagnostic{Part: PartGateway, Input: "Gateway.Kind", Err: fmt.Errorf("%w: kind %q; nothing generated", ErrNotMeshGateway, gw.Kind)})
		return g
	}
	g.listeners = true
	binds, opts, fetchErr := readBinds(s, p, &g.diags)
	g.binds, g.timeout = binds, opts.ConnectTimeout()
	g.settings = readClusterSettings(s, opts, fetchErr, p, &g.diags)
	if !peerThroughMeshGateways(s.MeshConfig) {
		input := "MeshConfig"
		if s.MeshConfig != nil {
			input = "MeshConfig.Peering.PeerThroughMeshGateways"
		}
		g.diags = append(g.diags, Diagnostic{Part: PartGateway, Input: input, Err: fmt.Errorf("%w; no peering resources generated", ErrPeeringNotEnabled)})
		return g
	}
	if !peering.IsDefaultPartition(gw.Partition) {
		g.diags = append(g.diags, Diagnostic{Part: PartGateway, Input: "Gateway.Partition", Err: fmt.Errorf("%w: %q; no peering resources generated", ErrNotDefaultPartition, gw.Partition)})
		return g
	}
	g.enabled = true
	switch {
	case s.Datacenter == "":
		g.diags = append(g.diags, Diagnostic{Part: PartCluster, Input: "Datacenter", Err: fmt.Errorf("%w; local servers not exposed to peers", ErrNoDatacenter)})
	case s.TrustDomain == "":
		g.diags = append(g.diags, Diagnostic{Part: PartCluster, Input: "TrustDomain", Err: fmt.Errorf("%w; local servers not exposed to peers", ErrNoTrustDomain)})
	default:
		g.acceptName = peering.ServerName(s.Datacenter, s.TrustDomain)
		if err := peering.CheckServerName(g.acceptName); err != nil {
			g.diags = append(g.diags, Diagnostic{Part: PartCluster, Input: "Datacenter, TrustDomain", Err: fmt.Errorf("%w; local servers not exposed to peers", err)})
			g.acceptName = ""
		}
	}
	return g
}

// readBinds reads the gateway's options and bind addresses; where an address is empty,
// the target version and the agent's bind address decide where it listens.
func readBinds(s *peering.State, p profile, diags *[]Diagnostic) ([]gateway.Bind, gateway.Options, error) {
	ds := dualStack(s.Agent.BindAddr)
	loopback := ipv4Loopback
	if p.on[featureDualStackLoopback] && ds {
		loopback = "::1"
	}
	binds, opts, fetchErr := gatewayOptions(s.Gateway, loopback, diags)
	if p.on[featureDualStackAny] && ds {
		binds = onIPv6Any(s.Gateway, opts, binds)
	}
	return binds, opts, fetchErr
}

// peerThroughMeshGateways reports whether the mesh entry turns the feature on.
func peerThroughMeshGateways(e *api.MeshConfigEntry) bool {
	return e != nil && e.Peering != nil && e.Peering.PeerThroughMeshGateways
}
