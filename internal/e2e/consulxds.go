package e2e

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

// envoyVersion is the Envoy release the xDS stream to Consul claims to be. Consul 1.14
// supports Envoy 1.21 to 1.24 and picks the features it generates from this version
// (agent/xds/envoy_versioning.go); without a version it assumes the newest.
var envoyVersion = &typev3.SemanticVersion{MajorNumber: 1, MinorNumber: 24, Patch: 12}

// consulTokenKey is the gRPC metadata key that carries the ACL token to Consul's xDS
// server (agent/grpc-external QueryOptionsFromContext).
const consulTokenKey = "x-consul-token"

// ConsulXDS is what Consul's own xDS server serves one gateway, kept current from one
// delta ADS stream opened as the gateway's Envoy opens it: node ID the gateway's service
// ID, user agent "envoy" with a 1.24 build version, and the gateway's ACL token in the
// request metadata. Consul 1.14 speaks delta xDS only.
type ConsulXDS struct {
	mu        sync.Mutex
	resources map[string]map[string]*anypb.Any // type URL → name → resource
	responses int
	err       error
}

// WatchConsulXDS subscribes, as gateway nodeID, to every cluster, endpoint and listener
// that the Consul agent whose plaintext gRPC port is grpcAddr serves, sending token
// when it is not empty. It acknowledges every response and keeps the resources current
// until the test ends.
func WatchConsulXDS(t testing.TB, grpcAddr, nodeID, token string) *ConsulXDS {
	t.Helper()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("e2e: connect to Consul's xDS server at %s: %v", grpcAddr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, consulTokenKey, token)
	}
	c := &ConsulXDS{resources: map[string]map[string]*anypb.Any{}}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		if err := conn.Close(); err != nil {
			t.Errorf("e2e: close connection to Consul's xDS server: %v", err)
		}
	})
	client, err := subscribeAll(ctx, conn, envoyNode(nodeID))
	if err != nil {
		close(done)
		t.Fatalf("e2e: subscribe to Consul's xDS server at %s: %v", grpcAddr, err)
	}
	go func() {
		defer close(done)
		c.receive(ctx, client)
	}()
	return c
}

// subscribeAll opens a delta stream and subscribes to every cluster, endpoint and
// listener, in the order Envoy does.
func subscribeAll(ctx context.Context, conn grpc.ClientConnInterface, node *corev3.Node) (*xdsclient.Client, error) {
	client, err := xdsclient.DialNode(ctx, conn, node)
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType} {
		if err := client.Subscribe(typ); err != nil {
			return nil, fmt.Errorf("e2e: %w", err)
		}
	}
	return client, nil
}

// receive applies and acknowledges responses until the stream ends.
func (c *ConsulXDS) receive(ctx context.Context, client *xdsclient.Client) {
	for {
		resp, err := client.Next()
		if err == nil {
			c.apply(resp)
			err = client.Ack(resp)
		}
		if err != nil {
			if ctx.Err() == nil {
				c.fail(err)
			}
			return
		}
	}
}

func (c *ConsulXDS) apply(resp *discoveryv3.DeltaDiscoveryResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byName := c.resources[resp.GetTypeUrl()]
	if byName == nil {
		byName = map[string]*anypb.Any{}
		c.resources[resp.GetTypeUrl()] = byName
	}
	for _, r := range resp.GetResources() {
		byName[r.GetName()] = r.GetResource()
	}
	for _, name := range resp.GetRemovedResources() {
		delete(byName, name)
	}
	c.responses++
}

func (c *ConsulXDS) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// Err returns why the stream ended, or nil while it runs.
func (c *ConsulXDS) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Responses returns how many responses Consul has sent.
func (c *ConsulXDS) Responses() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.responses
}

// Resources returns the clusters, endpoints and listeners Consul serves now, each list
// sorted by name. Routes and secrets are not subscribed to: peering traffic uses none.
func (c *ConsulXDS) Resources() (*xds.Resources, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		r    xds.Resources
		errs []error
	)
	for name, a := range sorted(c.resources[resourcev3.ClusterType]) {
		m := &clusterv3.Cluster{}
		errs = append(errs, unmarshal(a, m, name))
		r.Clusters = append(r.Clusters, m)
	}
	for name, a := range sorted(c.resources[resourcev3.EndpointType]) {
		m := &endpointv3.ClusterLoadAssignment{}
		errs = append(errs, unmarshal(a, m, name))
		r.Endpoints = append(r.Endpoints, m)
	}
	for name, a := range sorted(c.resources[resourcev3.ListenerType]) {
		m := &listenerv3.Listener{}
		errs = append(errs, unmarshal(a, m, name))
		r.Listeners = append(r.Listeners, m)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &r, nil
}

func unmarshal(a *anypb.Any, m proto.Message, name string) error {
	if err := a.UnmarshalTo(m); err != nil {
		return fmt.Errorf("e2e: decode %s from Consul: %w", name, err)
	}
	return nil
}

// sorted yields the entries of m in name order.
func sorted(m map[string]*anypb.Any) iter.Seq2[string, *anypb.Any] {
	return func(yield func(string, *anypb.Any) bool) {
		for _, name := range slices.Sorted(maps.Keys(m)) {
			if !yield(name, m[name]) {
				return
			}
		}
	}
}

// envoyNode is the node an Envoy 1.24 build identifies itself with.
func envoyNode(id string) *corev3.Node {
	return &corev3.Node{
		Id:            id,
		UserAgentName: "envoy",
		UserAgentVersionType: &corev3.Node_UserAgentBuildVersion{
			UserAgentBuildVersion: &corev3.BuildVersion{Version: envoyVersion},
		},
	}
}
