package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/testconsul"
)

// TestConsulFlagsAndEnvironment checks that the Consul address and token are read like
// the consul CLI does: flags over the environment, token files over tokens.
func TestConsulFlagsAndEnvironment(t *testing.T) {
	t.Parallel()
	const management = "3f1c7a52-8d4e-4b6a-9c1d-2e5f7a8b9c0d"
	const bogus = "00000000-1111-2222-3333-444444444444"
	agent := startConsul(t, testconsul.WithACLs(management))
	registerGateway(t, agent.Client(), gateway.Registration{Address: "127.0.0.1", Port: 21443})
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(good, []byte(management+"\n"), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte(bogus), 0o600))
	addr := "CONSUL_HTTP_ADDR=" + agent.HTTPAddr

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no token", []string{addr}, nil, exitFailure, "permission denied"},
		{"unknown token", []string{addr, "CONSUL_HTTP_TOKEN=" + bogus}, nil, exitFailure, "ACL not found"},
		{"env token", []string{addr, "CONSUL_HTTP_TOKEN=" + management}, nil, exitOK, ""},
		{"env token file", []string{addr, "CONSUL_HTTP_TOKEN_FILE=" + good}, nil, exitOK, ""},
		{"token flag", []string{addr}, []string{"-token", management}, exitOK, ""},
		{"token file flag", []string{addr}, []string{"-token-file", good}, exitOK, ""},
		{"token flag over env token", []string{addr, "CONSUL_HTTP_TOKEN=" + bogus}, []string{"-token", management}, exitOK, ""},
		{"token flag over env token file", []string{addr, "CONSUL_HTTP_TOKEN_FILE=" + bad}, []string{"-token", management}, exitOK, ""},
		{"token file flag over token flag", []string{addr}, []string{"-token", bogus, "-token-file", good}, exitOK, ""},
		{"env token file over env token", []string{addr, "CONSUL_HTTP_TOKEN=" + bogus, "CONSUL_HTTP_TOKEN_FILE=" + good}, nil, exitOK, ""},
		{"missing token file", []string{addr}, []string{"-token-file", filepath.Join(dir, "none")}, exitFailure, "Error loading token file"},
		{"address flag over env", []string{"CONSUL_HTTP_ADDR=" + deadAddr, "CONSUL_HTTP_TOKEN=" + management}, []string{"-http-addr", agent.HTTPAddr}, exitOK, ""},
		{"address with scheme", []string{"CONSUL_HTTP_TOKEN=" + management}, []string{"-http-addr", "http://" + agent.HTTPAddr}, exitOK, ""},
		{"bad scheme", nil, []string{"-http-addr", "ftp://" + agent.HTTPAddr}, exitFailure, "Unknown protocol scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := invocation{args: append([]string{"capture"}, tt.args...), env: tt.env}.run(t)
			requireCode(t, res, tt.wantCode)
			if tt.wantCode == exitOK {
				assert.Contains(t, res.stdout, `"Datacenter": "dc1"`)
				return
			}
			assert.Empty(t, res.stdout)
			assert.Contains(t, res.stderr, tt.wantErr)
			assert.NotContains(t, res.stderr, management, "the token was printed")
		})
	}
}
