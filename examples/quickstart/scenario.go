package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
)

//go:embed scenario.json
var defaultScenario []byte

// scenario is two clusters that peer: one accepts, one dials.
type scenario struct {
	Accepting cluster
	Dialing   cluster
}

// cluster is what the quickstart needs to know about one Consul cluster.
type cluster struct {
	Datacenter  string
	TrustDomain string
	Gateway     gatewaySpec
	Servers     []server
	// PeerName is the local name of the peering with the other cluster.
	PeerName string
}

type gatewaySpec struct {
	Address string
	Port    int
	WAN     api.ServiceAddress
}

type server struct {
	Node        string
	Address     string
	GRPCTLSPort int
}

func parseScenario(data []byte) (*scenario, error) {
	var s scenario
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	var errs []error
	for _, c := range []*cluster{&s.Accepting, &s.Dialing} {
		if c.Datacenter == "" || c.TrustDomain == "" || c.PeerName == "" {
			errs = append(errs, fmt.Errorf("scenario: cluster %q needs Datacenter, TrustDomain and PeerName", c.Datacenter))
		}
		if err := c.registration().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("scenario: gateway of %s: %w", c.Datacenter, err))
		}
	}
	return &s, errors.Join(errs...)
}

// registration is the cluster's mesh gateway registration.
func (c *cluster) registration() gateway.Registration {
	wan := c.Gateway.WAN
	return gateway.Registration{
		Address: c.Gateway.Address,
		Port:    c.Gateway.Port,
		WAN:     &wan,
	}
}

// serverName is the name the cluster's servers answer to for peering traffic.
func (c *cluster) serverName() string {
	return peering.ServerName(c.Datacenter, c.TrustDomain)
}

// tokenAddresses are the addresses a token of this accepting cluster carries when it
// peers through mesh gateways: its gateway's WAN address.
func (c *cluster) tokenAddresses() []string {
	return []string{net.JoinHostPort(c.Gateway.WAN.Address, strconv.Itoa(c.Gateway.WAN.Port))}
}

// state is what the cluster's gateway sees once the peering is established: the dialing
// side has the acceptor's gateway addresses from the token, the accepting side none.
func (c *cluster) state(peer *cluster, dialing bool) (*peering.State, error) {
	reg, err := c.registration().Build()
	if err != nil {
		return nil, err
	}
	s := &peering.State{
		Datacenter:  c.Datacenter,
		TrustDomain: c.TrustDomain,
		Gateway: &api.AgentService{
			Kind: reg.Kind, ID: reg.ID, Service: reg.Name, Address: reg.Address, Port: reg.Port,
			TaggedAddresses: reg.TaggedAddresses,
		},
		MeshConfig: meshconfig.New(true),
	}
	for _, srv := range c.Servers {
		s.Servers = append(s.Servers, &api.ServiceEntry{
			Node: &api.Node{Node: srv.Node, Address: srv.Address, Datacenter: c.Datacenter},
			Service: &api.AgentService{ID: "consul", Service: "consul",
				Meta: map[string]string{"grpc_tls_port": strconv.Itoa(srv.GRPCTLSPort)}},
		})
	}
	p := api.Peering{Name: c.PeerName, State: api.PeeringStateActive, ModifyIndex: 10}
	if dialing {
		p.PeerServerName = peer.serverName()
		p.PeerServerAddresses = peer.tokenAddresses()
	}
	s.Peerings = []peering.Peering{{Peering: p}}
	return s, nil
}
