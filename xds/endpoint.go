package xds

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/peeringgw/peeringgw/peering"
)

// endpointBox holds the messages of one endpoint, so that they are allocated together.
type endpointBox struct {
	lb   endpointv3.LbEndpoint
	host endpointv3.LbEndpoint_Endpoint
	ep   endpointv3.Endpoint
	addr corev3.Address
	sock corev3.Address_SocketAddress
	sa   corev3.SocketAddress
	port corev3.SocketAddress_PortValue
}

// assignmentBox holds the messages of one ClusterLoadAssignment apart from its endpoints.
type assignmentBox struct {
	cla  endpointv3.ClusterLoadAssignment
	loc  endpointv3.LocalityLbEndpoints
	locs [1]*endpointv3.LocalityLbEndpoints
}

// assignment returns the ClusterLoadAssignment of cluster name: one locality holding one
// endpoint per address, in order, each with only a socket address (no health status,
// weight or locality), as Consul emits it.
func (a *arena) assignment(name string, addrs []peering.Address) *endpointv3.ClusterLoadAssignment {
	b := a.assignments.next()
	lbs := a.lbEndpoints.take(len(addrs))
	for i, addr := range addrs {
		e := a.endpoints.next()
		e.port.PortValue = addr.Port
		e.sa.Address = addr.Host
		e.sa.PortSpecifier = &e.port
		e.sock.SocketAddress = &e.sa
		e.addr.Address = &e.sock
		e.ep.Address = &e.addr
		e.host.Endpoint = &e.ep
		e.lb.HostIdentifier = &e.host
		lbs[i] = &e.lb
	}
	b.loc.LbEndpoints = lbs
	b.locs[0] = &b.loc
	b.cla.ClusterName = name
	b.cla.Endpoints = b.locs[:]
	return &b.cla
}
