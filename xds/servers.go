package xds

import (
	"errors"
	"fmt"
	"net"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

// localServers is what the accept side needs from the server list.
type localServers struct {
	// voters reports whether any server is a voter: then the cluster and its chain
	// exist, even when no voter has a usable grpc_tls_port (as in Consul).
	voters    bool
	endpoints []peering.Address
	diags     []Diagnostic
}

// readServers picks the endpoints of the accept cluster: every voter (read_replica is
// not exactly "true") at its LAN address (service address, else node address) and its
// grpc_tls_port, in list order. WAN addresses and grpc_port are never used.
func readServers(servers []*api.ServiceEntry) localServers {
	var l localServers
	for i, s := range servers {
		if s == nil || s.Service == nil {
			l.diags = append(l.diags, Diagnostic{Part: PartServers, Input: fmt.Sprintf("Servers[%d]", i), Err: errors.New("xds: no Service; server skipped")})
			continue
		}
		if !peering.IsVoter(s) {
			continue
		}
		l.voters = true
		a, err := serverEndpoint(s)
		if err != nil {
			l.diags = append(l.diags, Diagnostic{Part: PartServers, Input: serverInput(i, s), Err: err})
			continue
		}
		l.endpoints = append(l.endpoints, a)
	}
	return l
}

func serverEndpoint(s *api.ServiceEntry) (peering.Address, error) {
	raw, ok := s.Service.Meta[peering.MetaGRPCTLSPort]
	if !ok {
		return peering.Address{}, fmt.Errorf("%w; peers cannot reach this server, skipped", ErrMissingGRPCTLSPort)
	}
	port, err := peering.ParsePort(raw)
	if err != nil {
		return peering.Address{}, fmt.Errorf("%s: %w; server skipped", peering.MetaGRPCTLSPort, err)
	}
	host := s.Service.Address
	if host == "" && s.Node != nil {
		host = s.Node.Address
	}
	switch {
	case host == "":
		return peering.Address{}, fmt.Errorf("%w; server skipped", ErrNoServerAddress)
	case net.ParseIP(host) == nil:
		return peering.Address{}, fmt.Errorf("%w: %q; server skipped", ErrHostnameServer, host)
	}
	return peering.Address{Host: host, Port: port}, nil
}

func serverInput(i int, s *api.ServiceEntry) string {
	if s.Node != nil && s.Node.Node != "" {
		return fmt.Sprintf("Servers[%d] (node %s)", i, s.Node.Node)
	}
	return fmt.Sprintf("Servers[%d]", i)
}
