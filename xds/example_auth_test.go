package xds_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/url"

	"github.com/peeringgw/peeringgw/xds"
)

// CertAuthorizer lets in a verified client certificate whose SPIFFE ID names the
// gateway's service; no certificate is "no credentials", another service is "denied".
func ExampleCertAuthorizer() {
	authz := xds.CertAuthorizer{TrustDomain: "11111111-2222-3333-4444-555555555555.consul"}
	id, _ := url.Parse("spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/mesh-gateway")
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "ignored when there are URI SANs"}, URIs: []*url.URL{id}}
	for _, s := range []xds.StreamInfo{
		{NodeID: "mesh-gateway", Cert: cert},
		{NodeID: "other-gateway", Cert: cert},
		{NodeID: "mesh-gateway"},
	} {
		err := authz.Authorize(context.Background(), s)
		fmt.Printf("%s: allowed=%t denied=%t anonymous=%t\n", s.NodeID, err == nil,
			errors.Is(err, xds.ErrPermissionDenied), errors.Is(err, xds.ErrUnauthenticated))
	}
	// Output:
	// mesh-gateway: allowed=true denied=false anonymous=false
	// other-gateway: allowed=false denied=true anonymous=false
	// mesh-gateway: allowed=false denied=false anonymous=true
}

// A Server that serves gateways over mutual TLS to Envoys with a certificate naming
// their gateway, or a Consul token with service:write on it.
func ExampleWithAuthorizers() {
	ctx := context.Background()
	tlsConfig, err := xds.NewTLSConfig(xds.TLSFiles{
		CertFile: "/etc/peergw/xds.pem", KeyFile: "/etc/peergw/xds-key.pem", ClientCAFile: "/etc/peergw/clients-ca.pem",
	})
	if err != nil {
		fmt.Println(errors.Is(err, xds.ErrBadTLS)) // the files do not exist here
		return
	}
	srv := xds.NewServer(ctx, xds.WithTLS(tlsConfig), xds.WithGateways("mesh-gateway"),
		xds.WithAuthorizers(xds.CertAuthorizer{}, &xds.ConsulACL{}))
	_ = srv.NewGRPCServer() // then Serve a listener
	// Output: true
}
