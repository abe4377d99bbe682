package xds

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// ErrUnknownType is returned to an Envoy that asks for a resource type this server does
// not serve.
var ErrUnknownType = errors.New("xds: resource type not served")

// servedTypes are the resource types a gateway asks for. Routes and secrets stay empty:
// peering traffic is plain TCP proxying on SNI, with no HTTP routes and no TLS contexts.
var servedTypes = []resourcev3.Type{
	resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType,
	resourcev3.RouteType, resourcev3.SecretType,
}

// Server serves mesh gateways their resources over ADS, both state-of-the-world and
// delta (incremental), keeping one set of resources per gateway, keyed by the Envoy
// node ID (Consul uses the gateway's service ID).
//
// It is built on go-control-plane's server, with a cache of its own per gateway and
// type: an update costs each connected Envoy the resources it names, and a delta client
// receives only the resources whose content changed. Every version is a content hash,
// the state-of-the-world version of a type included, so replicas fed the same resources
// serve the same versions, and an Envoy that reconnects to another replica, with the
// versions it holds, receives nothing again. Resources are kept encoded; those of a
// Builder's changes are encoded when a response first carries them. A gateway that
// connects before its resources are set gets an empty set of clusters and listeners,
// then its resources as soon as they are set.
//
// Only the gateways it knows are served: those given with [WithGateways] or
// [Server.AddGateway], and those whose resources were set with [Server.SetResources] or
// [Server.Apply]. A stream that names another node ID is refused with NotFound before
// anything is allocated for it. Every stream is authorized in its first request (see
// [Authorizer]); without [WithAuthorizers] only clients whose verified TLS certificate
// names the gateway are let in.
type Server struct {
	xds  serverv3.Server
	opts serverOptions

	mu      sync.Mutex
	nodes   map[string]*nodeCache
	streams map[string]int // open, admitted streams by gateway
	total   int            // open streams, admitted or not
}

// nodeCache is one gateway's resources, one cache per type.
type nodeCache struct {
	byType map[resourcev3.Type]*typeCache
}

var _ cachev3.Cache = (*Server)(nil)

// ServerOption configures a [Server].
type ServerOption interface{ apply(*serverOptions) }

type serverOptions struct {
	callbacks    serverv3.Callbacks
	gateways     []string
	authorizers  []Authorizer
	onRefused    func(Refusal)
	reauthorize  time.Duration
	maxStreams   int
	maxPerGW     int
	sendTimeout  time.Duration
	firstRequest time.Duration
	tls          *tls.Config
	keepalive    *Keepalive
}

type serverOptionFunc func(*serverOptions)

func (f serverOptionFunc) apply(o *serverOptions) { f(o) }

// WithGateways makes the gateways ids known from the start, so that their Envoys may
// connect before their resources are set. The default is none: a gateway is known once
// its resources are set.
func WithGateways(ids ...string) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.gateways = append(o.gateways, ids...) })
}

// WithCallbacks sets go-control-plane callbacks, e.g. for metrics or logs of streams and
// requests. The default is none.
func WithCallbacks(cb serverv3.Callbacks) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.callbacks = cb })
}

// NewServer returns a Server that knows the gateways of [WithGateways], if any. ctx
// bounds the streams it serves. Its streams are authorized by [CertAuthorizer] unless
// [WithAuthorizers] says otherwise; tests that serve in-process without credentials pass
// WithAuthorizers([AllowAll]).
func NewServer(ctx context.Context, opts ...ServerOption) *Server {
	o := defaultServerOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}
	if len(o.authorizers) == 0 {
		o.authorizers = []Authorizer{CertAuthorizer{}}
	}
	s := &Server{opts: o, nodes: map[string]*nodeCache{}, streams: map[string]int{}}
	for _, id := range o.gateways {
		s.node(id)
	}
	s.xds = serverv3.NewServer(ctx, s, o.callbacks)
	return s
}

// Register registers the aggregated discovery service (ADS) and the cluster, endpoint
// and listener discovery services on g. Every stream they serve is checked by the
// Server: its node ID must be a known gateway, an [Authorizer] must allow it, and the
// stream limits must not be reached.
func (s *Server) Register(g *grpc.Server) { RegisterServices(g, guarded{Server: s.xds, s: s}) }

// AddGateway makes gateway nodeID known, so that its Envoys may connect before its
// resources are set; they get empty sets of clusters and listeners until then.
func (s *Server) AddGateway(nodeID string) { s.node(nodeID) }

// Gateways returns the node IDs of the gateways the Server knows, sorted.
func (s *Server) Gateways() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.nodes))
	for id := range s.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// RegisterServices registers the services a gateway uses, the aggregated discovery
// service (ADS) and the cluster, endpoint and listener discovery services, of a
// go-control-plane server x on g. It adds no authorization and no limits of its own:
// [Server.Register] does. A host that serves other nodes too makes x from a
// cachev3.MuxCache that routes the gateways' node IDs to a [Server] (a go-control-plane
// cache) and the rest to its own caches.
func RegisterServices(g *grpc.Server, x serverv3.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, x)
	clusterservice.RegisterClusterDiscoveryServiceServer(g, x)
	endpointservice.RegisterEndpointDiscoveryServiceServer(g, x)
	listenerservice.RegisterListenerDiscoveryServiceServer(g, x)
}

// SetResources replaces every resource of gateway nodeID; nil means none. It encodes
// every resource now, as its version is a hash of its encoding, and fails only if one
// cannot be encoded, and then changes nothing of that type.
func (s *Server) SetResources(nodeID string, r *Resources) error {
	if r == nil {
		r = &Resources{}
	}
	n := s.node(nodeID)
	var errs []error
	for typ, list := range r.ByType() {
		items := make([]item, len(list))
		for i, res := range list {
			items[i] = item{name: cachev3.GetResourceName(res), res: res}
		}
		if err := n.byType[typ].set(items); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Apply pushes the changes a [Builder] update returned for gateway nodeID. Types the
// changes do not touch are left alone, so their clients hear nothing. The resources
// carry the versions the Builder gave them, so the Server encodes each only when a
// response first carries it: a gateway whose Envoys already hold the current versions
// (another replica served them) costs no encoding. Changes made otherwise are encoded
// now, and Apply fails if one cannot be.
func (s *Server) Apply(nodeID string, ch Changes) error {
	n := s.node(nodeID)
	var errs []error
	update := func(typ resourcev3.Type, upd []item, del []string) {
		if len(upd) == 0 && len(del) == 0 {
			return
		}
		if err := n.byType[typ].update(upd, del); err != nil {
			errs = append(errs, fmt.Errorf("xds: update %s for %s: %w", typ, nodeID, err))
		}
	}
	update(resourcev3.ClusterType, items(ch.Clusters, ch.versions), ch.RemovedClusters)
	update(resourcev3.EndpointType, items(ch.Endpoints, ch.versions), ch.RemovedEndpoints)
	update(resourcev3.ListenerType, items(ch.Listeners, ch.versions), ch.RemovedListeners)
	return errors.Join(errs...)
}

// items returns the resources rs as items, with the versions a Builder gave them.
func items[R types.Resource](rs []R, versions changeVersions) []item {
	out := make([]item, len(rs))
	for i, r := range rs {
		out[i] = item{name: cachev3.GetResourceName(r), res: r}
		if v, ok := versions[r]; ok {
			out[i].version = versionString(v)
		}
	}
	return out
}

// Versions returns the version of each resource the Server holds for gateway nodeID, by
// type and name: what a delta xDS client that is current holds. None for a gateway the
// Server does not know.
func (s *Server) Versions(nodeID string) map[resourcev3.Type]map[string]string {
	out := map[resourcev3.Type]map[string]string{}
	n := s.lookup(nodeID)
	if n == nil {
		return out
	}
	for typ, c := range n.byType {
		out[typ] = c.versions()
	}
	return out
}

// Resources returns the resources currently served to gateway nodeID, each list
// sorted by name; none for a gateway the Server does not know. The Server keeps
// resources only as it sends them, encoded: each call decodes them into new messages,
// which the caller owns. It fails only if an encoding does not decode, which would be a
// bug of the Server.
func (s *Server) Resources(nodeID string) (*Resources, error) {
	r := &Resources{}
	n := s.lookup(nodeID)
	if n == nil {
		return r, nil
	}
	var err error
	r.Clusters, err = decodeAll[*clusterv3.Cluster](n.byType[resourcev3.ClusterType])
	if err != nil {
		return nil, err
	}
	r.Endpoints, err = decodeAll[*endpointv3.ClusterLoadAssignment](n.byType[resourcev3.EndpointType])
	if err != nil {
		return nil, err
	}
	r.Listeners, err = decodeAll[*listenerv3.Listener](n.byType[resourcev3.ListenerType])
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Forget drops gateway nodeID's resources, and the gateway: new streams that name it
// are refused until it is added again. Envoys still connected as that node keep
// their last configuration until they reconnect.
func (s *Server) Forget(nodeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.nodes, nodeID)
}

func (s *Server) node(id string) *nodeCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[id]
	if n == nil {
		n = &nodeCache{byType: make(map[resourcev3.Type]*typeCache, len(servedTypes))}
		for _, typ := range servedTypes {
			n.byType[typ] = newTypeCache(typ)
		}
		s.nodes[id] = n
	}
	return n
}

// lookup returns gateway id's caches, or nil for an unknown gateway; it never creates.
func (s *Server) lookup(id string) *nodeCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[id]
}

// known reports whether gateway id is served.
func (s *Server) known(id string) bool { return s.lookup(id) != nil }

func (s *Server) cacheFor(node, typ string) (*typeCache, error) {
	n := s.lookup(node)
	if n == nil {
		return nil, &StreamError{Code: codes.NotFound, NodeID: node, Err: ErrUnknownGateway}
	}
	c := n.byType[typ]
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, typ)
	}
	return c, nil
}

// CreateWatch implements go-control-plane's cache interface for state-of-the-world
// streams, routing each request to its gateway's cache.
func (s *Server) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	c, err := s.cacheFor(req.GetNode().GetId(), req.GetTypeUrl())
	if err != nil {
		return nil, err
	}
	return c.createSotw(req, sub, out), nil
}

// CreateDeltaWatch implements go-control-plane's cache interface for delta streams.
func (s *Server) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	c, err := s.cacheFor(req.GetNode().GetId(), req.GetTypeUrl())
	if err != nil {
		return nil, err
	}
	return c.createDelta(req, sub, out), nil
}

// ErrFetchNotServed is returned to a REST fetch: a gateway's Envoy uses streams.
var ErrFetchNotServed = errors.New("xds: REST fetch not served")

// Fetch implements go-control-plane's cache interface for REST fetches, which are not
// served.
func (s *Server) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, ErrFetchNotServed
}
