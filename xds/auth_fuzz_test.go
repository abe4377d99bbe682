package xds_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"google.golang.org/grpc/metadata"

	"github.com/peeringgw/peeringgw/xds"
)

// fakeACL answers /v1/internal/acl/authorize as Consul does, for one token that has
// service:write on one service.
func fakeACL(token, service string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqs []struct{ Resource, Segment, Access string }
		if r.Method != http.MethodPost || r.URL.Path != "/v1/internal/acl/authorize" || json.NewDecoder(r.Body).Decode(&reqs) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if r.Header.Get("X-Consul-Token") != token {
			http.Error(w, "ACL not found", http.StatusForbidden)
			return
		}
		out := make([]map[string]any, len(reqs))
		for i, q := range reqs {
			out[i] = map[string]any{"Resource": q.Resource, "Segment": q.Segment, "Access": q.Access,
				"Allow": q.Resource == "service" && q.Segment == service && q.Access == "write"}
		}
		_ = json.NewEncoder(w).Encode(out) // the client sees a short body
	})
}

// FuzzAuthorize gives the authorizers arbitrary node IDs, tokens and certificate
// fields: they never panic, and let in only a certificate naming the node's service or
// the one good token for the one service.
func FuzzAuthorize(f *testing.F) {
	const goodToken, service = "4b1c2d3e-good", "gw"
	consul := httptest.NewServer(fakeACL(goodToken, service))
	f.Cleanup(consul.Close)
	acl := &xds.ConsulACL{Config: &api.Config{Address: consul.URL}, Service: func(id string) string { return id }}
	f.Add("gw", goodToken, "spiffe://td.consul/ns/default/dc/dc1/svc/gw", "gw", "", true)
	f.Add("gw", "other", "spiffe://td.consul/ap/default/ns/default/dc/dc1/svc/gw", "", "td.consul", true)
	f.Add("gw", "", "spiffe://td.consul/ns/default/dc/dc1/svc/gw/extra", "gw", "", false)
	f.Add("", "", "spiffe:///ns//dc//svc/", "", "", true)
	f.Add("gw\x00", goodToken+"\n", "http://td/ns/a/dc/b/svc/gw", "gw", "other.consul", true)
	f.Fuzz(func(t *testing.T, node, token, uri, cn, trustDomain string, hasCert bool) {
		md := metadata.MD{}
		if token != "" {
			md.Append(xds.ConsulTokenHeader, token)
		}
		info := xds.StreamInfo{NodeID: node, Metadata: md}
		if hasCert {
			info.Cert = &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
			if u, err := url.Parse(uri); err == nil && uri != "" {
				info.Cert.URIs = []*url.URL{u}
			}
		}
		ca := xds.CertAuthorizer{TrustDomain: trustDomain}
		if err := ca.Authorize(t.Context(), info); err == nil {
			switch {
			case node == "" || info.Cert == nil:
				t.Fatalf("certificate authorizer let in node %q with cert %v", node, info.Cert != nil)
			case len(info.Cert.URIs) > 0:
				u := info.Cert.URIs[0]
				if u.Scheme != "spiffe" || !strings.HasSuffix(u.Path, "/svc/"+node) ||
					(trustDomain != "" && !strings.EqualFold(u.Host, trustDomain)) {
					t.Fatalf("certificate authorizer let in node %q with URI %q (trust domain %q)", node, uri, trustDomain)
				}
			case cn != node:
				t.Fatalf("certificate authorizer let in node %q with CN %q", node, cn)
			}
		}
		if err := acl.Authorize(t.Context(), info); err == nil && (token != goodToken || node != service) {
			t.Fatalf("ACL authorizer let in node %q with token %q", node, token)
		}
	})
}
