package xds

import (
	"context"
	"errors"
	"fmt"
	"sync"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
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
// It is built on go-control-plane's server and one LinearCache per gateway and type, so
// an update touches only the resources it names, and a delta client receives only the
// resources whose content changed: resource versions are content hashes. A gateway that
// connects before its resources are set gets an empty set of clusters and listeners, then
// its resources as soon as they are set.
type Server struct {
	xds serverv3.Server

	mu    sync.Mutex
	nodes map[string]*nodeCache
}

// nodeCache is one gateway's resources, one linear cache per type.
type nodeCache struct {
	byType map[resourcev3.Type]*cachev3.LinearCache
}

var _ cachev3.Cache = (*Server)(nil)

// ServerOption configures a [Server].
type ServerOption interface{ apply(*serverOptions) }

type serverOptions struct {
	callbacks serverv3.Callbacks
}

type serverOptionFunc func(*serverOptions)

func (f serverOptionFunc) apply(o *serverOptions) { f(o) }

// WithCallbacks sets go-control-plane callbacks, e.g. for metrics or logs of streams and
// requests. The default is none.
func WithCallbacks(cb serverv3.Callbacks) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.callbacks = cb })
}

// NewServer returns a Server with no gateways. ctx bounds the streams it serves.
func NewServer(ctx context.Context, opts ...ServerOption) *Server {
	var o serverOptions
	for _, opt := range opts {
		opt.apply(&o)
	}
	s := &Server{nodes: map[string]*nodeCache{}}
	s.xds = serverv3.NewServer(ctx, s, o.callbacks)
	return s
}

// Register registers the aggregated discovery service (ADS) and the cluster, endpoint
// and listener discovery services on g.
func (s *Server) Register(g *grpc.Server) { RegisterServices(g, s.xds) }

// RegisterServices registers the services a gateway uses, the aggregated discovery
// service (ADS) and the cluster, endpoint and listener discovery services, of a
// go-control-plane server x on g. A host that serves other nodes too makes x from a
// cachev3.MuxCache that routes the gateways' node IDs to a [Server] (a go-control-plane
// cache) and the rest to its own caches.
func RegisterServices(g *grpc.Server, x serverv3.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, x)
	clusterservice.RegisterClusterDiscoveryServiceServer(g, x)
	endpointservice.RegisterEndpointDiscoveryServiceServer(g, x)
	listenerservice.RegisterListenerDiscoveryServiceServer(g, x)
}

// SetResources replaces every resource of gateway nodeID; nil means none.
func (s *Server) SetResources(nodeID string, r *Resources) {
	if r == nil {
		r = &Resources{}
	}
	n := s.node(nodeID)
	for typ, list := range r.ByType() {
		m := make(map[string]types.Resource, len(list))
		for _, res := range list {
			m[cachev3.GetResourceName(res)] = res
		}
		n.byType[typ].SetResources(m)
	}
}

// Apply pushes the changes a [Builder] update returned for gateway nodeID. Types the
// changes do not touch are left alone, so their clients hear nothing.
func (s *Server) Apply(nodeID string, ch Changes) error {
	n := s.node(nodeID)
	var errs []error
	update := func(typ resourcev3.Type, upd map[string]types.Resource, del []string) {
		if len(upd) == 0 && len(del) == 0 {
			return
		}
		if err := n.byType[typ].UpdateResources(upd, del); err != nil {
			errs = append(errs, fmt.Errorf("xds: update %s for %s: %w", typ, nodeID, err))
		}
	}
	update(resourcev3.ClusterType, named(ch.Clusters), ch.RemovedClusters)
	update(resourcev3.EndpointType, named(ch.Endpoints), ch.RemovedEndpoints)
	update(resourcev3.ListenerType, named(ch.Listeners), ch.RemovedListeners)
	return errors.Join(errs...)
}

func named[R types.Resource](rs []R) map[string]types.Resource {
	if len(rs) == 0 {
		return nil
	}
	m := make(map[string]types.Resource, len(rs))
	for _, r := range rs {
		m[cachev3.GetResourceName(r)] = r
	}
	return m
}

// Resources returns the resources currently served to gateway nodeID, by type.
func (s *Server) Resources(nodeID string) map[resourcev3.Type]map[string]types.Resource {
	n := s.node(nodeID)
	out := make(map[resourcev3.Type]map[string]types.Resource, len(n.byType))
	for typ, c := range n.byType {
		out[typ] = c.GetResources()
	}
	return out
}

// Forget drops gateway nodeID's resources. Envoys still connected as that node keep
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
		n = &nodeCache{byType: make(map[resourcev3.Type]*cachev3.LinearCache, len(servedTypes))}
		for _, typ := range servedTypes {
			n.byType[typ] = cachev3.NewLinearCache(typ)
		}
		s.nodes[id] = n
	}
	return n
}

func (s *Server) cacheFor(node, typ string) (*cachev3.LinearCache, error) {
	c := s.node(node).byType[typ]
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
	return c.CreateWatch(req, sub, out)
}

// CreateDeltaWatch implements go-control-plane's cache interface for delta streams.
func (s *Server) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	c, err := s.cacheFor(req.GetNode().GetId(), req.GetTypeUrl())
	if err != nil {
		return nil, err
	}
	return c.CreateDeltaWatch(req, sub, out)
}

// Fetch implements go-control-plane's cache interface for REST fetches.
func (s *Server) Fetch(ctx context.Context, req *cachev3.Request) (cachev3.Response, error) {
	c, err := s.cacheFor(req.GetNode().GetId(), req.GetTypeUrl())
	if err != nil {
		return nil, err
	}
	return c.Fetch(ctx, req)
}
