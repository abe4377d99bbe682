package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/internal/testpki"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
)

// pki makes certificates for a test, with their files in dir: each is signed by the
// issuer given, or by itself.
type pki struct {
	t   *testing.T
	dir string
}

type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pair tls.Certificate
	// certFile and keyFile hold the PEM forms.
	certFile, keyFile string
}

func (p pki) make(name string, spec testpki.Spec, issuer *issued) *issued {
	p.t.Helper()
	var parent *testpki.Cert
	if issuer != nil {
		parent = &testpki.Cert{Cert: issuer.cert, Key: issuer.key}
	}
	c := testpki.New(p.t, spec, parent)
	out := &issued{cert: c.Cert, key: c.Key, pair: c.Pair()}
	out.certFile, out.keyFile = c.WriteFiles(p.t, p.dir, name)
	return out
}

func (p pki) ca(name string) *issued {
	return p.make(name, testpki.Spec{CommonName: name, CA: true}, nil)
}

func (p pki) client(name, service string, ca *issued) *issued {
	return p.make(name, testpki.Spec{URIs: []string{testpki.SPIFFE(service)}, Client: true}, ca)
}

func (p pki) server(ca *issued) *issued {
	return p.make("server", testpki.Spec{CommonName: "peergw", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, ca)
}

// xdsCode opens a delta stream as gateway id with token (if any) and returns the code of
// its first answer: OK when it got its clusters.
func xdsCode(t *testing.T, addr string, creds credentials.TransportCredentials, id, token string) codes.Code {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-consul-token", token)
	}
	c, err := xdsclient.Dial(ctx, conn, id)
	if err == nil {
		if err = c.Subscribe(resourcev3.ClusterType); err == nil {
			_, err = c.Recv()
		}
	}
	return status.Code(err)
}

func tlsCreds(ca *issued, certs ...tls.Certificate) credentials.TransportCredentials {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: certs, MinVersion: tls.VersionTLS12})
}

// TestServeSecure runs serve against a Consul with ACLs on and default deny, over TLS
// and then mutual TLS, and checks who reads a gateway's configuration.
func TestServeSecure(t *testing.T) {
	t.Parallel()
	const mgmt = "0f3c2b1a-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
	dc1 := startConsul(t, testconsul.WithACLs(mgmt))
	client := dc1.Client()
	registerGateway(t, client, wanGateway)
	token := func(name, rules string) string {
		p, _, err := client.ACL().PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
		require.NoError(t, err)
		tok, _, err := client.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
		require.NoError(t, err)
		return tok.SecretID
	}
	write := token("gw-write", `service "mesh-gateway" { policy = "write" }`)
	read := token("gw-read", `service "mesh-gateway" { policy = "read" }`)
	env := []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr, "CONSUL_HTTP_TOKEN=" + mgmt}
	p := pki{t: t, dir: t.TempDir()}
	serverCA, clientCA, otherCA := p.ca("server-ca"), p.ca("client-ca"), p.ca("other-ca")
	srvCert := p.server(serverCA)

	t.Run("loopback without TLS", func(t *testing.T) {
		t.Parallel()
		s := startServeSecure(t, env)
		assert.Equal(t, codes.Unauthenticated, xdsCode(t, s.xdsAddr, insecure.NewCredentials(), gateway.DefaultName, ""))
		assert.Equal(t, codes.OK, xdsCode(t, s.xdsAddr, insecure.NewCredentials(), gateway.DefaultName, write))
		assert.Contains(t, s.logText(), `"msg":"xDS stream refused"`)
		assert.NotContains(t, s.logText(), write, "got the token in the logs")
	})
	t.Run("TLS and tokens", func(t *testing.T) {
		t.Parallel()
		s := startServeSecure(t, env, "-xds-cert-file", srvCert.certFile, "-xds-key-file", srvCert.keyFile)
		creds := tlsCreds(serverCA)
		for _, tt := range []struct {
			name, token string
			creds       credentials.TransportCredentials
			want        codes.Code
		}{
			{"plaintext", write, insecure.NewCredentials(), codes.Unavailable},
			{"no token", "", creds, codes.Unauthenticated},
			{"unknown token", "00000000-0000-4000-8000-000000000000", creds, codes.PermissionDenied},
			{"service:read token", read, creds, codes.PermissionDenied},
			{"service:write token", write, creds, codes.OK},
		} {
			assert.Equal(t, tt.want, xdsCode(t, s.xdsAddr, tt.creds, gateway.DefaultName, tt.token), tt.name)
		}
		assert.Equal(t, codes.NotFound, xdsCode(t, s.xdsAddr, creds, "made-up", write), "unknown gateway")
		_, metrics := s.get(t, "/metrics")
		assert.Contains(t, metrics, `peergw_xds_refused_total{code="PermissionDenied"} 2`)
		for _, tok := range []string{write, read, mgmt} {
			assert.NotContains(t, s.logText(), tok, "got a token in the logs")
		}
	})
	t.Run("mutual TLS", func(t *testing.T) {
		t.Parallel()
		s := startServeSecure(t, env, "-xds-cert-file", srvCert.certFile, "-xds-key-file", srvCert.keyFile, "-xds-client-ca-file", clientCA.certFile)
		mine := p.client("client-mine", gateway.DefaultName, clientCA)
		theirs := p.client("client-theirs", "other-gateway", clientCA)
		foreign := p.client("client-foreign", gateway.DefaultName, otherCA)
		assert.Equal(t, codes.Unavailable, xdsCode(t, s.xdsAddr, tlsCreds(serverCA), gateway.DefaultName, write), "no client certificate")
		assert.Equal(t, codes.Unavailable, xdsCode(t, s.xdsAddr, tlsCreds(serverCA, foreign.pair), gateway.DefaultName, ""), "certificate of another CA")
		assert.Equal(t, codes.PermissionDenied, xdsCode(t, s.xdsAddr, tlsCreds(serverCA, theirs.pair), gateway.DefaultName, ""), "certificate of another gateway")
		assert.Equal(t, codes.OK, xdsCode(t, s.xdsAddr, tlsCreds(serverCA, theirs.pair), gateway.DefaultName, write), "another gateway's certificate and a token")
		assert.Equal(t, codes.OK, xdsCode(t, s.xdsAddr, tlsCreds(serverCA, mine.pair), gateway.DefaultName, ""), "the gateway's certificate")
	})
}

// TestServeStreamLimit refuses a gateway's stream beyond -xds-max-streams-per-gateway,
// even before Consul answers.
func TestServeStreamLimit(t *testing.T) {
	t.Parallel()
	s := startServe(t, []string{"CONSUL_HTTP_ADDR=" + deadAddr}, "-xds-max-streams-per-gateway", "1")
	c, err := xdsclient.Dial(t.Context(), s.dialXDS(t), gateway.DefaultName)
	require.NoError(t, err)
	require.NoError(t, c.Subscribe(resourcev3.ClusterType))
	_, err = c.Recv()
	require.NoError(t, err, "got the first stream refused")
	assert.Equal(t, codes.ResourceExhausted, xdsCode(t, s.xdsAddr, insecure.NewCredentials(), gateway.DefaultName, ""))
	assert.Contains(t, s.logText(), `"code":"ResourceExhausted"`)
}
