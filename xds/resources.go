package xds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/peering"
)

// Resources are one gateway's Envoy resources for peering control-plane traffic, each
// list sorted by name. They are immutable: several resources may share sub-messages.
type Resources struct {
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Listeners []*listenerv3.Listener
}

// Build generates the resources for s and reports every input it skipped or defaulted:
// [Resolve] followed by [Translate]. It is a pure function of s: no I/O, deterministic
// output, and it does not panic on any input. Options choose the target Consul version
// ([WithConsulVersion]).
func Build(s *peering.State, opts ...BuildOption) (*Resources, []Diagnostic) {
	m, diags := Resolve(s, opts...)
	return Translate(m), diags
}

// ByType returns the resources keyed by type URL, the form go-control-plane's
// cache.NewSnapshot takes. Routes and secrets are present and empty: peering traffic
// needs none.
func (r *Resources) ByType() map[resourcev3.Type][]types.Resource {
	m := map[resourcev3.Type][]types.Resource{
		resourcev3.ClusterType:  make([]types.Resource, 0, len(r.Clusters)),
		resourcev3.EndpointType: make([]types.Resource, 0, len(r.Endpoints)),
		resourcev3.ListenerType: make([]types.Resource, 0, len(r.Listeners)),
		resourcev3.RouteType:    {},
		resourcev3.SecretType:   {},
	}
	for _, c := range r.Clusters {
		m[resourcev3.ClusterType] = append(m[resourcev3.ClusterType], c)
	}
	for _, e := range r.Endpoints {
		m[resourcev3.EndpointType] = append(m[resourcev3.EndpointType], e)
	}
	for _, l := range r.Listeners {
		m[resourcev3.ListenerType] = append(m[resourcev3.ListenerType], l)
	}
	return m
}

// Validate runs Envoy's own field constraints (protoc-gen-validate ValidateAll) on every
// resource and joins the failures, each naming its resource.
func (r *Resources) Validate() error {
	var errs []error
	for _, c := range r.Clusters {
		if err := c.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("xds: cluster %q: %w", c.Name, err))
		}
	}
	for _, e := range r.Endpoints {
		if err := e.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("xds: endpoints %q: %w", e.ClusterName, err))
		}
	}
	for _, l := range r.Listeners {
		if err := l.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("xds: listener %q: %w", l.Name, err))
		}
	}
	return errors.Join(errs...)
}

// MarshalJSON writes the resource dump: {"clusters": [...], "endpoints": [...],
// "listeners": [...]}, each element the protojson form of one resource, indented two
// spaces. The output is byte-for-byte stable for equal resources.
func (r *Resources) MarshalJSON() ([]byte, error) {
	var dump struct {
		Clusters  []json.RawMessage `json:"clusters"`
		Endpoints []json.RawMessage `json:"endpoints"`
		Listeners []json.RawMessage `json:"listeners"`
	}
	var err error
	if dump.Clusters, err = marshalAll(r.Clusters); err != nil {
		return nil, err
	}
	if dump.Endpoints, err = marshalAll(r.Endpoints); err != nil {
		return nil, err
	}
	if dump.Listeners, err = marshalAll(r.Listeners); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(dump, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("xds: %w", err)
	}
	return out, nil
}

func marshalAll[M proto.Message](ms []M) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(ms))
	for _, m := range ms {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("xds: %w", err)
		}
		out = append(out, bytes.TrimSpace(b))
	}
	return out, nil
}
