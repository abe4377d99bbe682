package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/internal/xdsclient"
)

// Run connects to the ADS server on conn with one delta stream and applies what it
// sends until ctx ends, the stream fails or the data plane closes. It subscribes to
// every cluster and every listener, and to the endpoints of every EDS cluster it holds,
// changing that subscription as clusters come and go. Each response is applied resource
// by resource, as Envoy does: valid resources take effect, and the response is ACKed if
// all were, otherwise NACKed with an error_detail naming every rejected resource (which
// keeps its previous version, if any).
//
// Run returns nil when ctx ends or the data plane closes, and the stream's error
// otherwise. The configuration stays in place; calling Run again resumes, sending the
// versions it holds so the server sends only changes and removals. Use either Run or
// [DataPlane.Apply], not both.
func (d *DataPlane) Run(ctx context.Context, conn grpc.ClientConnInterface) error {
	if d.isClosed() {
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(d.ctx, cancel)
	defer stop()
	c, err := xdsclient.Dial(ctx, conn, d.nodeID)
	if err != nil {
		return fmt.Errorf("dataplane: %w", err)
	}
	s := &stream{d: d, c: c, eds: map[string]bool{}}
	err = errors.Join(s.run(), c.Close())
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// stream is one delta ADS stream of [DataPlane.Run].
type stream struct {
	d *DataPlane
	c *xdsclient.Client
	// eds are the names subscribed to for endpoints; edsStarted is set once the first
	// endpoint request was sent (an empty first request would mean every resource).
	eds        map[string]bool
	edsStarted bool
}

func (s *stream) run() error {
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		sub := xdsclient.Subscription{TypeURL: typ, InitialVersions: s.d.heldVersions(typ, nil)}
		if err := s.c.Update(sub); err != nil {
			return fmt.Errorf("dataplane: %w", err)
		}
	}
	if err := s.syncEDS(); err != nil {
		return err
	}
	s.d.stats.set(1, "control_plane.connected_state")
	defer s.d.stats.set(0, "control_plane.connected_state")
	for {
		resp, err := s.c.Next()
		if err != nil {
			return fmt.Errorf("dataplane: %w", err)
		}
		if err := s.handle(resp); err != nil {
			return err
		}
	}
}

// handle applies one response, answers it and, after clusters changed, updates the
// endpoint subscription.
func (s *stream) handle(resp *discoveryv3.DeltaDiscoveryResponse) error {
	rejected := s.d.applyDelta(resp)
	var err error
	if rejected != nil {
		s.d.opts.logger.Warn("rejected", "type", resp.GetTypeUrl(), "error", rejected)
		err = s.c.Nack(resp, rejected)
	} else {
		err = s.c.Ack(resp)
	}
	if err != nil {
		return fmt.Errorf("dataplane: %w", err)
	}
	if resp.GetTypeUrl() == resourcev3.ClusterType {
		return s.syncEDS()
	}
	return nil
}

// syncEDS subscribes to the endpoints of new EDS clusters and unsubscribes from those of
// removed ones, forgetting their endpoints as Envoy does.
func (s *stream) syncEDS() error {
	want := s.d.edsClusters()
	var sub, unsub []string
	for _, name := range want {
		if !s.eds[name] {
			sub = append(sub, name)
		}
	}
	for name := range s.eds {
		if !slices.Contains(want, name) {
			unsub = append(unsub, name)
		}
	}
	if len(sub) == 0 && len(unsub) == 0 {
		return nil
	}
	slices.Sort(unsub)
	req := xdsclient.Subscription{TypeURL: resourcev3.EndpointType, Subscribe: sub, Unsubscribe: unsub}
	if !s.edsStarted {
		req.InitialVersions = s.d.heldVersions(resourcev3.EndpointType, want)
	}
	if err := s.c.Update(req); err != nil {
		return fmt.Errorf("dataplane: %w", err)
	}
	s.edsStarted = true
	for _, name := range sub {
		s.eds[name] = true
	}
	for _, name := range unsub {
		delete(s.eds, name)
	}
	s.d.update.Lock()
	defer s.d.update.Unlock()
	s.d.dropAssignments(unsub)
	s.d.setVersions(resourcev3.EndpointType, nil, unsub)
	return nil
}

// applyDelta applies one delta response and returns the rejections joined, or nil.
func (d *DataPlane) applyDelta(resp *discoveryv3.DeltaDiscoveryResponse) error {
	d.update.Lock()
	defer d.update.Unlock()
	switch typ := resp.GetTypeUrl(); typ {
	case resourcev3.ClusterType:
		b := decodeAll(typ, resp, compileCluster)
		d.putClusters(b.specs)
		d.dropClusters(resp.GetRemovedResources())
		return finish(d, b, resp, "cluster_manager.cds")
	case resourcev3.EndpointType:
		b := decodeAll(typ, resp, compileAssignment)
		d.putAssignments(b.specs)
		d.dropAssignments(resp.GetRemovedResources())
		d.countEDS(b, resp)
		return finish(d, b, resp, "")
	case resourcev3.ListenerType:
		b := decodeAll(typ, resp, compileListener)
		d.putListeners(d.bindAll(b))
		d.dropListeners(resp.GetRemovedResources())
		return finish(d, b, resp, "listener_manager.lds")
	default:
		return &ResourceError{TypeURL: typ, Err: notImplemented("type_url", "resource type %s", typ)}
	}
}

// finish records the versions of what b accepted and counts the update under stat, the
// subscription's Envoy stat prefix ("" for none).
func finish[S any](d *DataPlane, b *batch[S], resp *discoveryv3.DeltaDiscoveryResponse, stat string) error {
	d.setVersions(resp.GetTypeUrl(), b.versions, resp.GetRemovedResources())
	err := b.err()
	if stat != "" {
		d.stats.inc(stat, "update_attempt")
		if err != nil {
			d.stats.inc(stat, "update_rejected")
		} else {
			d.stats.inc(stat, "update_success")
		}
	}
	return err
}

// countEDS counts each ClusterLoadAssignment under its cluster's stats, as Envoy's
// per-cluster EDS subscriptions do.
func (d *DataPlane) countEDS(b *batch[[]netip.AddrPort], resp *discoveryv3.DeltaDiscoveryResponse) {
	for _, r := range resp.GetResources() {
		d.stats.inc("cluster", r.GetName(), "update_attempt")
		if _, ok := b.specs[r.GetName()]; ok {
			d.stats.inc("cluster", r.GetName(), "update_success")
		} else {
			d.stats.inc("cluster", r.GetName(), "update_rejected")
		}
	}
}

// decodeAll decodes and compiles every resource of a delta response.
func decodeAll[M any, P interface {
	*M
	proto.Message
	ValidateAll() error
}, S any](typ string, resp *discoveryv3.DeltaDiscoveryResponse, compile func(P) (S, error)) *batch[S] {
	b := newBatch[S](typ)
	for _, r := range resp.GetResources() {
		m, err := decode[M, P](typ, r)
		if err != nil {
			b.reject(r.GetName(), err)
			continue
		}
		add(b, r.GetName(), r.GetVersion(), resourceName(m), compile, m)
	}
	return b
}

// decode unpacks one resource of a delta response, rejecting wrapper fields (TTL,
// aliases, cache control, metadata) this data plane does not implement.
func decode[M any, P interface {
	*M
	proto.Message
}](typ string, r *discoveryv3.Resource) (P, error) {
	var errs []error
	if r.GetTtl() != nil || len(r.GetAliases()) > 0 || r.GetCacheControl() != nil || r.GetMetadata() != nil {
		errs = append(errs, notImplemented("resource", "ttl, aliases, cache_control or metadata"))
	}
	a := r.GetResource()
	if a.GetTypeUrl() != typ {
		errs = append(errs, invalid("resource", "type %q in a %s response", a.GetTypeUrl(), typ))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m := P(new(M))
	if err := a.UnmarshalTo(m); err != nil {
		return nil, invalid("resource", "%v", err)
	}
	return m, nil
}

// resourceName is the name a resource gives itself.
func resourceName(m proto.Message) string {
	switch r := m.(type) {
	case *clusterv3.Cluster:
		return r.GetName()
	case *endpointv3.ClusterLoadAssignment:
		return r.GetClusterName()
	case *listenerv3.Listener:
		return r.GetName()
	}
	return ""
}

// Versions returns the xDS version of each resource of type typ the data plane holds
// from its management server, by name: what it acknowledged last.
func (d *DataPlane) Versions(typ string) map[string]string {
	return d.heldVersions(typ, nil)
}

// heldVersions returns the xDS versions of the held resources of type typ, limited to
// names when names is not nil.
func (d *DataPlane) heldVersions(typ string, names []string) map[string]string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := map[string]string{}
	for name, v := range d.versions[typ] {
		if names == nil || slices.Contains(names, name) {
			out[name] = v
		}
	}
	return out
}

// setVersions records accepted versions and forgets removed resources.
func (d *DataPlane) setVersions(typ string, accepted map[string]string, removed []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.versions[typ]
	if m == nil {
		m = map[string]string{}
		d.versions[typ] = m
	}
	for name, v := range accepted {
		m[name] = v
	}
	for _, name := range removed {
		delete(m, name)
	}
}

// clearVersions forgets every xDS version: the configuration came from Apply.
func (d *DataPlane) clearVersions() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.versions)
}
