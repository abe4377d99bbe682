package gateway

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func intPtr(n int) *int { return &n }

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		want   Options
		// problems are the sentinels the problems wrap, in order, with their fields.
		problems []problem
	}{
		{name: "nil config", config: nil, want: Options{}},
		{
			name: "canonical keys, native types",
			config: map[string]any{
				"connect_timeout_ms":                          2500,
				"envoy_gateway_bind_tagged_addresses":         true,
				"envoy_gateway_no_default_bind":               true,
				"envoy_gateway_bind_addresses":                map[string]any{"wan": map[string]any{"address": "198.18.0.1", "port": 443}},
				"envoy_dns_discovery_type":                    "STRICT_DNS",
				"envoy_gateway_remote_tcp_enable_keepalive":   true,
				"envoy_gateway_remote_tcp_keepalive_time":     120,
				"envoy_gateway_remote_tcp_keepalive_interval": 10,
				"envoy_gateway_remote_tcp_keepalive_probes":   3,
				"xds_fetch_timeout_ms":                        0,
			},
			want: Options{
				ConnectTimeoutMs:     2500,
				BindTaggedAddresses:  true,
				NoDefaultBind:        true,
				BindAddresses:        map[string]api.ServiceAddress{"wan": {Address: "198.18.0.1", Port: 443}},
				DNSDiscoveryType:     "STRICT_DNS",
				TCPKeepalive:         true,
				TCPKeepaliveTime:     120,
				TCPKeepaliveInterval: 10,
				TCPKeepaliveProbes:   3,
				XDSFetchTimeoutMs:    intPtr(0),
			},
		},
		{
			name: "legacy aliases",
			config: map[string]any{
				"envoy_mesh_gateway_bind_tagged_addresses": true,
				"envoy_mesh_gateway_no_default_bind":       true,
				"envoy_mesh_gateway_bind_addresses":        map[string]any{"x": map[string]any{"address": "10.0.0.1", "port": 9000}},
			},
			want: Options{
				BindTaggedAddresses: true,
				NoDefaultBind:       true,
				BindAddresses:       map[string]api.ServiceAddress{"x": {Address: "10.0.0.1", Port: 9000}},
			},
		},
		{
			name:   "canonical key wins over alias",
			config: map[string]any{"envoy_gateway_no_default_bind": false, "envoy_mesh_gateway_no_default_bind": true},
			want:   Options{},
			problems: []problem{
				{"envoy_mesh_gateway_no_default_bind", ErrDuplicateOption},
			},
		},
		{
			name:   "alias wins over canonical key in another case",
			config: map[string]any{"ENVOY_GATEWAY_NO_DEFAULT_BIND": false, "envoy_mesh_gateway_no_default_bind": true},
			want:   Options{NoDefaultBind: true},
			problems: []problem{
				{"ENVOY_GATEWAY_NO_DEFAULT_BIND", ErrDuplicateOption},
			},
		},
		{
			name:   "keys in any letter case",
			config: map[string]any{"Connect_Timeout_MS": 1500, "ENVOY_MESH_GATEWAY_BIND_TAGGED_ADDRESSES": "true", "Envoy_Tracing_JSON": "{}"},
			want:   Options{ConnectTimeoutMs: 1500, BindTaggedAddresses: true, TracingJSON: "{}"},
		},
		{
			name:     "two spellings in other cases: first sorted wins",
			config:   map[string]any{"CONNECT_TIMEOUT_MS": 1, "Connect_Timeout_Ms": 2},
			want:     Options{ConnectTimeoutMs: 1},
			problems: []problem{{"Connect_Timeout_Ms", ErrDuplicateOption}},
		},
		{
			name: "numeric strings",
			config: map[string]any{
				"connect_timeout_ms":                          "2500",
				"envoy_gateway_remote_tcp_keepalive_time":     "+120",
				"envoy_gateway_remote_tcp_keepalive_interval": "0x10",
				"envoy_gateway_remote_tcp_keepalive_probes":   "1_0",
				"xds_fetch_timeout_ms":                        "-1",
			},
			want: Options{ConnectTimeoutMs: 2500, TCPKeepaliveTime: 120, TCPKeepaliveInterval: 16, TCPKeepaliveProbes: 10, XDSFetchTimeoutMs: intPtr(-1)},
		},
		{
			name:   "octal string, as strconv base 0 reads it",
			config: map[string]any{"connect_timeout_ms": "010"},
			want:   Options{ConnectTimeoutMs: 8},
		},
		{
			name:   "empty string is zero and false",
			config: map[string]any{"connect_timeout_ms": "", "envoy_gateway_no_default_bind": ""},
			want:   Options{},
		},
		{
			name: "bool strings",
			config: map[string]any{
				"envoy_gateway_bind_tagged_addresses":       "1",
				"envoy_gateway_no_default_bind":             "T",
				"envoy_gateway_remote_tcp_enable_keepalive": "False",
			},
			want: Options{BindTaggedAddresses: true, NoDefaultBind: true},
		},
		{
			name:   "numbers as bools",
			config: map[string]any{"envoy_gateway_bind_tagged_addresses": 2, "envoy_gateway_no_default_bind": 0.5, "envoy_gateway_remote_tcp_enable_keepalive": uint8(0)},
			want:   Options{BindTaggedAddresses: true, NoDefaultBind: true},
		},
		{
			name:   "floats truncate, bools count, json numbers parse",
			config: map[string]any{"connect_timeout_ms": 2500.9, "envoy_gateway_remote_tcp_keepalive_time": true, "envoy_gateway_remote_tcp_keepalive_probes": json.Number("7")},
			want:   Options{ConnectTimeoutMs: 2500, TCPKeepaliveTime: 1, TCPKeepaliveProbes: 7},
		},
		{
			name:   "numbers and bools as strings",
			config: map[string]any{"envoy_dns_discovery_type": 5, "envoy_statsd_url": true, "envoy_stats_flush_interval": 1.5, "envoy_tracing_json": []byte("{}")},
			want:   Options{DNSDiscoveryType: "5", StatsdURL: "1", StatsFlushInterval: "1.5", TracingJSON: "{}"},
		},
		{
			name:   "one-element list for an xDS key",
			config: map[string]any{"connect_timeout_ms": []any{1500}, "envoy_gateway_bind_addresses": []map[string]any{{"a": []any{map[string]any{"address": []any{"10.0.0.1"}, "port": []any{"9000"}}}}}},
			want:   Options{ConnectTimeoutMs: 1500, BindAddresses: map[string]api.ServiceAddress{"a": {Address: "10.0.0.1", Port: 9000}}},
		},
		{
			name:     "one-element list for a bootstrap key",
			config:   map[string]any{"envoy_tracing_json": []any{"{}"}},
			want:     Options{},
			problems: []problem{{"envoy_tracing_json", ErrOptionType}},
		},
		{
			name:   "stats tags: list, single value, numbers",
			config: map[string]any{"envoy_stats_tags": []any{"a=b", 5}},
			want:   Options{StatsTags: []string{"a=b", "5"}},
		},
		{
			name:   "stats tags: a single value is a one-element list",
			config: map[string]any{"envoy_stats_tags": "canary"},
			want:   Options{StatsTags: []string{"canary"}},
		},
		{
			name:   "stats tags: an empty map is an empty list",
			config: map[string]any{"envoy_stats_tags": map[string]any{}},
			want:   Options{StatsTags: []string{}},
		},
		{
			name:   "stats tags: null elements are empty, bytes are numbers",
			config: map[string]any{"envoy_stats_tags": []any{nil, "a"}, "envoy_extra_stats_sinks_json": []byte("{}")},
			want:   Options{StatsTags: []string{"", "a"}, StatsSinksJSON: "{}"},
		},
		{
			name:   "stats tags: a byte slice is a list of numbers, as in Consul",
			config: map[string]any{"envoy_stats_tags": []byte("xy")},
			want:   Options{StatsTags: []string{"120", "121"}},
		},
		{
			name:   "a one-element list holding null is unset",
			config: map[string]any{"connect_timeout_ms": []any{nil}},
			want:   Options{},
		},
		{
			name:     "stats tags: a map",
			config:   map[string]any{"envoy_stats_tags": map[string]any{"a": "b"}},
			want:     Options{},
			problems: []problem{{"envoy_stats_tags", ErrOptionType}},
		},
		{
			name:     "stats tags: a bad element",
			config:   map[string]any{"envoy_stats_tags": []any{"a", map[string]any{"x": 1}}},
			want:     Options{},
			problems: []problem{{"envoy_stats_tags[1]", ErrOptionType}},
		},
		{
			name: "bind addresses: list of maps merged, fields in any case, api values",
			config: map[string]any{"envoy_gateway_bind_addresses": []any{
				map[string]any{"a": map[string]any{"Address": "10.0.0.1", "PORT": 1}},
				map[string]any{"b": api.ServiceAddress{Address: "10.0.0.2", Port: 2}, "a": map[string]any{"address": "10.0.0.3", "port": 3}},
			}},
			want: Options{BindAddresses: map[string]api.ServiceAddress{"a": {Address: "10.0.0.3", Port: 3}, "b": {Address: "10.0.0.2", Port: 2}}},
		},
		{
			name:   "bind addresses: typed map, null entry",
			config: map[string]any{"envoy_gateway_bind_addresses": map[string]map[string]any{"a": {"address": "10.0.0.1", "port": 1}, "n": nil}},
			want:   Options{BindAddresses: map[string]api.ServiceAddress{"a": {Address: "10.0.0.1", Port: 1}, "n": {}}},
		},
		{
			name:   "bind addresses: empty list binds nothing",
			config: map[string]any{"envoy_gateway_bind_addresses": []any{}},
			want:   Options{},
		},
		{
			name: "bind addresses: unknown field kept entry, bad port dropped entry",
			config: map[string]any{"envoy_gateway_bind_addresses": map[string]any{
				"a": map[string]any{"address": "10.0.0.1", "port": 1, "weight": 3},
				"b": map[string]any{"address": "10.0.0.2", "port": "https"},
			}},
			want: Options{BindAddresses: map[string]api.ServiceAddress{"a": {Address: "10.0.0.1", Port: 1}}},
			problems: []problem{
				{"envoy_gateway_bind_addresses[a].weight", ErrUnknownOption},
				{"envoy_gateway_bind_addresses[b].port", ErrOptionType},
			},
		},
		{
			name:     "bind addresses: duplicate field",
			config:   map[string]any{"envoy_gateway_bind_addresses": map[string]any{"a": map[string]any{"address": "10.0.0.1", "ADDRESS": "10.0.0.9", "port": 1}}},
			want:     Options{BindAddresses: map[string]api.ServiceAddress{"a": {Address: "10.0.0.9", Port: 1}}},
			problems: []problem{{"envoy_gateway_bind_addresses[a].address", ErrDuplicateOption}},
		},
		{
			name:     "bind addresses: not a map",
			config:   map[string]any{"envoy_gateway_bind_addresses": "10.0.0.1:443"},
			want:     Options{},
			problems: []problem{{"envoy_gateway_bind_addresses", ErrOptionType}},
		},
		{
			name:     "bind addresses: entry not a map",
			config:   map[string]any{"envoy_gateway_bind_addresses": map[string]any{"a": "10.0.0.1:443"}},
			want:     Options{},
			problems: []problem{{"envoy_gateway_bind_addresses[a]", ErrOptionType}},
		},
		{
			name: "ill-typed values",
			config: map[string]any{
				"connect_timeout_ms":                        "abc",
				"envoy_gateway_bind_tagged_addresses":       "yes",
				"envoy_dns_discovery_type":                  map[string]any{},
				"envoy_gateway_remote_tcp_keepalive_time":   math.Inf(1),
				"envoy_gateway_remote_tcp_keepalive_probes": 1e30,
				"envoy_gateway_no_default_bind":             []any{true, false},
			},
			want: Options{},
			problems: []problem{
				{"connect_timeout_ms", ErrOptionType},
				{"envoy_gateway_bind_tagged_addresses", ErrOptionType},
				{"envoy_gateway_no_default_bind", ErrOptionType},
				{"envoy_dns_discovery_type", ErrOptionType},
				{"envoy_gateway_remote_tcp_keepalive_time", ErrOptionType},
				{"envoy_gateway_remote_tcp_keepalive_probes", ErrOptionType},
			},
		},
		{
			name:     "one bad value does not touch the others",
			config:   map[string]any{"connect_timeout_ms": 1500, "envoy_dns_discovery_type": []any{1, 2}},
			want:     Options{ConnectTimeoutMs: 1500},
			problems: []problem{{"envoy_dns_discovery_type", ErrOptionType}},
		},
		{
			name:   "nil values are unset",
			config: map[string]any{"connect_timeout_ms": nil, "envoy_stats_tags": nil},
			want:   Options{},
		},
		{
			name:   "unknown keys go to Extra",
			config: map[string]any{"protocol": "tcp", "envoy_public_listener_json": "{}", "connect_timeout_ms": 1},
			want:   Options{ConnectTimeoutMs: 1, Extra: map[string]any{"protocol": "tcp", "envoy_public_listener_json": "{}"}},
			problems: []problem{
				{"envoy_public_listener_json", ErrUnknownOption},
				{"protocol", ErrUnknownOption},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ParseOptions(tt.config)
			assert.Equal(t, tt.want, got)
			assertProblems(t, tt.problems, problems)
		})
	}
}

// problem is an expected *ValidationError: its field and the sentinel it wraps.
type problem struct {
	field string
	err   error
}

func assertProblems(t *testing.T, want []problem, got []error) {
	t.Helper()
	require.Len(t, got, len(want), "got problems %v", got)
	for i, w := range want {
		var ve *ValidationError
		require.ErrorAs(t, got[i], &ve)
		assert.Equal(t, w.field, ve.Field, "problem %d: %v", i, got[i])
		assert.ErrorIs(t, got[i], w.err, "problem %d", i)
	}
}

// assertErrors checks that err joins exactly the problems want, in order; no problems
// means a nil err.
func assertErrors(t *testing.T, want []problem, err error) {
	t.Helper()
	if len(want) == 0 {
		require.NoError(t, err)
		return
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	assertProblems(t, want, errs)
}

// Every option survives ProxyConfig then ParseOptions, including through JSON, which
// turns numbers into float64 and lists into []any.
func TestParseOptionsRoundTrip(t *testing.T) {
	opts := fullOptions()
	got, problems := ParseOptions(opts.ProxyConfig())
	assert.Equal(t, opts, got)
	assertProblems(t, []problem{{"envoy_public_listener_json", ErrUnknownOption}}, problems)

	data, err := json.Marshal(opts.ProxyConfig())
	require.NoError(t, err)
	var fromJSON map[string]any
	require.NoError(t, json.Unmarshal(data, &fromJSON))
	got, _ = ParseOptions(fromJSON)
	assert.Equal(t, opts, got)
}

// Integer conversions beyond Consul's: out-of-range and non-finite numbers are errors.
func TestParseOptionsIntegers(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want int
		ok   bool
	}{
		{"int8", int8(-3), -3, true},
		{"uint64", uint64(7), 7, true},
		{"uint64 too large", uint64(math.MaxUint64), 0, false},
		{"float32", float32(2.75), 2, true},
		{"negative float truncates toward zero", -2.75, -2, true},
		{"NaN", math.NaN(), 0, false},
		{"float too large", 1e19, 0, false},
		{"pointer", intPtr(4), 4, true},
		{"string too large", "9223372036854775808", 0, false},
		{"decimal string", "1.5", 0, false},
		{"list", []any{1, 2}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ParseOptions(map[string]any{"connect_timeout_ms": tt.in})
			if !tt.ok {
				require.Len(t, problems, 1, "got %d, want an error", got.ConnectTimeoutMs)
				require.ErrorIs(t, problems[0], ErrOptionType)
				return
			}
			require.Empty(t, problems)
			assert.Equal(t, tt.want, got.ConnectTimeoutMs)
		})
	}
}

func TestTypeErrorWrapsSentinel(t *testing.T) {
	_, problems := ParseOptions(map[string]any{"connect_timeout_ms": "abc"})
	require.Len(t, problems, 1)
	assert.True(t, errors.Is(problems[0], ErrOptionType))
	assert.EqualError(t, problems[0], `gateway: connect_timeout_ms "abc": proxy config value of the wrong type: want an integer, got "abc"`)
}
