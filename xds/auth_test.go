package xds_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/peeringgw/peeringgw/xds"
)

func TestCertAuthorizer(t *testing.T) {
	const td = "11111111-2222-3333-4444-555555555555.consul"
	cert := func(cn string, uris ...string) *x509.Certificate {
		c := &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
		for _, u := range uris {
			pu, err := url.Parse(u)
			if err != nil {
				t.Fatalf("parse %q: %v", u, err)
			}
			c.URIs = append(c.URIs, pu)
		}
		return c
	}
	tests := []struct {
		name  string
		authz xds.CertAuthorizer
		node  string
		cert  *x509.Certificate
		want  error
	}{
		{"SPIFFE ID", xds.CertAuthorizer{}, "gw", cert("", "spiffe://"+td+"/ns/default/dc/dc1/svc/gw"), nil},
		{"Enterprise SPIFFE ID", xds.CertAuthorizer{}, "gw", cert("", "spiffe://"+td+"/ap/default/ns/default/dc/dc1/svc/gw"), nil},
		{"one of several URIs", xds.CertAuthorizer{}, "gw", cert("", "spiffe://"+td+"/ns/default/dc/dc1/svc/x", "spiffe://"+td+"/ns/default/dc/dc1/svc/gw"), nil},
		{"trust domain", xds.CertAuthorizer{TrustDomain: td}, "gw", cert("", "spiffe://"+td+"/ns/default/dc/dc1/svc/gw"), nil},
		{"other trust domain", xds.CertAuthorizer{TrustDomain: td}, "gw", cert("", "spiffe://other.consul/ns/default/dc/dc1/svc/gw"), xds.ErrPermissionDenied},
		{"other datacenter", xds.CertAuthorizer{Datacenter: "dc1"}, "gw", cert("", "spiffe://"+td+"/ns/default/dc/dc2/svc/gw"), xds.ErrPermissionDenied},
		{"agent SPIFFE ID", xds.CertAuthorizer{}, "gw", cert("", "spiffe://"+td+"/agent/client/dc/dc1/id/gw"), xds.ErrPermissionDenied},
		{"service prefix only", xds.CertAuthorizer{}, "gw", cert("", "spiffe://"+td+"/ns/default/dc/dc1/svc/gw-2"), xds.ErrPermissionDenied},
		{"not SPIFFE", xds.CertAuthorizer{}, "gw", cert("gw", "https://"+td+"/ns/default/dc/dc1/svc/gw"), xds.ErrPermissionDenied},
		{"common name", xds.CertAuthorizer{}, "gw", cert("gw"), nil},
		{"other common name", xds.CertAuthorizer{}, "gw", cert("gw2"), xds.ErrPermissionDenied},
		{"service name of the node", xds.CertAuthorizer{Service: func(string) string { return "mesh-gateway" }}, "gw-1", cert("mesh-gateway"), nil},
		{"node ID when the service differs", xds.CertAuthorizer{Service: func(string) string { return "mesh-gateway" }}, "gw-1", cert("gw-1"), xds.ErrPermissionDenied},
		{"no service known", xds.CertAuthorizer{Service: func(string) string { return "" }}, "gw", cert(""), xds.ErrPermissionDenied},
		{"no certificate", xds.CertAuthorizer{}, "gw", nil, xds.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.authz.Authorize(t.Context(), xds.StreamInfo{NodeID: tt.node, Cert: tt.cert})
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}
