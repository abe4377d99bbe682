package xdsclient

import (
	"context"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
)

// Client is one delta ADS stream.
type Client struct {
	node   *corev3.Node
	stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
}

// Dial opens a delta ADS stream on conn as Envoy node nodeID.
func Dial(ctx context.Context, conn grpc.ClientConnInterface, nodeID string) (*Client, error) {
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("xdsclient: open stream: %w", err)
	}
	return &Client{node: &corev3.Node{Id: nodeID}, stream: stream}, nil
}

// Subscribe asks for resources of type typeURL: the named ones, or every one (wildcard)
// when names is empty.
func (c *Client) Subscribe(typeURL string, names ...string) error {
	req := &discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: typeURL, ResourceNamesSubscribe: names}
	if err := c.stream.Send(req); err != nil {
		return fmt.Errorf("xdsclient: subscribe %s: %w", typeURL, err)
	}
	return nil
}

// Recv waits for the next response, acknowledges it and returns it.
func (c *Client) Recv() (*discoveryv3.DeltaDiscoveryResponse, error) {
	resp, err := c.stream.Recv()
	if err != nil {
		return nil, fmt.Errorf("xdsclient: receive: %w", err)
	}
	ack := &discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}
	if err := c.stream.Send(ack); err != nil {
		return nil, fmt.Errorf("xdsclient: ack: %w", err)
	}
	return resp, nil
}

// Close ends the stream.
func (c *Client) Close() error { return c.stream.CloseSend() }
