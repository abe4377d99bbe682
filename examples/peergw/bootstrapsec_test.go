package main

import (
	"os"
	"path/filepath"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBootstrapSecure writes the xDS cluster with TLS, a client certificate and the
// token as initial metadata, as "consul connect envoy -bootstrap" does.
func TestBootstrapSecure(t *testing.T) {
	t.Parallel()
	p := pki{t: t, dir: t.TempDir()}
	ca := p.ca("server-ca")
	client := p.client("client", "mesh-gateway", ca)
	tokenFile := filepath.Join(p.dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("tok-from-file\n"), 0o600))
	caPEM, err := os.ReadFile(ca.certFile)
	require.NoError(t, err)

	for _, tt := range []struct {
		name      string
		args, env []string
		wantToken string
	}{
		{"token flag", []string{"-token", "tok-flag"}, nil, "tok-flag"},
		{"token file wins", []string{"-token", "tok-flag", "-token-file", tokenFile}, nil, "tok-from-file"},
		{"token from the environment", nil, []string{"CONSUL_HTTP_TOKEN=tok-env"}, "tok-env"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bootstrap", "-grpc-ca-file", ca.certFile, "-grpc-client-cert-file", client.certFile,
				"-grpc-client-key-file", client.keyFile, "-grpc-tls-server-name", "peergw.internal"}, tt.args...)
			res := invocation{args: args, env: tt.env}.run(t)
			requireCode(t, res, exitOK)
			b := parseBootstrap(t, []byte(res.stdout), "json")
			md := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetInitialMetadata()
			require.Len(t, md, 1)
			assert.Equal(t, "x-consul-token", md[0].GetKey())
			assert.Equal(t, tt.wantToken, md[0].GetValue())

			var up tlsv3.UpstreamTlsContext
			require.NoError(t, b.GetStaticResources().GetClusters()[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(&up))
			assert.Equal(t, "peergw.internal", up.GetSni())
			common := up.GetCommonTlsContext()
			assert.Equal(t, string(caPEM), common.GetValidationContext().GetTrustedCa().GetInlineString())
			assert.Equal(t, "peergw.internal", common.GetValidationContext().GetMatchTypedSubjectAltNames()[0].GetMatcher().GetExact())
			assert.Equal(t, client.certFile, common.GetTlsCertificates()[0].GetCertificateChain().GetFilename())
			assert.Equal(t, client.keyFile, common.GetTlsCertificates()[0].GetPrivateKey().GetFilename())
			assert.Equal(t, []string{"h2"}, common.GetAlpnProtocols())
		})
	}

	res := peergw(t, "bootstrap")
	requireCode(t, res, exitOK)
	b := parseBootstrap(t, []byte(res.stdout), "json")
	assert.Nil(t, b.GetStaticResources().GetClusters()[0].GetTransportSocket(), "got TLS without -grpc-ca-file")
	assert.Empty(t, b.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetInitialMetadata(), "got a token without one given")
}

func TestBootstrapSecureErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"cert without key", []string{"-grpc-ca-file", notPEM, "-grpc-client-cert-file", "c.pem"}, exitUsage, "go together"},
		{"client cert without CA", []string{"-grpc-client-cert-file", "c.pem", "-grpc-client-key-file", "k.pem"}, exitUsage, "need -grpc-ca-file"},
		{"CA file missing", []string{"-grpc-ca-file", filepath.Join(dir, "missing.pem")}, exitFailure, "-grpc-ca-file"},
		{"CA file not PEM", []string{"-grpc-ca-file", notPEM}, exitFailure, "no PEM certificate"},
		{"token file missing", []string{"-token-file", filepath.Join(dir, "missing")}, exitFailure, "token file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := peergw(t, append([]string{"bootstrap"}, tt.args...)...)
			requireCode(t, res, tt.wantCode)
			assert.Contains(t, res.stderr, tt.wantErr)
		})
	}
}
