package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Errors wrapped by the [*ValidationError] values this package reports. Test for them with
// errors.Is.
var (
	// ErrPortRange: a port (service, tagged address or bind address) is outside 1..65535.
	ErrPortRange = errors.New("gateway: port out of range 1..65535")
	// ErrNotIP: an address a listener binds to is not an IP literal. Envoy cannot bind a
	// hostname.
	ErrNotIP = errors.New("gateway: not an IP address")
	// ErrEmptyAddress: an address is empty.
	ErrEmptyAddress = errors.New("gateway: empty address")
	// ErrBadAddress: an address is neither an IP literal nor a DNS name, or an "ip:port"
	// option is malformed.
	ErrBadAddress = errors.New("gateway: neither an IP address nor a DNS name")
	// ErrDuplicateBind: two listeners would bind the same address and port.
	ErrDuplicateBind = errors.New("gateway: address and port bound twice")
	// ErrBindName: the name of a tagged or custom bind address, which names its
	// listener, is not valid UTF-8, so no xDS resource can carry it.
	ErrBindName = errors.New("gateway: bind name is not valid UTF-8")
	// ErrPartition: a gateway that carries peering control-plane traffic must be in the
	// default partition.
	ErrPartition = errors.New("gateway: partition is not default")
	// ErrMeta: a service meta key or value breaks Consul's rules.
	ErrMeta = errors.New("gateway: invalid service meta")
	// ErrUnknownOption: a Proxy.Config key that Consul does not read for mesh gateways.
	// Consul ignores such keys; [ParseOptions] keeps them in [Options.Extra].
	ErrUnknownOption = errors.New("gateway: unknown proxy config key")
	// ErrOptionType: a Proxy.Config value that Consul's decoder cannot convert to the
	// option's type, even weakly.
	ErrOptionType = errors.New("gateway: proxy config value of the wrong type")
	// ErrOptionValue: a Proxy.Config value of the right type outside the option's domain.
	ErrOptionValue = errors.New("gateway: invalid proxy config value")
	// ErrDuplicateOption: an option is given more than once (under its legacy alias, in
	// another letter case, or both typed and in [Options.Extra]); only one is used.
	ErrDuplicateOption = errors.New("gateway: proxy config key given more than once")
	// ErrDefinition: a service definition holds something a [Registration] cannot
	// represent, or is malformed (reported by the servicedef sub-package).
	ErrDefinition = errors.New("gateway: unsupported service definition")
)

// ValidationError describes one problem with one input field.
type ValidationError struct {
	// Field names the input: a Registration field ("Port", "WAN.Address"), an
	// api.AgentService field ("TaggedAddresses[lan].Address"), a Proxy.Config key path
	// ("envoy_gateway_bind_addresses[wan].port") or a service definition key path
	// ("service.port").
	Field string
	// Value is the offending value as text; it may be empty.
	Value string
	// Err is the cause; it wraps one of this package's Err values.
	Err error
}

// Error implements error.
func (e *ValidationError) Error() string {
	msg := "invalid"
	if e.Err != nil {
		msg, _ = strings.CutPrefix(e.Err.Error(), "gateway: ")
	}
	field := e.Field
	if !utf8.ValidString(field) { // a map key from the input: print it escaped
		field = strconv.Quote(field)
	}
	if e.Value == "" {
		return fmt.Sprintf("gateway: %s: %s", field, msg)
	}
	return fmt.Sprintf("gateway: %s %q: %s", field, e.Value, msg)
}

// Unwrap returns the cause.
func (e *ValidationError) Unwrap() error { return e.Err }

// invalid returns a *ValidationError for field and value caused by err.
func invalid(field, value string, err error) *ValidationError {
	return &ValidationError{Field: field, Value: value, Err: err}
}
