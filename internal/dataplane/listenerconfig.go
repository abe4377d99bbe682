package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	sniclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_cluster/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// listenerSpec is a checked listener, ready to execute.
type listenerSpec struct {
	name string
	addr netip.AddrPort
	// inspectTLS is set when the listener has the tls_inspector listener filter; without
	// it no SNI is known and only the catch-all chain can match.
	inspectTLS bool
	// exact holds the chains by server name; wildcard by the suffix of a "*.suffix"
	// server name, dot included; fallback is the chain without server_names.
	exact    map[string]*chainSpec
	wildcard map[string]*chainSpec
	fallback *chainSpec
}

// chainSpec is a filter chain: zero or more sni_cluster filters, then tcp_proxy.
type chainSpec struct {
	sniCluster bool
	tcpProxy   bool
	statPrefix string
	cluster    string
}

// match selects the filter chain for a connection whose SNI is sni ("" when there is
// none), as Envoy does: an exact server name, then the longest matching wildcard, then
// the chain without server_names; nil when nothing matches.
func (l *listenerSpec) match(sni string) *chainSpec {
	if sni != "" {
		if c := l.exact[sni]; c != nil {
			return c
		}
		for i := strings.IndexByte(sni, '.'); i >= 0; {
			if c := l.wildcard[sni[i:]]; c != nil {
				return c
			}
			j := strings.IndexByte(sni[i+1:], '.')
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	return l.fallback
}

// compileListener checks l and returns its spec.
func compileListener(l *listenerv3.Listener) (*listenerSpec, error) {
	if err := checkResource(l); err != nil {
		return nil, err
	}
	addr, err := listenerAddress(l.GetAddress())
	if err != nil {
		return nil, err
	}
	s := &listenerSpec{name: l.GetName(), addr: addr, exact: map[string]*chainSpec{}, wildcard: map[string]*chainSpec{}}
	var errs []error
	for i, f := range l.GetListenerFilters() {
		p := fmt.Sprintf("listener_filters[%d]", i)
		if _, err := typedConfig[*tlsinspectorv3.TlsInspector](f.GetTypedConfig(), p); err != nil {
			errs = append(errs, err)
			continue
		}
		s.inspectTLS = true
	}
	for i, fc := range l.GetFilterChains() {
		errs = append(errs, s.addChain(fc, fmt.Sprintf("filter_chains[%d]", i)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// listenerAddress returns the IP literal and port a listener binds.
func listenerAddress(a *corev3.Address) (netip.AddrPort, error) {
	sa := a.GetSocketAddress()
	if sa == nil {
		return netip.AddrPort{}, invalid("address", "a socket address is required")
	}
	ip, err := netip.ParseAddr(sa.GetAddress())
	if err != nil || ip.Zone() != "" {
		return netip.AddrPort{}, invalid("address.socket_address.address", "%q is not an IP literal", sa.GetAddress())
	}
	return netip.AddrPortFrom(ip, uint16(sa.GetPortValue())), nil
}

// addChain compiles chain fc and indexes it by its server names, rejecting a match that
// overlaps another chain's as Envoy does.
func (s *listenerSpec) addChain(fc *listenerv3.FilterChain, path string) error {
	c, err := compileChain(fc.GetFilters(), path+".filters")
	if err != nil {
		return err
	}
	names := fc.GetFilterChainMatch().GetServerNames()
	if len(names) == 0 {
		if s.fallback != nil {
			return invalid(path, "multiple filter chains with the same matching rules")
		}
		s.fallback = c
		return nil
	}
	for i, name := range names {
		p := fmt.Sprintf("%s.filter_chain_match.server_names[%d]", path, i)
		index, key := s.exact, name
		if strings.HasPrefix(name, "*.") {
			index, key = s.wildcard, name[1:]
		}
		if strings.Contains(key, "*") {
			return invalid(p, "%q: only a leading \"*.\" wildcard is supported", name)
		}
		if index[key] != nil {
			return invalid(p, "%q: multiple filter chains with overlapping matching rules", name)
		}
		index[key] = c
	}
	return nil
}

// compileChain compiles a chain's network filters: sni_cluster filters, then one
// tcp_proxy, the terminal filter, last.
func compileChain(filters []*listenerv3.Filter, path string) (*chainSpec, error) {
	c := &chainSpec{}
	for i, f := range filters {
		p := fmt.Sprintf("%s[%d]", path, i)
		a := f.GetTypedConfig()
		if a == nil {
			return nil, invalid(p, "typed_config is required")
		}
		if c.tcpProxy {
			return nil, invalid(p, "tcp_proxy is a terminal filter and must be last")
		}
		switch a.GetTypeUrl() {
		case resourcev3.APITypePrefix + "envoy.extensions.filters.network.sni_cluster.v3.SniCluster":
			if _, err := typedConfig[*sniclusterv3.SniCluster](a, p); err != nil {
				return nil, err
			}
			c.sniCluster = true
		default:
			tp, err := typedConfig[*tcpproxyv3.TcpProxy](a, p)
			if err != nil {
				return nil, err
			}
			c.tcpProxy, c.statPrefix, c.cluster = true, tp.GetStatPrefix(), tp.GetCluster()
		}
	}
	if !c.tcpProxy {
		return nil, invalid(path, "the last filter must be the terminal tcp_proxy")
	}
	return c, nil
}

// typedConfig decodes a typed config that must be of type T.
func typedConfig[T interface{ ValidateAll() error }](a *anypb.Any, path string) (T, error) {
	var zero T
	if a == nil {
		return zero, invalid(path, "typed_config is required")
	}
	m, err := unpack(a, path+".typed_config")
	if err != nil {
		return zero, err
	}
	t, ok := m.(T)
	if !ok {
		return zero, notImplemented(path+".typed_config", "extension %s here", a.GetTypeUrl())
	}
	return t, nil
}
