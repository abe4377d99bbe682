package xds

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"
)

// ErrBadBind: a bind address cannot be listened on (not an IP literal, or a bad port).
var ErrBadBind = errors.New("xds: bad bind address")

// Bind is one address a gateway listener binds.
type Bind struct {
	Name    string
	Address string
	Port    uint32
}

func gatewayOptions(gw *api.AgentService, diags *[]Diagnostic) ([]Bind, time.Duration) {
	var cfg map[string]any
	if gw.Proxy != nil {
		cfg = gw.Proxy.Config
	}
	timeout := defaultConnectTimeout
	if v, ok := cfg["connect_timeout_ms"]; ok {
		ms, err := toInt(v)
		switch {
		case err != nil:
			*diags = append(*diags, Diagnostic{Input: "Gateway.Proxy.Config.connect_timeout_ms", Err: fmt.Errorf("%w: %v; using 5000", ErrBadConnectTimeout, err)})
		case ms >= 1:
			timeout = time.Duration(ms) * time.Millisecond
		}
	}
	var cands []Bind
	if !boolOpt(cfg, "envoy_gateway_no_default_bind", "envoy_mesh_gateway_no_default_bind") {
		addr := gw.Address
		if addr == "" {
			addr = "0.0.0.0"
		}
		cands = append(cands, Bind{Name: "default", Address: addr, Port: uint32(gw.Port)})
	}
	if boolOpt(cfg, "envoy_gateway_bind_tagged_addresses", "envoy_mesh_gateway_bind_tagged_addresses") {
		for name, a := range gw.TaggedAddresses {
			cands = append(cands, Bind{Name: name, Address: a.Address, Port: uint32(a.Port)})
		}
	}
	custom, _ := cfg["envoy_gateway_bind_addresses"].(map[string]any)
	if custom == nil {
		custom, _ = cfg["envoy_mesh_gateway_bind_addresses"].(map[string]any)
	}
	for name, v := range custom {
		m, _ := v.(map[string]any)
		addr, _ := m["address"].(string)
		port, _ := toInt(m["port"])
		cands = append(cands, Bind{Name: name, Address: addr, Port: uint32(port)})
	}
	slices.SortFunc(cands, func(a, b Bind) int { return cmp.Compare(a.Name, b.Name) })
	var out []Bind
	seen := map[string]bool{}
	for _, b := range cands {
		if net.ParseIP(b.Address) == nil || b.Port < 1 || b.Port > 65535 {
			*diags = append(*diags, Diagnostic{Input: "Gateway bind " + b.Name, Err: fmt.Errorf("%w: %q port %d; no listener", ErrBadBind, b.Address, b.Port)})
			continue
		}
		k := net.JoinHostPort(b.Address, strconv.Itoa(int(b.Port)))
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, b)
	}
	return out, timeout
}

func boolOpt(cfg map[string]any, keys ...string) bool {
	for _, k := range keys {
		switch v := cfg[k].(type) {
		case bool:
			if v {
				return true
			}
		case string:
			if b, err := strconv.ParseBool(v); err == nil && b {
				return true
			}
		}
	}
	return false
}

func toInt(v any) (int, error) {
	switch n := v.(type) {
	case float64:
		return int(n), nil
	case int:
		return n, nil
	case string:
		return strconv.Atoi(n)
	}
	return 0, fmt.Errorf("%v is not a number", v)
}
