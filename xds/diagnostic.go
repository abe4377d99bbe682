package xds

import (
	"errors"
	"fmt"
)

// Causes of the diagnostics [Build] reports. Each [Diagnostic] wraps one of these (or an
// error of the peering or gateway package), so callers can test them with errors.Is.
var (
	// ErrNoGateway: the State has no gateway service; nothing is generated.
	ErrNoGateway = errors.New("xds: no gateway service")
	// ErrNotMeshGateway: the gateway service is not of kind mesh-gateway.
	ErrNotMeshGateway = errors.New("xds: gateway service is not a mesh gateway")
	// ErrPeeringNotEnabled: there is no mesh config entry, or it does not set
	// Peering.PeerThroughMeshGateways; the gateway gets its listeners with only the
	// catch-all chain, and no peering resources.
	ErrPeeringNotEnabled = errors.New("xds: peering through mesh gateways is not enabled")
	// ErrNotDefaultPartition: peering control-plane traffic goes only through gateways
	// in the default partition; a gateway elsewhere gets no peering resources.
	ErrNotDefaultPartition = errors.New("xds: gateway is not in the default partition")
	// ErrMissingGRPCTLSPort: a server publishes no grpc_tls_port, so peers cannot reach it.
	ErrMissingGRPCTLSPort = errors.New("xds: server has no grpc_tls_port")
	// ErrNoServerAddress: a server has neither a service nor a node address.
	ErrNoServerAddress = errors.New("xds: server has no address")
	// ErrNoTrustDomain: the trust domain is unknown, so the local servers' name is too.
	ErrNoTrustDomain = errors.New("xds: no trust domain")
	// ErrNoDatacenter: the datacenter is unknown, so the local servers' name is too.
	ErrNoDatacenter = errors.New("xds: no datacenter")
	// ErrBadConnectTimeout: connect_timeout_ms could not be read; the default is used.
	ErrBadConnectTimeout = errors.New("xds: bad connect_timeout_ms")
	// ErrHostnameServer: a server's address is a hostname; EDS endpoints must be IP
	// literals.
	ErrHostnameServer = errors.New("xds: server address is not an IP literal")
	// ErrBadFetchTimeout: xds_fetch_timeout_ms could not be read; Envoy's default is used.
	ErrBadFetchTimeout = errors.New("xds: bad xds_fetch_timeout_ms")
	// ErrBadLimits: the gateway's service-defaults entry has upstream limits that
	// cannot apply (a negative or too large value, or an entry of another service);
	// the limit, or the entry, is ignored.
	ErrBadLimits = errors.New("xds: bad upstream limits")
	// ErrPeerIsLocal: a peering's server name is the local servers' own name; routing it
	// to the peer would shadow the local accept side, so the peering is skipped.
	ErrPeerIsLocal = errors.New("xds: peer server name is the local server name")
)

// Part names the part of a State a [Diagnostic] is about.
type Part int

// The parts of a State.
const (
	// PartGateway: the gateway service, its Proxy.Config options and the mesh entry.
	PartGateway Part = iota + 1
	// PartCluster: the cluster's identity, Datacenter and TrustDomain.
	PartCluster
	// PartServers: the local servers.
	PartServers
	// PartPeerings: the peerings.
	PartPeerings
)

// String returns "gateway", "cluster", "servers" or "peerings".
func (p Part) String() string {
	switch p {
	case PartGateway:
		return "gateway"
	case PartCluster:
		return "cluster"
	case PartServers:
		return "servers"
	case PartPeerings:
		return "peerings"
	}
	return fmt.Sprintf("Part(%d)", int(p))
}

// Diagnostic reports one input that generation skipped or replaced by a default.
type Diagnostic struct {
	// Part is the part of the State the input belongs to.
	Part Part
	// Input names the input, in the State's JSON terms, e.g.
	// "Servers[2] (node node3)" or "Gateway.Proxy.Config.connect_timeout_ms".
	Input string
	// Err says what was wrong and what was done; it wraps an errors.Is-able cause.
	Err error
}

// Error implements error.
func (d Diagnostic) Error() string { return fmt.Sprintf("%s: %v", d.Input, d.Err) }

// Unwrap returns the cause.
func (d Diagnostic) Unwrap() error { return d.Err }
