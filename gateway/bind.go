package gateway

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/consul/api"
)

// Bind is one address a mesh gateway's Envoy listens on.
type Bind struct {
	// Name is "default" for the service address, the tag of a tagged address (such as
	// "lan" or "wan") or the key of a custom bind address.
	Name string
	// Address is an IP literal, without brackets.
	Address string
	// Port is in 1..65535.
	Port int
}

// bindSource says where a bind candidate comes from.
type bindSource int

const (
	fromService bindSource = iota // the service address and port
	fromTagged                    // a tagged address
	fromCustom                    // envoy_gateway_bind_addresses
)

// candidate is one bind address before checks and de-duplication.
type candidate struct {
	Bind
	source bindSource
}

// bindCandidates collects the binds Consul would make, in Consul's order: sorted by name,
// the service bind, then tagged addresses, then custom ones on a tie. An empty service
// address becomes 0.0.0.0.
func bindCandidates(address string, port int, tagged map[string]api.ServiceAddress, opts Options) []candidate {
	var cands []candidate
	if !opts.NoDefaultBind {
		if address == "" {
			address = "0.0.0.0"
		}
		cands = append(cands, candidate{Bind{"default", address, port}, fromService})
	}
	if opts.BindTaggedAddresses {
		for _, name := range slices.Sorted(maps.Keys(tagged)) {
			a := tagged[name]
			cands = append(cands, candidate{Bind{name, a.Address, a.Port}, fromTagged})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(opts.BindAddresses)) {
		a := opts.BindAddresses[name]
		cands = append(cands, candidate{Bind{name, a.Address, a.Port}, fromCustom})
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(a.Name, b.Name) })
	return cands
}

// BindAddresses returns the addresses the Envoy of mesh gateway svc listens on, given
// the gateway's options (usually [ParseOptions] of svc.Proxy.Config), sorted by name,
// following Consul:
//
//   - "default": the service Address (0.0.0.0 when empty) and Port, unless
//     opts.NoDefaultBind;
//   - when opts.BindTaggedAddresses, every tagged address of the service, named by its
//     tag (Consul's agent adds lan_ipv4 and wan_ipv4, or the _ipv6 pair, equal to the
//     service address, to every service registered with an IP address);
//   - every entry of opts.BindAddresses, named by its key;
//   - sorted by name; when two share an address and port, only the first is kept (a
//     custom "bar" at the service address replaces "default").
//
// Unlike Consul, it never returns a bind Envoy would reject. A candidate whose address
// is not an IP literal (Envoy cannot listen on a hostname) or whose port is outside
// 1..65535 is dropped; an empty tagged or custom address becomes 127.0.0.1, as in Consul
// 1.16. Each of these, and each duplicate dropped, is reported as a [*ValidationError]
// (wrapping [ErrNotIP], [ErrPortRange], [ErrEmptyAddress] or [ErrDuplicateBind]) whose
// Field names the api.AgentService field or Proxy.Config key it comes from. A nil svc
// has no binds.
func BindAddresses(svc *api.AgentService, opts Options) ([]Bind, []error) {
	if svc == nil {
		return nil, nil
	}
	var (
		binds []Bind
		diags []error
		seen  = make(map[Bind]string)
	)
	for _, c := range bindCandidates(svc.Address, svc.Port, svc.TaggedAddresses, opts) {
		b, errs, ok := checkCandidate(c)
		diags = append(diags, errs...)
		if !ok {
			continue
		}
		key := Bind{Address: b.Address, Port: b.Port}
		if first, dup := seen[key]; dup {
			diags = append(diags, invalid(c.path(""), hostPort(b), fmt.Errorf("%w: listener %q binds it first", ErrDuplicateBind, first)))
			continue
		}
		seen[key] = b.Name
		binds = append(binds, b)
	}
	return binds, diags
}

// checkCandidate checks one candidate. ok is false when it must be dropped.
func checkCandidate(c candidate) (b Bind, errs []error, ok bool) {
	b = c.Bind
	if b.Address == "" && c.source != fromService {
		b.Address = "127.0.0.1"
		errs = append(errs, invalid(c.path("Address"), "", fmt.Errorf("%w: listening on 127.0.0.1", ErrEmptyAddress)))
	}
	ok = true
	if !utf8.ValidString(b.Name) {
		errs = append(errs, invalid(c.path(""), b.Name, ErrBindName))
		ok = false
	}
	if !isIP(b.Address) {
		errs = append(errs, invalid(c.path("Address"), b.Address, fmt.Errorf("%w: Envoy cannot listen on it", ErrNotIP)))
		ok = false
	}
	if !validPort(b.Port) {
		errs = append(errs, invalid(c.path("Port"), strconv.Itoa(b.Port), ErrPortRange))
		ok = false
	}
	return b, errs, ok
}

// path returns the api.AgentService field or Proxy.Config key path of the candidate's
// Address or Port, or of the whole candidate when part is empty.
func (c candidate) path(part string) string {
	var base string
	switch c.source {
	case fromTagged:
		base = "TaggedAddresses[" + c.Name + "]"
	case fromCustom:
		base, part = bindField(c.Name), strings.ToLower(part)
	default:
		if part == "" {
			return "Address"
		}
		return part
	}
	if part == "" {
		return base
	}
	return base + "." + part
}

func hostPort(b Bind) string {
	return net.JoinHostPort(b.Address, strconv.Itoa(b.Port))
}
