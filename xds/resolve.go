package xds

import (
	"slices"
	"strings"

	"github.com/peeringgw/peeringgw/peering"
)

// Resolve decides every Consul rule for s and returns what the gateway serves, and a
// diagnostic for every input it skipped or defaulted: gateway settings first, then
// servers, then peerings by key. It is a pure function of s: no I/O, deterministic, and
// it does not panic on any input. A nil State is an empty one.
//
// The rules, in short (the package documentation has them in full): the gateway gets a
// listener per bind address when it is a mesh gateway; peering resources only when the
// mesh entry sets PeerThroughMeshGateways and the gateway is in the default partition;
// the accept side's cluster holds the voting servers at their grpc_tls_port; each peer
// server name of a dialing peering gets one cluster, from the peering with the greatest
// ModifyIndex (the first listed on a tie), EDS for IP addresses and STRICT_DNS for
// hostnames. The target Consul version ([WithConsulVersion], else the State's agent,
// else [DefaultConsulVersion]) decides the version-dependent rules.
func Resolve(s *peering.State, opts ...BuildOption) (*Model, []Diagnostic) {
	r := resolver{opts: newBuildOptions(opts)}
	r.update(s, nil)
	return r.model, r.diagnostics()
}

// resolver resolves successive States of one gateway, deriving again only the peerings
// that changed and, when the set of peerings keeps its shape, updating the Model in
// place of building it anew. Whatever the sequence of States, its Model equals what
// Resolve gives for the last one, and the delta it records equals the difference of
// the two Models (diffModels).
type resolver struct {
	opts   buildOptions
	gw     gatewayConfig
	local  localServers
	cands  []*candidate // every peering, in list order
	sorted []*candidate // the usable candidates, by name then rank
	model  *Model
	slab   slab[candidate]
	epoch  uint64
}

// patchLimit is the share of changed peerings (1/patchLimit) above which an update
// builds the Model anew rather than patching it. Tests raise it to patch always.
var patchLimit = 8

// update resolves s and, when d is not nil, records in it what changed.
func (r *resolver) update(s *peering.State, d *delta) {
	if s == nil {
		s = &peering.State{} // no gateway: reported, and nothing is generated
	}
	prof, vdiags := decideProfile(&r.opts, s)
	gw := readGateway(s, prof)
	gw.diags = append(vdiags, gw.diags...)
	var list []peering.Peering
	local := localServers{}
	if gw.enabled {
		list = s.Peerings
		local = readServers(s.Servers)
	}
	if gw.acceptName == "" {
		local.voters, local.endpoints = false, nil
	}
	old := r.model
	rebuild := old == nil || !gw.sameListeners(&r.gw) || !gw.sameClusters(&r.gw)
	reuse := old != nil && gw.acceptName == r.gw.acceptName
	if !reuse {
		r.slab.reserve(len(list))
	}
	changes, kept := r.collect(list, gw.acceptName, reuse)
	r.gw, r.local = gw, local
	if rebuild || !kept || len(changes)*patchLimit > len(list) {
		r.sorted = usableSorted(r.cands)
		r.model = buildModel(gw, local, r.sorted)
		if d != nil {
			diffModels(old, r.model, d)
		}
		return
	}
	r.patch(changes, d)
}

// candidateChange is a candidate that replaces another: old is nil for a new peering,
// cur is nil for a peering removed.
type candidateChange struct{ old, cur *candidate }

// collect makes r.cands the candidates of list. With reuse, a peering whose inputs did
// not change keeps its candidate, found at the same position or else by key, and only
// the others are derived again. It returns the candidates replaced, added and removed,
// and whether the peerings kept keep their relative order (then the changes can patch
// the sorted candidates).
func (r *resolver) collect(list []peering.Peering, acceptName string, reuse bool) (changes []candidateChange, kept bool) {
	r.epoch++
	prev := r.cands
	cands := make([]*candidate, len(list))
	var byKey map[peeringKey]*candidate
	kept, last := true, -1
	off, taken := 0, 0 // list[i] is expected at prev[i+off]; taken counts prev's candidates kept
	free := func(j int, p *peering.Peering) bool {
		return j >= 0 && j < len(prev) && prev[j].epoch != r.epoch && prev[j].in.partition == p.Partition && prev[j].in.name == p.Name
	}
	for i := range list {
		p := &list[i]
		in := inputOf(p)
		var c *candidate
		j := i + off
		switch {
		case !reuse:
		case free(j, p):
			c = prev[j]
		case i+1 < len(list) && free(j, &list[i+1]): // list[i] is new
			off--
		case free(j+1, p): // prev[j] is gone
			off++
			c = prev[j+1]
		case taken == len(prev): // every earlier peering is kept: list[i] is new
		default:
			if byKey == nil {
				byKey = indexCandidates(prev)
			}
			if c = byKey[keyOf(p)]; c != nil && c.epoch == r.epoch {
				c = nil
			}
		}
		if c != nil {
			c.epoch = r.epoch
			kept = kept && c.order > last
			last = c.order
			taken++
		}
		if c == nil || !c.in.equal(&in) {
			n := newCandidate(&r.slab, p, i, acceptName)
			n.epoch = r.epoch
			changes = append(changes, candidateChange{old: c, cur: n})
			cands[i] = n
			continue
		}
		cands[i] = c
	}
	for _, c := range prev {
		if c.epoch != r.epoch {
			changes = append(changes, candidateChange{old: c})
		}
	}
	for i, c := range cands {
		c.order = i
	}
	r.cands = cands
	return changes, kept
}

// indexCandidates maps each key to its first candidate.
func indexCandidates(cands []*candidate) map[peeringKey]*candidate {
	m := make(map[peeringKey]*candidate, len(cands))
	for _, c := range cands {
		if _, dup := m[c.key]; !dup {
			m[c.key] = c
		}
	}
	return m
}

// usableSorted returns the usable candidates, sorted by name then rank.
func usableSorted(cands []*candidate) []*candidate {
	usable := make([]*candidate, 0, len(cands))
	for _, c := range cands {
		if c.ok {
			usable = append(usable, c)
		}
	}
	sortCandidates(usable)
	return usable
}

// buildModel makes the Model of a gateway from its settings, its local servers and its
// usable candidates sorted by name then rank.
func buildModel(gw gatewayConfig, local localServers, sorted []*candidate) *Model {
	m := &Model{Clusters: make([]Cluster, 0, len(sorted)+1)}
	accept, hasAccept := acceptCluster(gw, local)
	peers := make([]string, 0, len(sorted))
	for group := range groups(sorted) {
		c := peerCluster(gw, group[0])
		if hasAccept && accept.Name < c.Name {
			m.Clusters = append(m.Clusters, accept)
			hasAccept = false
		}
		m.Clusters = append(m.Clusters, c)
		peers = append(peers, c.Name)
	}
	if hasAccept {
		m.Clusters = append(m.Clusters, accept)
	}
	m.Listeners = listeners(gw, local, peers)
	return m
}

// acceptCluster returns the accept side's cluster: it exists when the gateway exposes
// its local servers and any of them is a voter.
func acceptCluster(gw gatewayConfig, local localServers) (Cluster, bool) {
	if gw.acceptName == "" || !local.voters {
		return Cluster{}, false
	}
	c := Cluster{Name: gw.acceptName, ConnectTimeout: gw.timeout, Endpoints: local.endpoints}
	gw.settings.apply(&c, true)
	return c, true
}

// peerCluster returns the cluster of a peer server name whose winning candidate is c.
func peerCluster(gw gatewayConfig, c *candidate) Cluster {
	t := &c.target
	cl := Cluster{Name: t.ServerName, DNS: t.Hostnames, ConnectTimeout: gw.timeout, Endpoints: t.Addresses}
	gw.settings.apply(&cl, false)
	return cl
}

// listeners makes one listener per bind address, sorted by name, each with the accept
// chain (when the accept cluster exists), the peer chains and the catch-all chain.
func listeners(gw gatewayConfig, local localServers, peers []string) []Listener {
	if !gw.listeners {
		return nil
	}
	_, hasAccept := acceptCluster(gw, local)
	ls := make([]Listener, 0, len(gw.binds))
	for _, b := range gw.binds {
		l := Listener{
			Name: listenerName(b, gw.settings.joinHostPort), Address: b.Address, Port: uint32(b.Port),
			Peers: peers, CatchAllStat: catchAllStatPrefix + statSafe(b.Name),
		}
		if hasAccept {
			l.Accept = gw.acceptName
			l.AcceptStat = acceptStatPrefix + statSafe(b.Name+"."+gw.datacenter)
		}
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(x, y Listener) int { return strings.Compare(x.Name, y.Name) })
	return ls
}

// diagnostics returns the diagnostics of the last update.
func (r *resolver) diagnostics() []Diagnostic {
	out := slices.Clone(r.gw.diags)
	out = append(out, r.local.diags...)
	return append(out, peerDiagnostics(r.cands)...)
}
