package xds

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
)

// gatewayOptions reads the gateway's Proxy.Config: the bind addresses of its listeners
// and the connect timeout of its clusters, the only options that shape peering
// resources. Problems with those options become diagnostics; problems with options that
// do not affect peering traffic are left to the gateway package's own checks.
//
// A problem with xds_fetch_timeout_ms is returned rather than reported, as only some
// Consul versions read it. An empty tagged or custom address listens on loopback
// (127.0.0.1, or ::1 for a dual-stack agent from Consul 1.22.0).
func gatewayOptions(gw *api.AgentService, loopback string, diags *[]Diagnostic) ([]gateway.Bind, gateway.Options, error) {
	var fetchErr error
	var cfg map[string]any
	if gw.Proxy != nil {
		cfg = gw.Proxy.Config
	}
	opts, problems := gateway.ParseOptions(cfg)
	for _, err := range problems {
		var ve *gateway.ValidationError
		if !errors.As(err, &ve) {
			continue
		}
		switch {
		case ve.Field == keyXDSFetchTimeout:
			fetchErr = err
		case ve.Field == "connect_timeout_ms":
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway.Proxy.Config", Err: fmt.Errorf("%w: %w; using %v", ErrBadConnectTimeout, err, gateway.DefaultConnectTimeout)})
		case strings.Contains(ve.Field, "bind"):
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway.Proxy.Config", Err: err})
		}
	}
	binds, errs := gateway.BindAddresses(gw, opts)
	for _, err := range errs {
		// Consul drops a bind that repeats an earlier address: defined behaviour, and the
		// norm when tagged addresses repeat the service address, so not reported. An empty
		// tagged or custom address listens on 127.0.0.1, as in Consul 1.16 (1.14 emits an
		// empty address, which Envoy rejects).
		switch {
		case errors.Is(err, gateway.ErrDuplicateBind):
		case errors.Is(err, gateway.ErrEmptyAddress) && loopback != ipv4Loopback:
			var ve *gateway.ValidationError
			errors.As(err, &ve)
			moved := &gateway.ValidationError{Field: ve.Field, Value: ve.Value, Err: fmt.Errorf("%w: listening on %s (the agent is dual-stack)", gateway.ErrEmptyAddress, loopback)}
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway", Err: moved})
		case errors.Is(err, gateway.ErrEmptyAddress):
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway", Err: err})
		default:
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway", Err: fmt.Errorf("%w; no listener for it", err)})
		}
	}
	if loopback != ipv4Loopback {
		binds = onLoopback(gw, opts, binds, loopback)
	}
	return binds, opts, fetchErr
}

// ipv4Loopback is where the gateway package puts a bind whose address is empty.
const ipv4Loopback = "127.0.0.1"

// onLoopback moves the binds whose tagged or custom address was empty (the gateway
// package put them on 127.0.0.1) to loopback.
func onLoopback(gw *api.AgentService, opts gateway.Options, binds []gateway.Bind, loopback string) []gateway.Bind {
	wasEmpty := func(b gateway.Bind) bool {
		if a, ok := opts.BindAddresses[b.Name]; ok && a.Address == "" && a.Port == b.Port {
			return true
		}
		a, ok := gw.TaggedAddresses[b.Name]
		return opts.BindTaggedAddresses && ok && a.Address == "" && a.Port == b.Port
	}
	out := make([]gateway.Bind, len(binds))
	for i, b := range binds {
		if b.Address == ipv4Loopback && wasEmpty(b) {
			b.Address = loopback
		}
		out[i] = b
	}
	return out
}

// onIPv6Any moves the default bind of a gateway with no service address from 0.0.0.0
// to ::, as Consul does for a dual-stack agent from 1.22.0-rc1.
func onIPv6Any(gw *api.AgentService, opts gateway.Options, binds []gateway.Bind) []gateway.Bind {
	if gw.Address != "" || opts.NoDefaultBind {
		return binds
	}
	out := make([]gateway.Bind, len(binds))
	for i, b := range binds {
		if b.Name == "default" && b.Address == "0.0.0.0" && b.Port == gw.Port {
			b.Address = "::"
		}
		out[i] = b
	}
	return out
}
