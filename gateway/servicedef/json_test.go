package servicedef

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
)

func TestParseJSON(t *testing.T) {
	got, err := ParseJSON([]byte(`{"Service": {"Name": "gw", "Kind": "mesh-gateway", "Port": 8443,
		"proxy": {"config": {"connect_timeout_ms": "2500", "protocol": "tcp", "envoy_stats_tags": ["a"]}}}}`))
	require.NoError(t, err)
	assert.Equal(t, gateway.Registration{
		Name: "gw", Port: 8443,
		Options: gateway.Options{ConnectTimeoutMs: 2500, StatsTags: []string{"a"}, Extra: map[string]any{"protocol": "tcp"}},
	}, got)
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		problems []problem
	}{
		{name: "syntax", src: `{"service": `, problems: []problem{{"json", gateway.ErrDefinition}}},
		{name: "not an object", src: `[]`, problems: []problem{{"json", gateway.ErrDefinition}}},
		{name: "null", src: `null`, problems: []problem{{"service", gateway.ErrDefinition}}},
		{name: "trailing data", src: `{} {}`, problems: []problem{{"json", gateway.ErrDefinition}}},
		{name: "services list", src: `{"services": []}`, problems: []problem{{"services", gateway.ErrDefinition}, {"service", gateway.ErrDefinition}}},
		{name: "service not an object", src: `{"service": "gw"}`, problems: []problem{{"service", gateway.ErrDefinition}}},
		{name: "wrong types", src: `{"service": {"name": 1, "kind": "mesh-gateway", "port": 8443, "address": true}}`,
			problems: []problem{{"service.name", gateway.ErrDefinition}, {"service.address", gateway.ErrDefinition}}},
		{name: "huge port", src: `{"service": {"kind": "mesh-gateway", "port": 1e40}}`, problems: []problem{{"service.port", gateway.ErrDefinition}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tt.src))
			assertErrors(t, tt.problems, err)
		})
	}
}
