package dataplane

import (
	"fmt"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	sniclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_cluster/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// implemented lists, for every message type the data plane reads, the fields it
// executes. Any other field that is set, in any message, is rejected with
// [ErrNotImplemented]; so is every message type not listed, including the payload of an
// Any. This table is the whole of the subset: doc.go describes it in prose.
var implemented = fieldTable(
	fields(&listenerv3.Listener{}, "name", "address", "filter_chains", "listener_filters"),
	fields(&corev3.Address{}, "socket_address"),
	fields(&corev3.SocketAddress{}, "address", "port_value"),
	fields(&listenerv3.ListenerFilter{}, "name", "typed_config"),
	fields(&listenerv3.FilterChain{}, "filter_chain_match", "filters"),
	fields(&listenerv3.FilterChainMatch{}, "server_names"),
	fields(&listenerv3.Filter{}, "name", "typed_config"),
	fields(&tlsinspectorv3.TlsInspector{}),
	fields(&sniclusterv3.SniCluster{}),
	fields(&tcpproxyv3.TcpProxy{}, "stat_prefix", "cluster"),
	fields(&clusterv3.Cluster{}, "name", "type", "eds_cluster_config", "connect_timeout",
		"load_assignment", "dns_refresh_rate", "dns_lookup_family", "outlier_detection", "circuit_breakers"),
	fields(&clusterv3.CircuitBreakers{}, "thresholds"),
	fields(&clusterv3.CircuitBreakers_Thresholds{}, "max_connections", "max_pending_requests", "max_requests"),
	fields(&wrapperspb.UInt32Value{}, "value"),
	fields(&clusterv3.Cluster_EdsClusterConfig{}, "eds_config"),
	fields(&corev3.ConfigSource{}, "ads", "resource_api_version", "initial_fetch_timeout"),
	fields(&corev3.AggregatedConfigSource{}),
	fields(&clusterv3.OutlierDetection{}),
	fields(&endpointv3.ClusterLoadAssignment{}, "cluster_name", "endpoints"),
	fields(&endpointv3.LocalityLbEndpoints{}, "lb_endpoints"),
	fields(&endpointv3.LbEndpoint{}, "endpoint"),
	fields(&endpointv3.Endpoint{}, "address"),
	fields(&durationpb.Duration{}, "seconds", "nanos"),
)

type messageFields struct {
	name   protoreflect.FullName
	fields map[protoreflect.Name]bool
}

func fields(m proto.Message, names ...protoreflect.Name) messageFields {
	set := make(map[protoreflect.Name]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return messageFields{name: m.ProtoReflect().Descriptor().FullName(), fields: set}
}

func fieldTable(ms ...messageFields) map[protoreflect.FullName]map[protoreflect.Name]bool {
	t := make(map[protoreflect.FullName]map[protoreflect.Name]bool, len(ms))
	for _, m := range ms {
		t[m.name] = m.fields
	}
	return t
}

// validator is implemented by every Envoy message: protoc-gen-validate's rules.
type validator interface{ ValidateAll() error }

// checkFields reports, under path, every set field of m and of its sub-messages that is
// not in [implemented], every unknown field, and every Any whose type is not listed or
// whose payload fails its protoc-gen-validate rules (Envoy validates each typed config).
func checkFields(m protoreflect.Message, path string) []error {
	var errs []error
	if len(m.GetUnknown()) > 0 {
		errs = append(errs, notImplemented(path, "unknown fields"))
	}
	allowed, ok := implemented[m.Descriptor().FullName()]
	if !ok {
		return append(errs, notImplemented(path, "message %s", m.Descriptor().FullName()))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := joinPath(path, string(fd.Name()))
		switch {
		case !allowed[fd.Name()]:
			errs = append(errs, notImplemented(p, ""))
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				errs = append(errs, checkMessage(v.List().Get(i).Message(), p+"["+strconv.Itoa(i)+"]")...)
			}
		case fd.Message() != nil:
			errs = append(errs, checkMessage(v.Message(), p)...)
		}
		return true
	})
	return errs
}

// checkMessage checks one sub-message, unpacking an Any first.
func checkMessage(m protoreflect.Message, path string) []error {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		return checkFields(m, path)
	}
	inner, err := unpack(a, path)
	if err != nil {
		return []error{err}
	}
	path = fmt.Sprintf("%s<%s>", path, inner.ProtoReflect().Descriptor().Name())
	errs := checkFields(inner.ProtoReflect(), path)
	if v, ok := inner.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			errs = append(errs, invalid(path, "%v", err))
		}
	}
	return errs
}

// unpack decodes a typed config whose type this data plane implements.
func unpack(a *anypb.Any, path string) (proto.Message, error) {
	inner, err := a.UnmarshalNew()
	if err != nil {
		return nil, notImplemented(path, "extension %s", a.GetTypeUrl())
	}
	if _, ok := implemented[inner.ProtoReflect().Descriptor().FullName()]; !ok {
		return nil, notImplemented(path, "extension %s", a.GetTypeUrl())
	}
	return inner, nil
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
