package peering

import "github.com/hashicorp/consul/api"

// Peering is one peering as a mesh gateway sees it: Consul's peering object, exactly as
// GET /v1/peerings returns it, plus ManualServerAddresses.
//
// ManualServerAddresses is not part of Consul's HTTP API. A host program that learns a
// peer's addresses elsewhere may set it; when it is non-empty it takes precedence over
// PeerServerAddresses, as it does inside Consul.
type Peering struct {
	api.Peering
	ManualServerAddresses []string `json:",omitempty"`
}

// Dialing reports whether this cluster dials the peer, that is whether it knows any
// address of the peer's servers. Only dialing peerings need a route through the gateway;
// an accepting peering has no addresses.
func (p *Peering) Dialing() bool {
	return len(p.ManualServerAddresses) > 0 || len(p.PeerServerAddresses) > 0
}

// Addresses returns the peer server addresses a dialer uses: ManualServerAddresses when
// set, otherwise PeerServerAddresses.
func (p *Peering) Addresses() []string {
	if len(p.ManualServerAddresses) > 0 {
		return p.ManualServerAddresses
	}
	return p.PeerServerAddresses
}

// Key returns the name that identifies the peering within its cluster:
// "<partition>/<name>", with an empty partition read as "default".
func (p *Peering) Key() string {
	part := p.Partition
	if part == "" {
		part = "default"
	}
	return part + "/" + p.Name
}
