package main

import (
	"path/filepath"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/peeringgw/peeringgw/internal/golden"
)

// parseBootstrap reads a bootstrap as Envoy would (JSON, or YAML through JSON) and runs
// Envoy's field constraints on it.
func parseBootstrap(t *testing.T, out []byte, format string) *bootstrapv3.Bootstrap {
	t.Helper()
	if format == "yaml" {
		var err error
		out, err = yaml.YAMLToJSON(out)
		require.NoError(t, err)
	}
	var b bootstrapv3.Bootstrap
	require.NoError(t, protojson.Unmarshal(out, &b))
	require.NoError(t, b.ValidateAll())
	return &b
}

func TestBootstrap(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		format   string
		wantType clusterv3.Cluster_DiscoveryType
		wantHost string
	}{
		{"default", nil, "json", clusterv3.Cluster_STATIC, "127.0.0.1"},
		{"yaml", []string{"-format", "yaml"}, "yaml", clusterv3.Cluster_STATIC, "127.0.0.1"},
		{"hostname", []string{"-xds-addr", "peergw.internal:18000"}, "json", clusterv3.Cluster_LOGICAL_DNS, "peergw.internal"},
		{"ipv6", []string{"-xds-addr", "[::1]:18000", "-admin-addr", "[::1]:19000"}, "json", clusterv3.Cluster_STATIC, "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, append([]string{"bootstrap", "-gateway-id", "mgw-1", "-cluster", "mgw"}, tt.args...)...)
			requireCode(t, res, exitOK)
			assert.Empty(t, res.stderr)
			b := parseBootstrap(t, []byte(res.stdout), tt.format)

			assert.Equal(t, "mgw-1", b.GetNode().GetId())
			assert.Equal(t, "mgw", b.GetNode().GetCluster())
			ads := b.GetDynamicResources().GetAdsConfig()
			assert.Equal(t, corev3.ApiConfigSource_DELTA_GRPC, ads.GetApiType())
			assert.Equal(t, corev3.ApiVersion_V3, ads.GetTransportApiVersion())
			assert.Equal(t, xdsClusterName, ads.GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName())
			for _, src := range []*corev3.ConfigSource{b.GetDynamicResources().GetCdsConfig(), b.GetDynamicResources().GetLdsConfig()} {
				assert.NotNil(t, src.GetAds(), "got %v, want ADS", src)
				assert.Equal(t, corev3.ApiVersion_V3, src.GetResourceApiVersion())
			}

			require.Len(t, b.GetStaticResources().GetClusters(), 1)
			c := b.GetStaticResources().GetClusters()[0]
			assert.Equal(t, xdsClusterName, c.GetName())
			assert.Equal(t, tt.wantType, c.GetType())
			sock := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
			assert.Equal(t, tt.wantHost, sock.GetAddress())
			assert.Equal(t, uint32(18000), sock.GetPortValue())
			var opts httpv3.HttpProtocolOptions
			require.NoError(t, c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey].UnmarshalTo(&opts))
			assert.NotNil(t, opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions(), "got no HTTP/2 for the xDS cluster")
			assert.Equal(t, time.Second, c.GetConnectTimeout().AsDuration())
			assert.Equal(t, uint32(19000), b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue())
		})
	}
}

func TestBootstrapGolden(t *testing.T) {
	t.Parallel()
	res := peergw(t, "bootstrap", "-gateway-id", "mesh-gateway", "-xds-addr", "10.0.0.5:18000")
	requireCode(t, res, exitOK)
	golden.Assert(t, filepath.Join("testdata", "bootstrap.golden.json"), []byte(res.stdout))
}

func TestBootstrapErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"xds address without port", []string{"-xds-addr", "peergw.internal"}, exitUsage, "-xds-addr: want host:port"},
		{"admin port not a number", []string{"-admin-addr", "127.0.0.1:x"}, exitUsage, "-admin-addr: port of"},
		{"format", []string{"-format", "toml"}, exitUsage, "-format must be json or yaml"},
		{"empty gateway", []string{"-gateway-id", ""}, exitUsage, "-gateway-id must not be empty"},
		{"timeout", []string{"-connect-timeout", "0s"}, exitUsage, "-connect-timeout must be positive"},
		{"xds port out of range", []string{"-xds-addr", "127.0.0.1:70000"}, exitFailure, "-xds-addr: port 70000 out of range"},
		{"admin port out of range", []string{"-admin-addr", "127.0.0.1:0"}, exitFailure, "-admin-addr: port 0 out of range"},
		{"admin hostname", []string{"-admin-addr", "localhost:19000"}, exitFailure, `"localhost" is not an IP address`},
		{"empty xds host", []string{"-xds-addr", ":18000"}, exitFailure, "-xds-addr: empty host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, append([]string{"bootstrap"}, tt.args...)...)
			requireCode(t, res, tt.wantCode)
			assert.Empty(t, res.stdout)
			assert.Contains(t, res.stderr, tt.wantErr)
		})
	}
}
