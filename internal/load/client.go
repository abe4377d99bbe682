package load

import (
	"context"
	"errors"
	"fmt"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/peeringgw/peeringgw/internal/xdsclient"
)

// Subscription says which resources a gateway client asks for.
type Subscription int

const (
	// Full is what a mesh gateway's Envoy asks for: every cluster, then the endpoints
	// of every EDS cluster, then every listener.
	Full Subscription = iota
	// Watched asks for every cluster and listener but only the endpoints of
	// [Gateway.Watch], which keeps the initial sync of many clients small.
	Watched
)

// String returns "full" or "watched".
func (s Subscription) String() string {
	switch s {
	case Full:
		return "full"
	case Watched:
		return "watched"
	}
	return fmt.Sprintf("Subscription(%d)", int(s))
}

// ParseSubscription parses the String form of a Subscription.
func ParseSubscription(s string) (Subscription, error) {
	for _, sub := range []Subscription{Full, Watched} {
		if s == sub.String() {
			return sub, nil
		}
	}
	return 0, fmt.Errorf("%w: subscription %q, want full or watched", ErrBadConfig, s)
}

// ErrBadConfig is wrapped by the errors of a client or fleet configured wrongly.
var ErrBadConfig = errors.New("load: bad configuration")

// ErrUnexpected is wrapped when a server answers what a gateway did not ask for.
var ErrUnexpected = errors.New("load: unexpected response")

// Gateway is one client that behaves like a mesh gateway's Envoy: it subscribes to
// clusters, the endpoints of its EDS clusters and listeners, in that order, and
// acknowledges every response.
type Gateway struct {
	// NodeID is the Envoy node ID it connects as.
	NodeID string
	// Subscription says which endpoints it asks for.
	Subscription Subscription
	// Watch names the cluster whose endpoints it keeps in [Holdings.Watched].
	Watch string
	// OnSynced, when set, is called once the client has acknowledged its first response
	// of every type.
	OnSynced func() `json:"-"`
}

// Holdings is what a client received. Resources are counted as received, except that
// a state-of-the-world response of clusters or listeners replaces the previous one
// (those types are sent whole).
type Holdings struct {
	// Responses is the number of responses received, all acknowledged.
	Responses int
	// Clusters, Endpoints and Listeners count the resources of each type.
	Clusters, Endpoints, Listeners int
	// Removed counts the resources the server said were removed (delta only).
	Removed int
	// Watched is the last ClusterLoadAssignment received for Gateway.Watch.
	Watched *endpointv3.ClusterLoadAssignment
}

// holder is the state of one client: what it holds and what it is waiting for.
type holder struct {
	gw     Gateway
	h      Holdings
	seen   map[string]bool // types whose first response was acknowledged
	synced bool
}

func newHolder(gw Gateway) *holder { return &holder{gw: gw, seen: map[string]bool{}} }

// take accounts for one response of typeURL whose resources are given by name and
// wire form, and returns the names of the EDS clusters among them when they are
// clusters. whole says that the response replaces every resource of its type, as a
// state-of-the-world response of clusters or listeners does.
func (h *holder) take(typeURL string, names []string, values [][]byte, whole bool) ([]string, error) {
	h.h.Responses++
	var eds []string
	switch typeURL {
	case resourcev3.ClusterType:
		if whole {
			h.h.Clusters = 0
		}
		h.h.Clusters += len(values)
		for i, v := range values {
			if isEDS(v) {
				eds = append(eds, names[i])
			}
		}
	case resourcev3.EndpointType:
		h.h.Endpoints += len(values)
		if i := slices.Index(names, h.gw.Watch); i >= 0 {
			cla := &endpointv3.ClusterLoadAssignment{}
			if err := proto.Unmarshal(values[i], cla); err != nil {
				return nil, fmt.Errorf("load: endpoints of %s: %w", h.gw.Watch, err)
			}
			h.h.Watched = cla
		}
	case resourcev3.ListenerType:
		if whole {
			h.h.Listeners = 0
		}
		h.h.Listeners += len(values)
	default:
		return nil, fmt.Errorf("%w: type %s", ErrUnexpected, typeURL)
	}
	return eds, nil
}

// acked records that the response of typeURL was acknowledged, and calls OnSynced
// once every type has been.
func (h *holder) acked(typeURL string) {
	h.seen[typeURL] = true
	if !h.synced && len(h.seen) == 3 {
		h.synced = true
		if h.gw.OnSynced != nil {
			h.gw.OnSynced()
		}
	}
}

// endpointNames returns the endpoints to ask for, given the EDS clusters.
func (h *holder) endpointNames(eds []string) []string {
	if h.gw.Subscription == Watched {
		return []string{h.gw.Watch}
	}
	return eds
}

// RunDelta runs the gateway over a delta ADS stream on conn until ctx ends, and
// returns what it received. Its error is nil when ctx ended it.
func (gw Gateway) RunDelta(ctx context.Context, conn grpc.ClientConnInterface) (Holdings, error) {
	h := newHolder(gw)
	c, err := xdsclient.Dial(ctx, conn, gw.NodeID)
	if err != nil {
		return h.h, ended(ctx, err)
	}
	if err := c.Subscribe(resourcev3.ClusterType); err != nil {
		return h.h, ended(ctx, err)
	}
	for {
		resp, err := c.Next()
		if err != nil {
			return h.h, ended(ctx, err)
		}
		names, values := make([]string, len(resp.GetResources())), make([][]byte, len(resp.GetResources()))
		for i, r := range resp.GetResources() {
			names[i], values[i] = r.GetName(), r.GetResource().GetValue()
		}
		h.h.Removed += len(resp.GetRemovedResources())
		eds, err := h.take(resp.GetTypeUrl(), names, values, false)
		if err != nil {
			return h.h, err
		}
		if err := c.Ack(resp); err != nil {
			return h.h, ended(ctx, err)
		}
		if err := gw.next(h, resp.GetTypeUrl(), eds, func(typ string, names []string) error {
			return c.Subscribe(typ, names...)
		}); err != nil {
			return h.h, ended(ctx, err)
		}
	}
}

// next acknowledges the response of typ and sends the subscription that follows the
// first response of each type: endpoints after clusters, listeners after endpoints.
func (gw Gateway) next(h *holder, typ string, eds []string, subscribe func(string, []string) error) error {
	first := !h.seen[typ]
	h.acked(typ)
	if !first {
		return nil
	}
	switch typ {
	case resourcev3.ClusterType:
		return subscribe(resourcev3.EndpointType, h.endpointNames(eds))
	case resourcev3.EndpointType:
		return subscribe(resourcev3.ListenerType, nil)
	}
	return nil
}

// RunSotW runs the gateway over a state-of-the-world ADS stream on conn until ctx
// ends, and returns what it received. Its error is nil when ctx ended it.
func (gw Gateway) RunSotW(ctx context.Context, conn grpc.ClientConnInterface) (Holdings, error) {
	h := newHolder(gw)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return h.h, ended(ctx, fmt.Errorf("load: open stream: %w", err))
	}
	node := &corev3.Node{Id: gw.NodeID}
	// names are the resources asked for by type; a state-of-the-world request repeats them.
	names := map[string][]string{}
	send := func(typ, version, nonce string) error {
		req := &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ, VersionInfo: version,
			ResponseNonce: nonce, ResourceNames: names[typ]}
		if err := stream.Send(req); err != nil {
			return fmt.Errorf("load: send %s request: %w", typ, err)
		}
		return nil
	}
	if err := send(resourcev3.ClusterType, "", ""); err != nil {
		return h.h, ended(ctx, err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return h.h, ended(ctx, fmt.Errorf("load: receive: %w", err))
		}
		typ := resp.GetTypeUrl()
		rnames, values, err := anyNames(resp.GetResources())
		if err != nil {
			return h.h, err
		}
		eds, err := h.take(typ, rnames, values, typ != resourcev3.EndpointType)
		if err != nil {
			return h.h, err
		}
		if err := send(typ, resp.GetVersionInfo(), resp.GetNonce()); err != nil {
			return h.h, ended(ctx, err)
		}
		if err := gw.next(h, typ, eds, func(typ string, n []string) error {
			names[typ] = n
			return send(typ, "", "")
		}); err != nil {
			return h.h, ended(ctx, err)
		}
	}
}

// ended returns err, or nil when ctx has ended: err is then the stream's end that the
// caller asked for.
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// anyNames returns the names and wire forms of resources.
func anyNames(resources []*anypb.Any) ([]string, [][]byte, error) {
	names, values := make([]string, len(resources)), make([][]byte, len(resources))
	for i, r := range resources {
		name, err := ResourceName(r.GetValue())
		if err != nil {
			return nil, nil, err
		}
		names[i], values[i] = name, r.GetValue()
	}
	return names, values, nil
}

// ResourceName returns the name of a Cluster, ClusterLoadAssignment or Listener from
// its wire form without decoding the rest: field 1 of each (name, cluster_name, name).
// A client of thousands of resources can then find one without decoding them all.
func ResourceName(b []byte) (string, error) {
	name, _, err := scan(b, 1)
	return name, err
}

// isEDS reports whether the wire form of a Cluster has type EDS.
func isEDS(b []byte) bool {
	_, typ, err := scan(b, 2)
	return err == nil && typ == uint64(clusterv3.Cluster_EDS)
}

// scan reads the top-level fields of a message's wire form and returns the last
// string of field 1 and the last varint of field want.
func scan(b []byte, want protowire.Number) (string, uint64, error) {
	var name string
	var v uint64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", 0, fmt.Errorf("%w: resource: %w", ErrUnexpected, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, m := protowire.ConsumeString(b)
			if m < 0 {
				return "", 0, fmt.Errorf("%w: resource name: %w", ErrUnexpected, protowire.ParseError(m))
			}
			name, n = s, m
		case num == want && typ == protowire.VarintType:
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return "", 0, fmt.Errorf("%w: resource field %d: %w", ErrUnexpected, want, protowire.ParseError(m))
			}
			v, n = x, m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return "", 0, fmt.Errorf("%w: resource field %d: %w", ErrUnexpected, num, protowire.ParseError(n))
			}
		}
		b = b[n:]
	}
	return name, v, nil
}
