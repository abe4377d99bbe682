package gateway_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/peeringgw/peeringgw/gateway"
)

// FuzzParseOptions decodes a Proxy.Config given as JSON (as Consul's API returns it). It
// checks that parsing never panics and that the options it yields render to a
// Proxy.Config that parses back, without problems, to the same options.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{
		`{"connect_timeout_ms": 1500, "envoy_dns_discovery_type": "STRICT_DNS"}`,
		`{"envoy_mesh_gateway_bind_tagged_addresses": true, "envoy_mesh_gateway_no_default_bind": "true"}`,
		`{"envoy_gateway_bind_addresses": {"wan": {"address": "198.18.0.1", "port": 443}}}`,
		`{"connect_timeout_ms": "010", "xds_fetch_timeout_ms": [500]}`,
		`{"envoy_gateway_remote_tcp_enable_keepalive": 1, "envoy_gateway_remote_tcp_keepalive_time": "120"}`,
		`{"envoy_extra_static_clusters_json": "{}", "unknown": {"a": [1, null]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg map[string]any
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		opts, _ := gateway.ParseOptions(cfg)
		if opts.Validate() != nil {
			return
		}
		rendered, err := json.Marshal(opts.ProxyConfig())
		if err != nil {
			t.Fatalf("rendered options do not marshal: %v", err)
		}
		var back map[string]any
		if err := json.Unmarshal(rendered, &back); err != nil {
			t.Fatal(err)
		}
		again, problems := gateway.ParseOptions(back)
		for _, p := range problems {
			if !isUnknownOption(p) {
				t.Fatalf("rendered options give a problem: %v\n%s", p, rendered)
			}
		}
		if diff := cmp.Diff(opts, again); diff != "" {
			t.Fatalf("round trip changed the options (-first +second):\n%s\n%s", diff, rendered)
		}
	})
}

func isUnknownOption(err error) bool {
	var ve *gateway.ValidationError
	return errors.As(err, &ve) && errors.Is(ve, gateway.ErrUnknownOption)
}
