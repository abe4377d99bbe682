package xds_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// The incremental property: a Builder fed any sequence of States holds, after every
// update, what Build gives for that State; the Changes it returned, applied in order,
// reproduce its Resources and name only resources whose content changed; and its
// Version is the one a new Builder gives for the same State.

// op is one change of the State a Builder is fed: a whole new State, one peering set
// (replaced in place, or added), or one peering removed.
type op struct {
	set       *peering.State   // a new State
	peering   *peering.Peering // one peering set
	partition string           // one peering removed, with name
	name      string
}

func (o op) String() string {
	switch {
	case o.set != nil:
		return "Set(" + describeState(o.set) + ")"
	case o.peering != nil:
		return "set peering " + describePeering(*o.peering)
	}
	return fmt.Sprintf("remove peering %q/%q", o.partition, o.name)
}

func describeOps(ops []op) string {
	var b strings.Builder
	for _, o := range ops {
		b.WriteString("  " + o.String() + "\n")
	}
	return b.String()
}

// randomOps returns a random update sequence that starts with a Set. Some Sets keep the
// servers and peerings of the State so far and change only the gateway settings.
func randomOps(r *rand.Rand, steps int) []op {
	var ops []op
	var last *peering.State
	for range steps {
		switch n := r.IntN(10); {
		case last == nil || n < 2:
			s := randomState(r, true)
			if last != nil && n == 1 {
				s.Servers, s.Peerings = last.Servers, last.Peerings
			}
			last = s
			ops = append(ops, op{set: s})
		case n < 4:
			ops = append(ops, op{partition: pick(r, propPartitions...), name: pick(r, propPeeringNames...)})
		default:
			p := randomPeering(r)
			ops = append(ops, op{peering: &p})
		}
	}
	return ops
}

// incremental drives a Builder and tracks the equivalent full State and the resources a
// client that applied every returned Changes would hold.
type incremental struct {
	b     *xds.Builder
	state *peering.State
	// applied holds the resources named in the Changes so far, encoded when they were
	// handed out (so that a later in-place change would show).
	applied wire
	// last is the previous Resources and its encoding: handed-out resources must not
	// change afterwards.
	last     *xds.Resources
	lastWire wire
}

// wire is resources by type (clusters, endpoints, listeners) and name, each in
// deterministic protobuf encoding, with the names in the order given.
type wire struct {
	byName [3]map[string][]byte
	order  [3][]string
}

func newWire() wire { return wire{byName: [3]map[string][]byte{{}, {}, {}}} }

func (w *wire) put(typ int, m proto.Message) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	name := resourceName(m)
	w.byName[typ][name] = b
	w.order[typ] = append(w.order[typ], name)
	return nil
}

// equal reports whether w and o hold the same resources, and, with order, in the same
// order.
func (w wire) equal(o wire, order bool) bool {
	for typ := range w.byName {
		if order && !slices.Equal(w.order[typ], o.order[typ]) {
			return false
		}
		if len(w.byName[typ]) != len(o.byName[typ]) {
			return false
		}
		for name, b := range w.byName[typ] {
			if ob, ok := o.byName[typ][name]; !ok || !bytes.Equal(b, ob) {
				return false
			}
		}
	}
	return true
}

// names returns the names of w's resources by type, sorted.
func (w wire) names() [3][]string {
	var out [3][]string
	for typ, m := range w.byName {
		out[typ] = slices.Sorted(maps.Keys(m))
	}
	return out
}

func wireOf(res *xds.Resources) (wire, error) {
	w := newWire()
	for _, m := range messages(res.Clusters, res.Endpoints, res.Listeners) {
		if err := w.put(m.typ, m.msg); err != nil {
			return w, err
		}
	}
	return w, nil
}

type typedMessage struct {
	typ int
	msg proto.Message
}

func messages(cs []*clusterv3.Cluster, es []*endpointv3.ClusterLoadAssignment, ls []*listenerv3.Listener) []typedMessage {
	var out []typedMessage
	for _, c := range cs {
		out = append(out, typedMessage{0, c})
	}
	for _, e := range es {
		out = append(out, typedMessage{1, e})
	}
	for _, l := range ls {
		out = append(out, typedMessage{2, l})
	}
	return out
}

// replay feeds a new Builder the States ops lead to and checks it after each; ops
// before the first whole State are ignored.
func replay(ops []op) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	inc := &incremental{b: xds.NewBuilder(), applied: newWire()}
	for i, o := range ops {
		switch {
		case o.set != nil:
			inc.state = o.set
		case inc.state == nil:
			continue
		case o.peering != nil:
			inc.setPeering(*o.peering)
		default:
			inc.removePeering(o.partition, o.name)
		}
		ch := inc.b.Set(inc.state)
		if err := inc.check(ch); err != nil {
			return fmt.Errorf("after update %d: %w", i, err)
		}
	}
	return nil
}

// shrinkOps returns a smaller sequence that still fails: it drops updates, then
// peerings, servers, addresses and gateway settings, while the failure persists.
func shrinkOps(ops []op) []op {
	fails := func(c []op) bool { return replay(c) != nil }
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(ops); i++ {
			if c := slices.Delete(slices.Clone(ops), i, i+1); fails(c) {
				ops, changed = c, true
				i--
			}
		}
		for i := range ops {
			for _, simpler := range simplerOps(ops[i]) {
				c := slices.Clone(ops)
				c[i] = simpler
				if fails(c) {
					ops, changed = c, true
					break
				}
			}
		}
	}
	return ops
}

// shrinkState returns a smaller State for which fails still holds.
func shrinkState(s *peering.State, fails func(*peering.State) bool) *peering.State {
	for changed := true; changed; {
		changed = false
		for _, o := range simplerOps(op{set: s}) {
			if fails(o.set) {
				s, changed = o.set, true
				break
			}
		}
	}
	return s
}

// simplerOps returns variants of o with one thing taken away.
func simplerOps(o op) []op {
	var out []op
	switch {
	case o.set != nil:
		s := o.set
		for i := range s.Peerings {
			c := *s
			c.Peerings = slices.Delete(slices.Clone(s.Peerings), i, i+1)
			out = append(out, op{set: &c})
			for _, p := range simplerPeerings(s.Peerings[i]) {
				c := *s
				c.Peerings = slices.Clone(s.Peerings)
				c.Peerings[i] = p
				out = append(out, op{set: &c})
			}
		}
		for i := range s.Servers {
			c := *s
			c.Servers = slices.Delete(slices.Clone(s.Servers), i, i+1)
			out = append(out, op{set: &c})
		}
		if gw := s.Gateway; gw != nil && (gw.Proxy != nil || gw.TaggedAddresses != nil || gw.Partition != "") {
			c, g := *s, *gw
			g.Proxy, g.TaggedAddresses, g.Partition = nil, nil, ""
			c.Gateway = &g
			out = append(out, op{set: &c})
		}
	case o.peering != nil:
		for _, p := range simplerPeerings(*o.peering) {
			out = append(out, op{peering: &p})
		}
	}
	return out
}

func simplerPeerings(p peering.Peering) []peering.Peering {
	var out []peering.Peering
	for i := range p.PeerServerAddresses {
		c := p
		c.PeerServerAddresses = slices.Delete(slices.Clone(p.PeerServerAddresses), i, i+1)
		out = append(out, c)
	}
	if p.ManualServerAddresses != nil {
		c := p
		c.ManualServerAddresses = nil
		out = append(out, c)
	}
	return out
}

func describeState(s *peering.State) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("dc=%q td=%q", s.Datacenter, s.TrustDomain))
	if gw := s.Gateway; gw != nil {
		g := fmt.Sprintf("gateway{kind=%s addr=%q port=%d partition=%q", gw.Kind, gw.Address, gw.Port, gw.Partition)
		if len(gw.TaggedAddresses) > 0 {
			g += fmt.Sprintf(" tagged=%v", gw.TaggedAddresses)
		}
		if gw.Proxy != nil && len(gw.Proxy.Config) > 0 {
			g += fmt.Sprintf(" config=%v", gw.Proxy.Config)
		}
		parts = append(parts, g+"}")
	}
	parts = append(parts, fmt.Sprintf("flag=%v", s.MeshConfig != nil && s.MeshConfig.Peering != nil && s.MeshConfig.Peering.PeerThroughMeshGateways))
	for _, e := range s.Servers {
		if e == nil || e.Service == nil {
			parts = append(parts, "server{nil}")
			continue
		}
		node := ""
		if e.Node != nil {
			node = e.Node.Address
		}
		parts = append(parts, fmt.Sprintf("server{node=%q svc=%q meta=%v}", node, e.Service.Address, e.Service.Meta))
	}
	for _, p := range s.Peerings {
		parts = append(parts, describePeering(p))
	}
	return strings.Join(parts, " ")
}

func describePeering(p peering.Peering) string {
	d := fmt.Sprintf("peering{%s idx=%d name=%q addrs=%q", p.Key(), p.ModifyIndex, p.PeerServerName, p.PeerServerAddresses)
	if p.ManualServerAddresses != nil {
		d += fmt.Sprintf(" manual=%q", p.ManualServerAddresses)
	}
	return d + "}"
}

// setPeering replaces the peering with p's key in place, or appends p.
func (inc *incremental) setPeering(p peering.Peering) {
	s := *inc.state
	s.Peerings = slices.Clone(s.Peerings)
	i := slices.IndexFunc(s.Peerings, func(q peering.Peering) bool { return q.Key() == p.Key() })
	if i >= 0 {
		s.Peerings[i] = p
	} else {
		s.Peerings = append(s.Peerings, p)
	}
	inc.state = &s
}

func (inc *incremental) removePeering(partition, name string) {
	key := (&peering.Peering{Peering: api.Peering{Partition: partition, Name: name}}).Key()
	s := *inc.state
	s.Peerings = slices.DeleteFunc(slices.Clone(s.Peerings), func(q peering.Peering) bool { return q.Key() == key })
	inc.state = &s
}

// check compares the Builder with Build of the equivalent State, and the applied
// Changes with the Builder's Resources.
func (inc *incremental) check(ch xds.Changes) error {
	got := inc.b.Resources()
	gotWire, err := wireOf(got)
	if err != nil {
		return err
	}
	want, wantDiags := xds.Build(inc.state)
	wantWire, err := wireOf(want)
	if err != nil {
		return err
	}
	if !gotWire.equal(wantWire, true) {
		gotJSON, err1 := json.Marshal(got)
		wantJSON, err2 := json.Marshal(want)
		return errors.Join(err1, err2, fmt.Errorf("Builder resources differ from Build of the same State:\nbuilder: %s\nbuild:   %s", gotJSON, wantJSON))
	}
	if a, b := diagnosticLines(inc.b.Diagnostics()), diagnosticLines(wantDiags); a != b {
		return fmt.Errorf("Builder diagnostics differ from Build's:\nbuilder:\n%sbuild:\n%s", a, b)
	}
	if inc.last != nil {
		again, err := wireOf(inc.last)
		if err != nil {
			return err
		}
		if !again.equal(inc.lastWire, true) {
			return fmt.Errorf("resources handed out earlier changed")
		}
	}
	if err := inc.onlyChanged(ch); err != nil {
		return err
	}
	fresh := xds.NewBuilder()
	fresh.Set(inc.state)
	if a, b := inc.b.Version(), fresh.Version(); a != b {
		return fmt.Errorf("Builder version %s, a new Builder's for the same State %s", a, b)
	}
	inc.last, inc.lastWire = got, gotWire
	if err := inc.apply(ch); err != nil {
		return err
	}
	if !gotWire.equal(inc.applied, false) {
		return fmt.Errorf("applied Changes differ from Resources:\nresources: %v\napplied:   %v", gotWire.names(), inc.applied.names())
	}
	return nil
}

// onlyChanged checks that ch upserts only resources that are new or whose content
// changed, and removes only resources that existed.
func (inc *incremental) onlyChanged(ch xds.Changes) error {
	for _, m := range messages(ch.Clusters, ch.Endpoints, ch.Listeners) {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.msg)
		if err != nil {
			return err
		}
		if old, ok := inc.applied.byName[m.typ][resourceName(m.msg)]; ok && bytes.Equal(old, b) {
			return fmt.Errorf("Changes upsert %q, which did not change: %v", resourceName(m.msg), changeNames(ch))
		}
	}
	removals := [3][]string{ch.RemovedClusters, ch.RemovedEndpoints, ch.RemovedListeners}
	for typ, names := range removals {
		for _, name := range names {
			if _, ok := inc.applied.byName[typ][name]; !ok {
				return fmt.Errorf("Changes remove %q, which did not exist: %v", name, changeNames(ch))
			}
		}
	}
	return nil
}

// apply applies ch the way go-control-plane's LinearCache.UpdateResources does: the
// upserts, then the removals. A name must not be in both lists of a type.
func (inc *incremental) apply(ch xds.Changes) error {
	upserted := [3]map[string]bool{{}, {}, {}}
	for _, m := range messages(ch.Clusters, ch.Endpoints, ch.Listeners) {
		if err := inc.applied.put(m.typ, m.msg); err != nil {
			return err
		}
		upserted[m.typ][resourceName(m.msg)] = true
	}
	removals := [3][]string{ch.RemovedClusters, ch.RemovedEndpoints, ch.RemovedListeners}
	for typ, names := range removals {
		for _, name := range names {
			if upserted[typ][name] {
				return fmt.Errorf("Changes both upserts and removes %q: %v", name, changeNames(ch))
			}
			delete(inc.applied.byName[typ], name)
		}
	}
	return nil
}

func resourceName(m proto.Message) string {
	switch r := m.(type) {
	case *clusterv3.Cluster:
		return r.Name
	case *endpointv3.ClusterLoadAssignment:
		return r.ClusterName
	case *listenerv3.Listener:
		return r.Name
	}
	return ""
}

// changeNames summarises ch by resource name, for messages.
func changeNames(ch xds.Changes) map[string][]string {
	out := map[string][]string{"RemovedClusters": ch.RemovedClusters, "RemovedEndpoints": ch.RemovedEndpoints, "RemovedListeners": ch.RemovedListeners}
	for _, c := range ch.Clusters {
		out["Clusters"] = append(out["Clusters"], c.Name)
	}
	for _, e := range ch.Endpoints {
		out["Endpoints"] = append(out["Endpoints"], e.ClusterName)
	}
	for _, l := range ch.Listeners {
		out["Listeners"] = append(out["Listeners"], l.Name)
	}
	return out
}

// TestBuilderRenames replays States that move a name between the accept side and a
// peer, and a peering that turns from acceptor to dialer keeping its place in the list.
func TestBuilderRenames(t *testing.T) {
	local := func(dc string, servers []*api.ServiceEntry, ps ...peering.Peering) *peering.State {
		return &peering.State{
			Datacenter: dc, TrustDomain: propTrustDomain,
			Gateway:    &api.AgentService{Kind: api.ServiceKindMeshGateway, Address: "1.2.3.4", Port: 8443},
			MeshConfig: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
			Servers:    servers,
			Peerings:   ps,
		}
	}
	voter := []*api.ServiceEntry{{
		Node:    &api.Node{Node: "node1", Address: "10.0.0.1"},
		Service: &api.AgentService{Service: "consul", Meta: map[string]string{"grpc_tls_port": "8503"}},
	}}
	dialer := func(name, serverName string, addrs ...string) peering.Peering {
		return peering.Peering{Peering: api.Peering{Name: name, ModifyIndex: 1, PeerServerName: serverName, PeerServerAddresses: addrs}}
	}
	dc2Peer := dialer("to-dc2", "server.dc2.peering."+propTrustDomain, "10.20.0.1:8443")
	tests := []struct {
		name string
		ops  []op
	}{
		{
			// The accept side takes the name of a peer that is then skipped as local.
			name: "local servers renamed to a peer's name",
			ops:  []op{{set: local("dc1", voter, dc2Peer)}, {set: local("dc2", voter, dc2Peer)}},
		},
		{
			name: "local servers renamed away from a peer's name",
			ops:  []op{{set: local("dc2", voter, dc2Peer)}, {set: local("dc1", voter, dc2Peer)}},
		},
		{
			// "first" is listed first; once it dials, it wins the ModifyIndex tie.
			name: "acceptor turned dialer keeps its place",
			ops: []op{
				{set: local("dc1", nil, dialer("first", "server.dc3.peering.td-three"), dialer("second", "server.dc3.peering.td-three", "10.30.0.2:8443"))},
				{peering: new(dialer("first", "server.dc3.peering.td-three", "10.30.0.1:8443"))},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, replay(tt.ops))
		})
	}
}
