package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

// Where a gateway's WAN address comes from, in Consul's order of preference.
const (
	fromWANTag      = "its wan tagged address"
	fromService     = "its service address"
	fromNodeWAN     = "its node's wan tagged address"
	fromNodeAddress = "its node's address"
)

// taggedWAN is the tag of the address peers dial.
const taggedWAN = "wan"

// meshGateway is one mesh gateway instance of the catalog and the address peers dial.
type meshGateway struct {
	Entry *api.ServiceEntry
	// WAN is "host:port", the address an accepting cluster that peers through mesh
	// gateways puts in its tokens and sends over the peering stream.
	WAN       string
	WANHost   string
	WANSource string
}

// Name names the instance for messages: "mesh-gateway on node n1".
func (g meshGateway) Name() string {
	return fmt.Sprintf("%s on node %s", g.Entry.Service.ID, g.Entry.Node.Node)
}

// newMeshGateway computes the WAN address of a gateway instance as Consul does
// (CheckServiceNode.BestAddress(wan=true) in Consul 1.14): the "wan" tagged address, with
// its port when set, else the service address and port, else the node's "wan" tagged
// address, else the node's address.
func newMeshGateway(e *api.ServiceEntry) meshGateway {
	svc := e.Service
	host, port, source := svc.Address, svc.Port, fromService
	if wan, ok := svc.TaggedAddresses[taggedWAN]; ok {
		host, source = wan.Address, fromWANTag
		if wan.Port != 0 {
			port = wan.Port
		}
	}
	if host == "" && e.Node != nil {
		host, source = e.Node.Address, fromNodeAddress
		if wan, ok := e.Node.TaggedAddresses[taggedWAN]; ok {
			host, source = wan, fromNodeWAN
		}
	}
	return meshGateway{Entry: e, WAN: net.JoinHostPort(host, strconv.Itoa(port)), WANHost: host, WANSource: source}
}

// meshGatewayFilter selects mesh gateways in the catalog's service list.
const meshGatewayFilter = `ServiceKind == "mesh-gateway"`

// listMeshGateways returns every mesh gateway instance of the catalog (of the client's
// partition: the default one unless the token lives elsewhere), sorted by name, and
// whether ACLs hid some services from the token.
func listMeshGateways(ctx context.Context, client *api.Client) ([]meshGateway, bool, error) {
	q := (&api.QueryOptions{Filter: meshGatewayFilter}).WithContext(ctx)
	names, meta, err := client.Catalog().Services(q)
	if err != nil {
		return nil, false, fmt.Errorf("list mesh gateways: %w", err)
	}
	var gws []meshGateway
	for _, name := range sortedKeys(names) {
		entries, _, err := client.Health().Service(name, "", false, (&api.QueryOptions{}).WithContext(ctx))
		if err != nil {
			return nil, false, fmt.Errorf("list instances of mesh gateway %q: %w", name, err)
		}
		for _, e := range entries {
			if e.Service != nil && e.Service.Kind == api.ServiceKindMeshGateway {
				gws = append(gws, newMeshGateway(e))
			}
		}
	}
	slices.SortFunc(gws, func(a, b meshGateway) int {
		return strings.Compare(a.Name(), b.Name())
	})
	return gws, meta.ResultsFilteredByACLs, nil
}

// serverAddresses returns the addresses a token lists for servers when the cluster
// does not peer through mesh gateways (Consul 1.14 PeeringBackend.GetServerAddresses):
// the node's wan tagged address, else its address, with grpc_tls_port, else grpc_port.
// The LAN forms are added too, so that an address the servers published either way is
// recognised. Keys are "host:port", values the node name.
func serverAddresses(servers []*api.ServiceEntry) map[string]string {
	out := map[string]string{}
	for _, s := range servers {
		if s == nil || s.Node == nil || s.Service == nil {
			continue
		}
		hosts := []string{s.Node.Address, s.Service.Address, s.Node.TaggedAddresses[taggedWAN]}
		for _, key := range []string{"grpc_tls_port", "grpc_port"} {
			port, err := peering.ParsePort(s.Service.Meta[key])
			if err != nil {
				continue
			}
			for _, h := range hosts {
				if h != "" {
					out[net.JoinHostPort(h, strconv.Itoa(int(port)))] = s.Node.Node
				}
			}
		}
	}
	return out
}

// addressKind says what an address a peer dials is, in a cluster: one of its mesh
// gateways, one of its servers, or unknown to it.
type addressKind string

const (
	kindGateway addressKind = "gateway"
	kindServer  addressKind = "server"
	kindUnknown addressKind = "unknown"
)

// classified is one address and what it is.
type classified struct {
	Address string      `json:"address"`
	Kind    addressKind `json:"kind"`
	// Owner names the gateway instance or server node.
	Owner string `json:"owner,omitempty"`
}

// classify says, for each address, whether it is a WAN address of one of gws or a
// server address.
func classify(addrs []string, gws []meshGateway, servers map[string]string) []classified {
	out := make([]classified, 0, len(addrs))
	for _, a := range addrs {
		c := classified{Address: a, Kind: kindUnknown}
		if i := slices.IndexFunc(gws, func(g meshGateway) bool { return g.WAN == a }); i >= 0 {
			c.Kind, c.Owner = kindGateway, gws[i].Name()
		} else if node, ok := servers[a]; ok {
			c.Kind, c.Owner = kindServer, node
		}
		out = append(out, c)
	}
	return out
}

// verdict sums up classified addresses: "gateways" when all are gateways, "servers" when
// all are servers, "mixed" or "unknown" otherwise.
func verdict(cs []classified) string {
	count := map[addressKind]int{}
	for _, c := range cs {
		count[c.Kind]++
	}
	switch {
	case len(cs) == 0:
		return string(kindUnknown)
	case count[kindGateway] == len(cs):
		return "gateways"
	case count[kindServer] == len(cs):
		return "servers"
	case count[kindUnknown] == len(cs):
		return string(kindUnknown)
	}
	return "mixed"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
