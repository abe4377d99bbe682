package gateway

import (
	"math"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
)

// fullOptions sets every option, and one unknown key.
func fullOptions() Options {
	return Options{
		ConnectTimeoutMs:     2500,
		BindTaggedAddresses:  true,
		BindAddresses:        map[string]api.ServiceAddress{"public": {Address: "198.18.0.1", Port: 443}, "v6": {Address: "2001:db8::1", Port: 8443}},
		NoDefaultBind:        true,
		DNSDiscoveryType:     "STRICT_DNS",
		TCPKeepalive:         true,
		TCPKeepaliveTime:     120,
		TCPKeepaliveInterval: 10,
		TCPKeepaliveProbes:   3,
		XDSFetchTimeoutMs:    intPtr(0),
		StatsdURL:            "udp://${HOST_IP}:8125",
		DogstatsdURL:         "unix:///var/run/dogstatsd.sock",
		StatsTags:            []string{"team=peering", "canary"},
		PrometheusBindAddr:   "0.0.0.0:9102",
		StatsBindAddr:        "127.0.0.1:9103",
		BootstrapTemplate:    `{"admin": {{ .AdminJSON }}}`,
		StaticClustersJSON:   `{"name": "zipkin", "type": "STRICT_DNS"}`,
		StaticListenersJSON:  `{"name": "health"}`,
		StatsSinksJSON:       `{"name": "envoy.stat_sinks.statsd"}`,
		StatsConfigJSON:      `{"use_all_default_tags": true}`,
		StatsFlushInterval:   "5s",
		TracingJSON:          "{\n  \"http\": {\"name\": \"envoy.tracers.zipkin\", \"note\": \"100%{x} <&>\"}\n}",
		Extra:                map[string]any{"envoy_public_listener_json": "{}"},
	}
}

func TestProxyConfig(t *testing.T) {
	got := fullOptions().ProxyConfig()
	want := map[string]any{
		"connect_timeout_ms":                  2500,
		"envoy_gateway_bind_tagged_addresses": true,
		"envoy_gateway_bind_addresses": map[string]any{
			"public": map[string]any{"address": "198.18.0.1", "port": 443},
			"v6":     map[string]any{"address": "2001:db8::1", "port": 8443},
		},
		"envoy_gateway_no_default_bind":               true,
		"envoy_dns_discovery_type":                    "STRICT_DNS",
		"envoy_gateway_remote_tcp_enable_keepalive":   true,
		"envoy_gateway_remote_tcp_keepalive_time":     120,
		"envoy_gateway_remote_tcp_keepalive_interval": 10,
		"envoy_gateway_remote_tcp_keepalive_probes":   3,
		"xds_fetch_timeout_ms":                        0,
		"envoy_statsd_url":                            "udp://${HOST_IP}:8125",
		"envoy_dogstatsd_url":                         "unix:///var/run/dogstatsd.sock",
		"envoy_stats_tags":                            []string{"team=peering", "canary"},
		"envoy_prometheus_bind_addr":                  "0.0.0.0:9102",
		"envoy_stats_bind_addr":                       "127.0.0.1:9103",
		"envoy_bootstrap_json_tpl":                    `{"admin": {{ .AdminJSON }}}`,
		"envoy_extra_static_clusters_json":            `{"name": "zipkin", "type": "STRICT_DNS"}`,
		"envoy_extra_static_listeners_json":           `{"name": "health"}`,
		"envoy_extra_stats_sinks_json":                `{"name": "envoy.stat_sinks.statsd"}`,
		"envoy_stats_config_json":                     `{"use_all_default_tags": true}`,
		"envoy_stats_flush_interval":                  "5s",
		"envoy_tracing_json":                          "{\n  \"http\": {\"name\": \"envoy.tracers.zipkin\", \"note\": \"100%{x} <&>\"}\n}",
		"envoy_public_listener_json":                  "{}",
	}
	assert.Equal(t, want, got)
}

func TestProxyConfigOmitsUnset(t *testing.T) {
	assert.Nil(t, Options{}.ProxyConfig(), "got a map for no options, want nil")
	assert.Nil(t, Options{BindAddresses: map[string]api.ServiceAddress{}, StatsTags: []string{}}.ProxyConfig())
	assert.Equal(t, map[string]any{"connect_timeout_ms": -1}, Options{ConnectTimeoutMs: -1}.ProxyConfig(),
		"a negative timeout is written as is, so that nothing is lost")
}

func TestProxyConfigTypedFieldWinsOverExtra(t *testing.T) {
	opts := Options{ConnectTimeoutMs: 1500, Extra: map[string]any{"connect_timeout_ms": 9}}
	assert.Equal(t, map[string]any{"connect_timeout_ms": 1500}, opts.ProxyConfig())
	assert.Equal(t, 9, opts.Extra["connect_timeout_ms"], "ProxyConfig changed Extra")
}

func TestConnectTimeout(t *testing.T) {
	tests := []struct {
		ms   int
		want time.Duration
	}{
		{0, 5 * time.Second},
		{-1, 5 * time.Second},
		{1, time.Millisecond},
		{1500, 1500 * time.Millisecond},
		{math.MaxInt, time.Duration(math.MaxInt64)},
	}
	for _, tt := range tests {
		got := Options{ConnectTimeoutMs: tt.ms}.ConnectTimeout()
		assert.Equal(t, tt.want, got, "ConnectTimeoutMs %d: got %v, want %v", tt.ms, got, tt.want)
	}
}

func TestPeeringIneffective(t *testing.T) {
	assert.Equal(t, []string{
		"envoy_dns_discovery_type",
		"envoy_gateway_remote_tcp_enable_keepalive",
		"envoy_gateway_remote_tcp_keepalive_interval",
		"envoy_gateway_remote_tcp_keepalive_probes",
		"envoy_gateway_remote_tcp_keepalive_time",
	}, fullOptions().PeeringIneffective(), "xds_fetch_timeout_ms shapes peering clusters from Consul 1.15.8")
	assert.Empty(t, Options{ConnectTimeoutMs: 1, NoDefaultBind: true, TracingJSON: "{}"}.PeeringIneffective())
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Options)
		problems []problem
	}{
		{name: "all set and valid", edit: func(*Options) {}},
		{name: "negative connect timeout", edit: func(o *Options) { o.ConnectTimeoutMs = -1 },
			problems: []problem{{"connect_timeout_ms", ErrOptionValue}}},
		{name: "connect timeout too large", edit: func(o *Options) { o.ConnectTimeoutMs = math.MaxInt },
			problems: []problem{{"connect_timeout_ms", ErrOptionValue}}},
		{name: "dns discovery type in lower case", edit: func(o *Options) { o.DNSDiscoveryType = "logical_dns" }},
		{name: "bad dns discovery type", edit: func(o *Options) { o.DNSDiscoveryType = "STATIC" },
			problems: []problem{{"envoy_dns_discovery_type", ErrOptionValue}}},
		{name: "negative keepalive time", edit: func(o *Options) { o.TCPKeepaliveTime = -1 },
			problems: []problem{{"envoy_gateway_remote_tcp_keepalive_time", ErrOptionValue}}},
		{name: "keepalive interval beyond uint32", edit: func(o *Options) { o.TCPKeepaliveInterval = math.MaxUint32 + 1 },
			problems: []problem{{"envoy_gateway_remote_tcp_keepalive_interval", ErrOptionValue}}},
		{name: "negative keepalive probes", edit: func(o *Options) { o.TCPKeepaliveProbes = -3 },
			problems: []problem{{"envoy_gateway_remote_tcp_keepalive_probes", ErrOptionValue}}},
		{name: "negative xds fetch timeout means Envoy's default", edit: func(o *Options) { o.XDSFetchTimeoutMs = intPtr(-1) }},
		{name: "xds fetch timeout too large", edit: func(o *Options) { o.XDSFetchTimeoutMs = intPtr(math.MaxInt) },
			problems: []problem{{"xds_fetch_timeout_ms", ErrOptionValue}}},
		{name: "bind address hostname", edit: func(o *Options) { o.BindAddresses["public"] = api.ServiceAddress{Address: "gw.example.com", Port: 443} },
			problems: []problem{{"envoy_gateway_bind_addresses[public].address", ErrNotIP}}},
		{name: "bind address empty", edit: func(o *Options) { o.BindAddresses["public"] = api.ServiceAddress{Port: 443} },
			problems: []problem{{"envoy_gateway_bind_addresses[public].address", ErrEmptyAddress}}},
		{name: "bind port zero", edit: func(o *Options) { o.BindAddresses["public"] = api.ServiceAddress{Address: "198.18.0.1"} },
			problems: []problem{{"envoy_gateway_bind_addresses[public].port", ErrPortRange}}},
		{name: "bind port too large", edit: func(o *Options) { o.BindAddresses["v6"] = api.ServiceAddress{Address: "::", Port: 65536} },
			problems: []problem{{"envoy_gateway_bind_addresses[v6].port", ErrPortRange}}},
		{name: "prometheus bind address without port", edit: func(o *Options) { o.PrometheusBindAddr = "0.0.0.0" },
			problems: []problem{{"envoy_prometheus_bind_addr", ErrBadAddress}}},
		{name: "stats bind address with a hostname", edit: func(o *Options) { o.StatsBindAddr = "localhost:9103" },
			problems: []problem{{"envoy_stats_bind_addr", ErrBadAddress}}},
		{name: "stats bind address with a bad port", edit: func(o *Options) { o.StatsBindAddr = "127.0.0.1:0" },
			problems: []problem{{"envoy_stats_bind_addr", ErrPortRange}}},
		{name: "Extra shadows a typed option", edit: func(o *Options) { o.Extra["Envoy_Mesh_Gateway_No_Default_Bind"] = true },
			problems: []problem{{"Envoy_Mesh_Gateway_No_Default_Bind", ErrDuplicateOption}}},
		{name: "Extra null", edit: func(o *Options) { o.Extra["x"] = nil },
			problems: []problem{{"x", ErrOptionType}}},
		{name: "Extra not JSON-like", edit: func(o *Options) { o.Extra["x"] = map[string]any{"f": func() {}} },
			problems: []problem{{"x", ErrOptionType}}},
		{name: "Extra infinite", edit: func(o *Options) { o.Extra["x"] = []any{math.Inf(-1)} },
			problems: []problem{{"x", ErrOptionType}}},
		{name: "Extra bytes", edit: func(o *Options) { o.Extra["x"] = []byte("{}") },
			problems: []problem{{"x", ErrOptionType}}},
		{name: "Extra map with int keys", edit: func(o *Options) { o.Extra["x"] = map[int]string{1: "a"} },
			problems: []problem{{"x", ErrOptionType}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fullOptions()
			tt.edit(&o)
			assertErrors(t, tt.problems, o.Validate())
		})
	}
}
