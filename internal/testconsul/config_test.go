package testconsul

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testPorts = ports{HTTP: 1, DNS: 2, GRPC: 3, GRPCTLS: 4, Server: 5, SerfLAN: 6, SerfWAN: 7}

func TestArgs(t *testing.T) {
	common := []string{
		"-datacenter", "dc1", "-node", "dc1-server", "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", "1", "-dns-port", "2", "-grpc-port", "3", "-server-port", "5",
		"-serf-lan-port", "6", "-serf-wan-port", "7", "-config-file", "c.json",
	}
	tests := []struct {
		name string
		opts []Option
		want []string
	}{
		{
			name: "dev",
			want: slices.Concat([]string{"agent", "-dev"}, common),
		},
		{
			name: "data dir replaces dev",
			opts: []Option{WithDataDir("/d")},
			want: slices.Concat([]string{"agent", "-server", "-bootstrap-expect", "1", "-data-dir", "/d"}, common),
		},
		{
			name: "hcl fragments last and in order",
			opts: []Option{WithHCL("a = 1"), WithHCL("b = 2")},
			want: slices.Concat([]string{"agent", "-dev"}, common, []string{"-hcl", "a = 1", "-hcl", "b = 2"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := args(newOptions(tt.opts), testPorts, "c.json")
			assert.Equal(t, tt.want, got, "got args %q, want %q", got, tt.want)
		})
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want options
	}{
		{name: "defaults", want: options{datacenter: "dc1", nodeName: "dc1-server"}},
		{name: "node name follows datacenter", opts: []Option{WithDatacenter("dc2")}, want: options{datacenter: "dc2", nodeName: "dc2-server"}},
		{name: "node name", opts: []Option{WithNodeName("n")}, want: options{datacenter: "dc1", nodeName: "n"}},
		{name: "acls", opts: []Option{WithACLs("t")}, want: options{datacenter: "dc1", nodeName: "dc1-server", managementToken: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newOptions(tt.opts)
			assert.Equal(t, tt.want, got, "got options %+v, want %+v", got, tt.want)
		})
	}
}

func TestWriteConfig(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{
			name: "dev",
			want: `{"log_level":"INFO","disable_update_check":true,"connect":{"enabled":true},
				"peering":{"enabled":true},"ports":{"grpc_tls":4}}`,
		},
		{
			name: "data dir sets raft timing",
			opts: []Option{WithDataDir("/d")},
			want: `{"log_level":"INFO","disable_update_check":true,"connect":{"enabled":true},
				"peering":{"enabled":true},"ports":{"grpc_tls":4},"performance":{"raft_multiplier":1}}`,
		},
		{
			name: "acls",
			opts: []Option{WithACLs("t")},
			want: `{"log_level":"INFO","disable_update_check":true,"connect":{"enabled":true},
				"peering":{"enabled":true},"ports":{"grpc_tls":4},
				"acl":{"enabled":true,"default_policy":"deny","tokens":{"initial_management":"t","agent":"t"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, err := writeConfig(dir, newOptions(tt.opts), testPorts)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(dir, "agent.json"), path, "got path %s, want agent.json in %s", path, dir)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.True(t, json.Valid(got), "got invalid JSON %s", got)
			assert.JSONEq(t, tt.want, string(got), "got config %s, want %s", got, tt.want)
		})
	}
}

func TestWriteConfigError(t *testing.T) {
	_, err := writeConfig(filepath.Join(t.TempDir(), "missing"), newOptions(nil), testPorts)
	require.ErrorIs(t, err, os.ErrNotExist)
}
