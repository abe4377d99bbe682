package peering

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Errors wrapped by the [*InputError] values [DialTargets] and [TargetOf] report.
var (
	// ErrBadAddress: a peer server address is not "host:port" with a usable host.
	ErrBadAddress = errors.New("peering: bad server address")
	// ErrBadPort: the port of a peer server address is not an integer in 1..65535.
	ErrBadPort = errors.New("peering: bad server port")
	// ErrNoUsableAddress: none of a dialing peering's server addresses can be used, so
	// the gateway gets no route for it.
	ErrNoUsableAddress = errors.New("peering: no usable server address")
	// ErrIPsDropped: a peering lists both hostnames and IP addresses; as in Consul, only
	// the hostnames are used.
	ErrIPsDropped = errors.New("peering: IP addresses dropped in favour of hostnames")
)

// InputError describes one peering input that [DialTargets] skipped or changed.
type InputError struct {
	// Peering is the peering's [Peering.Key], "<partition>/<name>".
	Peering string
	// Field names the input, e.g. "PeerServerAddresses[1]" or "PeerServerName".
	Field string
	// Value is the offending value.
	Value string
	// Err is the cause; it wraps one of this package's Err values.
	Err error
}

// Error implements error.
func (e *InputError) Error() string {
	return fmt.Sprintf("peering %s: %s %q: %v", e.Peering, e.Field, e.Value, e.Err)
}

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// Address is one peer server address: an IP literal (without brackets) or a hostname,
// and a port.
type Address struct {
	Host string
	Port uint32
}

// String returns "host:port", with brackets around an IPv6 host.
func (a Address) String() string {
	return net.JoinHostPort(a.Host, strconv.FormatUint(uint64(a.Port), 10))
}

// Target is a peer's servers as a mesh gateway must reach them: the gateway routes TLS
// connections whose SNI is ServerName to Addresses.
type Target struct {
	// ServerName is the peer's server name (the peering's PeerServerName), used as SNI
	// match and cluster name.
	ServerName string
	// Hostnames reports that Addresses are DNS names that the gateway resolves itself;
	// otherwise they are IP literals.
	Hostnames bool
	// Addresses are in Consul's order: sorted by their "host:port" text, byte-wise.
	Addresses []Address
	// Partition and Peering name the peering the target comes from.
	Partition, Peering string
	// ModifyIndex is that peering's ModifyIndex.
	ModifyIndex uint64
}

// DialTargets returns the peer servers a mesh gateway must route to for the given
// peerings, sorted by server name, following Consul's mesh gateway:
//
//   - only dialing peerings count (those with addresses); their State and DeletedAt are
//     not looked at;
//   - peerings that share a PeerServerName (several partitions peered with one cluster)
//     give one target: the one with the greatest ModifyIndex, the first listed on a tie;
//   - the addresses are the manual ones if any, else PeerServerAddresses, sorted as text;
//   - if any address is a hostname, only the hostnames are kept.
//
// Unlike Consul, it never turns a malformed address into an endpoint: an address without
// a valid port or host is skipped, a peering left with no usable address or with a server
// name that is not a DNS name gives no target, and each such input is reported as an
// [*InputError] (with errors.Is-able causes). A peering skipped that way does not shadow
// another peering with the same server name.
func DialTargets(peerings []Peering) ([]Target, []error) {
	var (
		targets []Target
		listed  []int // the list position of each target's peering
		errs    []error
		byName  = make(map[string]int, len(peerings))
	)
	for i := range peerings {
		p := &peerings[i]
		if !p.Dialing() {
			continue
		}
		t, perrs, ok := TargetOf(p)
		errs = append(errs, perrs...)
		if !ok {
			continue
		}
		if j, seen := byName[t.ServerName]; seen {
			if ComparePreference(&t, i, &targets[j], listed[j]) < 0 {
				targets[j], listed[j] = t, i
			}
			continue
		}
		byName[t.ServerName] = len(targets)
		targets = append(targets, t)
		listed = append(listed, i)
	}
	slices.SortFunc(targets, func(a, b Target) int { return cmp.Compare(a.ServerName, b.ServerName) })
	return targets, errs
}

// ComparePreference orders two targets of the same server name, from the peerings at
// positions i and j of the peering list, as Consul's mesh gateway chooses between them:
// it is negative when a wins (the greater ModifyIndex, then the first listed), positive
// when b wins, and zero only when i equals j.
func ComparePreference(a *Target, i int, b *Target, j int) int {
	return cmp.Or(cmp.Compare(b.ModifyIndex, a.ModifyIndex), cmp.Compare(i, j))
}

// TargetOf derives the target of one dialing peering, without the de-duplication across
// peerings that [DialTargets] does. ok is false when the peering yields no target (it is
// not dialing, its server name is invalid, or none of its addresses is usable); errs
// reports every input skipped or changed.
func TargetOf(p *Peering) (t Target, errs []error, ok bool) {
	if !p.Dialing() {
		return Target{}, nil, false
	}
	if err := CheckServerName(p.PeerServerName); err != nil {
		return Target{}, []error{p.inputError("PeerServerName", p.PeerServerName, err)}, false
	}
	field := "PeerServerAddresses"
	if len(p.ManualServerAddresses) > 0 {
		field = "ManualServerAddresses"
	}
	raw := p.Addresses()
	order := sortedOrder(raw)
	addrs := make([]Address, 0, len(raw))
	hostnames := 0
	var bad []int // indexes of the addresses that failed, reported in input order
	for k := range raw {
		i := k
		if order != nil {
			i = order[k]
		}
		a, isIP, err := parseAddress(raw[i])
		if err != nil {
			bad = append(bad, i)
			continue
		}
		if !isIP {
			hostnames++
		}
		addrs = append(addrs, a)
	}
	slices.Sort(bad)
	for _, i := range bad {
		_, _, err := parseAddress(raw[i])
		errs = append(errs, p.inputError(fmt.Sprintf("%s[%d]", field, i), raw[i], err))
	}
	t = Target{ServerName: p.PeerServerName, ModifyIndex: p.ModifyIndex, Addresses: addrs}
	if hostnames > 0 && hostnames < len(addrs) {
		hosts := addrs[:0:0]
		var ips []Address
		for _, a := range addrs {
			if net.ParseIP(a.Host) == nil {
				hosts = append(hosts, a)
			} else {
				ips = append(ips, a)
			}
		}
		errs = append(errs, p.inputError(field, joinAddresses(ips), ErrIPsDropped))
		t.Addresses = hosts
	}
	t.Hostnames = hostnames > 0
	if len(t.Addresses) == 0 {
		errs = append(errs, p.inputError(field, strings.Join(raw, ","), ErrNoUsableAddress))
		return Target{}, errs, false
	}
	t.Partition, t.Peering = p.Partition, p.Name
	return t, errs, true
}

func (p *Peering) inputError(field, value string, err error) *InputError {
	return &InputError{Peering: p.Key(), Field: field, Value: value, Err: err}
}

// sortedOrder returns the indexes of ss in Consul's order (the strings sorted
// byte-wise), or nil when ss is already in that order.
func sortedOrder(ss []string) []int {
	if slices.IsSorted(ss) {
		return nil
	}
	order := make([]int, len(ss))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(ss[a], ss[b]) })
	return order
}

// parseAddress splits "host:port" strictly: the port must be decimal digits in 1..65535
// and the host an IP literal or a DNS name.
func parseAddress(s string) (Address, bool, error) {
	if a, ok := parseIPv4Port(s); ok {
		return a, true, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Address{}, false, fmt.Errorf("%w: %w", ErrBadAddress, err)
	}
	n, err := ParsePort(port)
	if err != nil {
		return Address{}, false, err
	}
	if ip := net.ParseIP(host); ip != nil {
		return Address{Host: host, Port: n}, true, nil
	}
	if err := checkHostname(host); err != nil {
		return Address{}, false, fmt.Errorf("%w: %w", ErrBadAddress, err)
	}
	return Address{Host: host, Port: n}, false, nil
}

// parseIPv4Port is the fast path of parseAddress for the usual "a.b.c.d:port": it
// accepts a subset of what parseAddress accepts, with the same result, and allocates
// nothing. Anything else (ok false) takes the strict path, which explains errors.
func parseIPv4Port(s string) (a Address, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Address{}, false
	}
	port, ok := portValue(s[i+1:])
	if !ok {
		return Address{}, false
	}
	if ip, err := netip.ParseAddr(s[:i]); err != nil || !ip.Is4() {
		return Address{}, false
	}
	return Address{Host: s[:i], Port: port}, true
}

// portValue parses one to five decimal digits as a port in 1..65535; ok is false for
// anything else, including valid ports written with more than five digits.
func portValue(s string) (port uint32, ok bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		port = port*10 + uint32(c-'0')
	}
	return port, port >= 1 && port <= 65535
}

func checkHostname(host string) error {
	if host == "" {
		return errors.New("empty host")
	}
	if len(host) > 1 {
		host = strings.TrimSuffix(host, ".")
	}
	if validLabels(host) {
		return nil
	}
	for label := range strings.SplitSeq(host, ".") {
		if err := checkLabel(label); err != nil {
			return fmt.Errorf("host %q: %s", host, err)
		}
	}
	return nil
}

// ParsePort parses a TCP port strictly: decimal digits only (no sign, no spaces), in
// 1..65535. Consul itself accepts "+8503" and wraps "-1" to 4294967295; this library
// rejects both. The error wraps [ErrBadPort].
func ParsePort(s string) (uint32, error) {
	if n, ok := portValue(s); ok {
		return n, nil
	}
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrBadPort)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %q is not a decimal number", ErrBadPort, s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%w: %q is not in 1..65535", ErrBadPort, s)
	}
	return uint32(n), nil
}

func joinAddresses(as []Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}
