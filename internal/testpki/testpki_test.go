package testpki_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testpki"
)

// TestIssuedCertificatesVerify: a server and a client certificate signed by a CA verify
// against it for their own use only, and a certificate of another CA does not.
func TestIssuedCertificatesVerify(t *testing.T) {
	ca := testpki.New(t, testpki.Spec{CommonName: "ca", CA: true}, nil)
	server := testpki.New(t, testpki.Spec{CommonName: "server", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, ca)
	client := testpki.New(t, testpki.Spec{CommonName: "client", URIs: []string{testpki.SPIFFE("gw")}, Client: true}, ca)
	other := testpki.New(t, testpki.Spec{CommonName: "server"}, testpki.New(t, testpki.Spec{CommonName: "other", CA: true}, nil))

	verify := func(c *testpki.Cert, usage x509.ExtKeyUsage) error {
		_, err := c.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	require.NoError(t, verify(server, x509.ExtKeyUsageServerAuth))
	require.NoError(t, verify(client, x509.ExtKeyUsageClientAuth))
	require.Error(t, verify(client, x509.ExtKeyUsageServerAuth))
	require.Error(t, verify(other, x509.ExtKeyUsageServerAuth))
	require.Equal(t, testpki.SPIFFE("gw"), client.Cert.URIs[0].String())
	require.NotEqual(t, server.Cert.SerialNumber, client.Cert.SerialNumber)

	certFile, keyFile := server.WriteFiles(t, t.TempDir(), "server")
	_, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
}

func ExampleNew() {
	t := &testing.T{}
	ca := testpki.New(t, testpki.Spec{CommonName: "test CA", CA: true}, nil)
	leaf := testpki.New(t, testpki.Spec{CommonName: "xds", Client: true, URIs: []string{testpki.SPIFFE("mesh-gateway")}}, ca)
	fmt.Println(leaf.Cert.Issuer.CommonName, leaf.Cert.URIs[0])
	// Output: test CA spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/mesh-gateway
}
