package gateway

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"
)

// DefaultName is the service name of a [Registration] whose Name is empty.
const DefaultName = "mesh-gateway"

// Registration describes a mesh gateway service instance. [Registration.Build] turns it
// into the *api.AgentServiceRegistration that Agent().ServiceRegister takes;
// servicedef.RenderHCL and servicedef.RenderJSON (package
// [github.com/peeringgw/peeringgw/gateway/servicedef]) turn it into a service definition
// file for `consul services register` or the agent's configuration.
//
// The kind is always mesh-gateway. Mesh gateways are not namespaced, so there is no
// Namespace: the gateway is registered in its partition's default namespace. Health
// checks, weights and the other fields of a service registration are not modelled; set
// them on the value Build returns.
type Registration struct {
	// Name is the service name; empty means [DefaultName].
	Name string
	// ID is the service instance ID; empty means Name, as Consul's agent does. Set it
	// when several gateways register with one agent.
	ID string
	// Address is the gateway's LAN address: local servers dial it to send peering
	// traffic through the gateway, and the default listener binds it. Empty means the
	// agent's node address for dialing, and 0.0.0.0 for the listener. It must be an IP
	// address unless Options.NoDefaultBind is set.
	Address string
	// Port is the gateway's port, 1..65535.
	Port int
	// LAN is the "lan" tagged address, used by services of the local cluster; nil means
	// none.
	LAN *api.ServiceAddress
	// WAN is the "wan" tagged address. Peers dial it: with PeerThroughMeshGateways, the
	// accepting cluster's peering tokens and stream carry every default-partition
	// gateway's WAN address (else its Address) and WAN port (else its Port). It may be a
	// hostname (a load balancer's DNS name, say) unless Options.BindTaggedAddresses is
	// set. nil means none.
	WAN *api.ServiceAddress
	// Tags are the service tags.
	Tags []string
	// Meta is the service meta. Consul allows at most 64 pairs, keys of letters, digits,
	// '_' and '-' up to 128 bytes, values up to 512 bytes, and of the keys starting with
	// "consul-" only "consul-wan-federation".
	Meta map[string]string
	// Partition is the Consul Enterprise admin partition. Gateways that carry peering
	// control-plane traffic must be in the default partition, so it must be "" or
	// "default". Set "default" on Consul Enterprise when the registering token may
	// belong to another partition. Leave it empty for Consul CE, which refuses a
	// registration or a service definition file that names a partition, even "default".
	Partition string
	// Options are the gateway's Envoy options, rendered into Proxy.Config.
	Options Options
}

// name returns the service name, defaulted.
func (r Registration) name() string {
	if r.Name == "" {
		return DefaultName
	}
	return r.Name
}

// id returns the service ID, defaulted.
func (r Registration) id() string {
	if r.ID == "" {
		return r.name()
	}
	return r.ID
}

// Build validates the registration and returns it as a new
// *api.AgentServiceRegistration: kind mesh-gateway, ID and Name defaulted, tagged
// addresses "lan" and "wan" when set, and Proxy.Config from [Options.ProxyConfig] (no
// Proxy when no option is set). The result shares no slice or map with r, except the
// values nested in Options.Extra.
func (r Registration) Build() (*api.AgentServiceRegistration, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	reg := &api.AgentServiceRegistration{
		Kind:            api.ServiceKindMeshGateway,
		ID:              r.id(),
		Name:            r.name(),
		Tags:            slices.Clone(r.Tags),
		Port:            r.Port,
		Address:         r.Address,
		TaggedAddresses: r.taggedAddresses(),
		Meta:            maps.Clone(r.Meta),
		Partition:       r.Partition,
	}
	if cfg := r.Options.ProxyConfig(); cfg != nil {
		reg.Proxy = &api.AgentServiceConnectProxyConfig{Config: cfg}
	}
	return reg, nil
}

// taggedAddresses returns the "lan" and "wan" tagged addresses, or nil.
func (r Registration) taggedAddresses() map[string]api.ServiceAddress {
	var m map[string]api.ServiceAddress
	for tag, a := range map[string]*api.ServiceAddress{"lan": r.LAN, "wan": r.WAN} {
		if a == nil {
			continue
		}
		if m == nil {
			m = make(map[string]api.ServiceAddress, 2)
		}
		m[tag] = *a
	}
	return m
}

// Validate reports every problem with the registration, joined with errors.Join; each
// is a [*ValidationError]. It checks that:
//
//   - Port is in 1..65535 ([ErrPortRange]);
//   - Address is empty, an IP address, or, when Options.NoDefaultBind is set, a DNS
//     name ([ErrNotIP], [ErrBadAddress]);
//   - LAN and WAN, when set, have a non-empty address that is an IP address or a DNS
//     name, an IP address when Options.BindTaggedAddresses makes Envoy listen on it,
//     and a port in 1..65535 ([ErrEmptyAddress], [ErrNotIP], [ErrBadAddress],
//     [ErrPortRange]);
//   - Partition is "" or "default" ([ErrPartition]);
//   - Meta follows Consul's rules for a mesh gateway ([ErrMeta]);
//   - the options pass [Options.Validate];
//   - no custom bind address (envoy_gateway_bind_addresses) shares its address and port
//     with another listener ([ErrDuplicateBind]). Consul would silently keep only one
//     of them, the first by name, possibly replacing the default listener. A tagged
//     address equal to the service address is usual and not reported.
func (r Registration) Validate() error {
	var errs []error
	if !validPort(r.Port) {
		errs = append(errs, invalid("Port", strconv.Itoa(r.Port), ErrPortRange))
	}
	if err := r.checkAddress(); err != nil {
		errs = append(errs, err)
	}
	bound := r.Options.BindTaggedAddresses
	errs = append(errs, checkTagged("LAN", r.LAN, bound)...)
	errs = append(errs, checkTagged("WAN", r.WAN, bound)...)
	if r.Partition != "" && r.Partition != "default" {
		errs = append(errs, invalid("Partition", r.Partition, ErrPartition))
	}
	errs = append(errs, checkMeta(r.Meta)...)
	errs = append(errs, r.Options.validate()...)
	errs = append(errs, r.duplicateBinds()...)
	return errors.Join(errs...)
}

// checkAddress checks the service address.
func (r Registration) checkAddress() error {
	a := r.Address
	switch {
	case a == "" || isIP(a):
		return nil
	case !isDNSName(a):
		return invalid("Address", a, ErrBadAddress)
	case !r.Options.NoDefaultBind:
		return invalid("Address", a, fmt.Errorf("%w: the default listener binds it (set NoDefaultBind to only advertise it)", ErrNotIP))
	}
	return nil
}

// checkTagged checks a tagged address; bound says whether a listener binds it.
func checkTagged(field string, a *api.ServiceAddress, bound bool) []error {
	if a == nil {
		return nil
	}
	var errs []error
	switch {
	case a.Address == "":
		errs = append(errs, invalid(field+".Address", "", ErrEmptyAddress))
	case isIP(a.Address):
	case !isDNSName(a.Address):
		errs = append(errs, invalid(field+".Address", a.Address, ErrBadAddress))
	case bound:
		errs = append(errs, invalid(field+".Address", a.Address, fmt.Errorf("%w: BindTaggedAddresses makes Envoy listen on it", ErrNotIP)))
	}
	if !validPort(a.Port) {
		errs = append(errs, invalid(field+".Port", strconv.Itoa(a.Port), ErrPortRange))
	}
	return errs
}

// duplicateBinds reports custom bind addresses that share an address and port with
// another listener.
func (r Registration) duplicateBinds() []error {
	var errs []error
	seen := make(map[Bind]candidate)
	for _, c := range bindCandidates(r.Address, r.Port, r.taggedAddresses(), r.Options) {
		key := Bind{Address: c.Address, Port: c.Port}
		first, dup := seen[key]
		if !dup {
			seen[key] = c
			continue
		}
		custom, other := c, first
		if c.source != fromCustom {
			custom, other = first, c
		}
		if custom.source == fromCustom {
			errs = append(errs, invalid(bindField(custom.Name), hostPort(custom.Bind), fmt.Errorf("%w: listener %q binds it too", ErrDuplicateBind, other.Name)))
		}
	}
	return errs
}

// Consul's limits on service meta.
const (
	metaMaxPairs       = 64
	metaKeyMaxLength   = 128
	metaValueMaxLength = 512
	metaReservedPrefix = "consul-"
	metaWANFederation  = "consul-wan-federation"
)

var metaKeyFormat = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// checkMeta checks service meta against Consul's rules for a mesh gateway.
func checkMeta(meta map[string]string) []error {
	var errs []error
	if len(meta) > metaMaxPairs {
		errs = append(errs, invalid("Meta", "", fmt.Errorf("%w: more than %d pairs", ErrMeta, metaMaxPairs)))
	}
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		field := "Meta[" + k + "]"
		switch {
		case !metaKeyFormat.MatchString(k):
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: key must be letters, digits, '_' and '-'", ErrMeta)))
		case len(k) > metaKeyMaxLength:
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: key longer than %d bytes", ErrMeta, metaKeyMaxLength)))
		case strings.HasPrefix(k, metaReservedPrefix) && k != metaWANFederation:
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: key prefix %q is reserved", ErrMeta, metaReservedPrefix)))
		}
		if len(meta[k]) > metaValueMaxLength {
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: value longer than %d bytes", ErrMeta, metaValueMaxLength)))
		}
	}
	return errs
}

// isDNSName reports whether s is a DNS name: dot-separated labels of 1 to 63 letters,
// digits, '-' and '_', not starting or ending with '-', 253 bytes at most, with an
// optional final dot.
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
