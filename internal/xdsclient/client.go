package xdsclient

import (
	"context"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// Client is one delta ADS stream. Its methods must be called from one goroutine.
type Client struct {
	node   *corev3.Node
	stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
}

// Subscription is a change to the resources of one type the client receives, sent as
// one DeltaDiscoveryRequest.
type Subscription struct {
	// TypeURL is the resource type, e.g. resourcev3.ClusterType.
	TypeURL string
	// Subscribe names resources to add. In the first request of a type, no names means
	// every resource (wildcard).
	Subscribe []string
	// Unsubscribe names resources to drop.
	Unsubscribe []string
	// InitialVersions are the versions of resources the client already holds, by name;
	// only meaningful in the first request of a type on a stream. The server then sends
	// only what changed, and removals of what it no longer has.
	InitialVersions map[string]string
}

// Dial opens a delta ADS stream on conn as Envoy node nodeID.
func Dial(ctx context.Context, conn grpc.ClientConnInterface, nodeID string) (*Client, error) {
	return DialNode(ctx, conn, &corev3.Node{Id: nodeID})
}

// DialNode opens a delta ADS stream on conn as node, which every request carries: a
// server may need more than the ID, e.g. the user agent and build version Consul reads
// to pick the Envoy features it uses.
func DialNode(ctx context.Context, conn grpc.ClientConnInterface, node *corev3.Node) (*Client, error) {
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("xdsclient: open stream: %w", err)
	}
	return &Client{node: node, stream: stream}, nil
}

// Subscribe asks for resources of type typeURL: the named ones, or every one (wildcard)
// when names is empty.
func (c *Client) Subscribe(typeURL string, names ...string) error {
	return c.Update(Subscription{TypeURL: typeURL, Subscribe: names})
}

// Update sends a subscription change.
func (c *Client) Update(s Subscription) error {
	req := &discoveryv3.DeltaDiscoveryRequest{
		Node:                     c.node,
		TypeUrl:                  s.TypeURL,
		ResourceNamesSubscribe:   s.Subscribe,
		ResourceNamesUnsubscribe: s.Unsubscribe,
		InitialResourceVersions:  s.InitialVersions,
	}
	if err := c.stream.Send(req); err != nil {
		return fmt.Errorf("xdsclient: subscribe %s: %w", s.TypeURL, err)
	}
	return nil
}

// Recv waits for the next response, acknowledges it and returns it.
func (c *Client) Recv() (*discoveryv3.DeltaDiscoveryResponse, error) {
	resp, err := c.Next()
	if err != nil {
		return nil, err
	}
	if err := c.Ack(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Next waits for the next response and returns it without acknowledging it: the caller
// answers with [Client.Ack] or [Client.Nack].
func (c *Client) Next() (*discoveryv3.DeltaDiscoveryResponse, error) {
	resp, err := c.stream.Recv()
	if err != nil {
		return nil, fmt.Errorf("xdsclient: receive: %w", err)
	}
	return resp, nil
}

// Ack accepts resp.
func (c *Client) Ack(resp *discoveryv3.DeltaDiscoveryResponse) error {
	return c.reply(resp, nil)
}

// Nack rejects resp, sending cause as the request's error_detail with code INTERNAL,
// the code Envoy uses.
func (c *Client) Nack(resp *discoveryv3.DeltaDiscoveryResponse, cause error) error {
	return c.reply(resp, &statuspb.Status{Code: int32(codes.Internal), Message: cause.Error()})
}

func (c *Client) reply(resp *discoveryv3.DeltaDiscoveryResponse, detail *statuspb.Status) error {
	req := &discoveryv3.DeltaDiscoveryRequest{
		Node:          c.node,
		TypeUrl:       resp.GetTypeUrl(),
		ResponseNonce: resp.GetNonce(),
		ErrorDetail:   detail,
	}
	if err := c.stream.Send(req); err != nil {
		what := "ack"
		if detail != nil {
			what = "nack"
		}
		return fmt.Errorf("xdsclient: %s: %w", what, err)
	}
	return nil
}

// Close ends the stream.
func (c *Client) Close() error {
	if err := c.stream.CloseSend(); err != nil {
		return fmt.Errorf("xdsclient: close: %w", err)
	}
	return nil
}
