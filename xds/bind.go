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
// Consul versions read it.
func gatewayOptions(gw *api.AgentService, diags *[]Diagnostic) ([]gateway.Bind, gateway.Options, error) {
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
		case errors.Is(err, gateway.ErrEmptyAddress):
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway", Err: err})
		default:
			*diags = append(*diags, Diagnostic{Part: PartGateway, Input: "Gateway", Err: fmt.Errorf("%w; no listener for it", err)})
		}
	}
	return binds, opts, fetchErr
}
