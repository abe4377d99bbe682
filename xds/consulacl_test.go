package xds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

const aclManagementToken = "6c1c6e2e-4b0e-4a4e-9b43-3e1f0b6c2a11"

// aclToken creates a token with rules and returns its secret.
func aclToken(t *testing.T, c *api.Client, name, rules string) *api.ACLToken {
	t.Helper()
	p, _, err := c.ACL().PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
	require.NoError(t, err)
	tok, _, err := c.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
	require.NoError(t, err)
	return tok
}

func withToken(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, xds.ConsulTokenHeader, token)
}

// TestConsulACL authorizes streams by their tokens against a real Consul with ACLs
// on and default deny, and ends the stream of a token deleted while it is open.
func TestConsulACL(t *testing.T) {
	agent := testconsul.Start(t, testconsul.WithACLs(aclManagementToken))
	client := agent.Client()
	// Instance gw-a of service mesh-gateway-a: tokens need service:write on the name.
	require.NoError(t, client.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: "gw-a", Name: "mesh-gateway-a", Kind: api.ServiceKindMeshGateway, Port: 8443, Address: "127.0.0.1",
	}))
	write := aclToken(t, client, "gw-write", `service "mesh-gateway-a" { policy = "write" }`)
	read := aclToken(t, client, "gw-read", `service "mesh-gateway-a" { policy = "read" }`)
	other := aclToken(t, client, "other-write", `service "gw-b" { policy = "write" }`)
	byID := aclToken(t, client, "id-write", `service "gw-a" { policy = "write" }`)

	const ttl = 500 * time.Millisecond
	var refusals []xds.Refusal
	refused := make(chan xds.Refusal, 16)
	authz := &xds.ConsulACL{Config: agent.Config(""), CacheTTL: ttl}
	srv := xds.NewServer(t.Context(), xds.WithAuthorizers(authz), xds.WithGateways("gw-a"),
		xds.WithReauthorize(100*time.Millisecond), xds.WithOnRefused(func(r xds.Refusal) { refused <- r }))
	conn := xdsclient.ServeLoopback(t, srv)

	tests := []struct {
		name, token string
		want        codes.Code
	}{
		{"no token", "", codes.Unauthenticated},
		{"unknown token", "00000000-1111-2222-3333-444444444444", codes.PermissionDenied},
		{"service:read only", read.SecretID, codes.PermissionDenied},
		{"service:write on another service", other.SecretID, codes.PermissionDenied},
		{"service:write on the instance ID, not the service", byID.SecretID, codes.PermissionDenied},
		{"service:write", write.SecretID, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := firstAnswer(withToken(t.Context(), tt.token), conn, "gw-a")
			assert.Equal(t, tt.want, status.Code(err), "got %v", err)
			if err != nil && tt.token != "" {
				assert.NotContains(t, err.Error(), tt.token, "got the token in the error")
			}
		})
	}
	for len(refused) > 0 {
		refusals = append(refusals, <-refused)
	}
	require.Len(t, refusals, 5)
	for _, r := range refusals {
		assert.ErrorIs(t, r.Err, map[bool]error{true: xds.ErrUnauthenticated, false: xds.ErrPermissionDenied}[status.Code(r.Err) == codes.Unauthenticated])
		for _, tok := range []*api.ACLToken{write, read, other, byID} {
			assert.NotContains(t, fmt.Sprint(r.Err), tok.SecretID)
		}
	}

	// A token deleted while its stream is open ends the stream within the cache time
	// (plus the re-authorization interval).
	c, err := xdsclient.Dial(withToken(t.Context(), write.SecretID), conn, "gw-a")
	require.NoError(t, err)
	require.NoError(t, c.Subscribe("type.googleapis.com/envoy.config.cluster.v3.Cluster"))
	_, err = c.Recv()
	require.NoError(t, err)
	_, err = client.ACL().TokenDelete(write.AccessorID, nil)
	require.NoError(t, err)
	deleted := time.Now()
	_, err = c.Recv()
	took := time.Since(deleted)
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "got %v", err)
	t.Logf("stream ended %s after its token was deleted (cache %s, re-check 100ms)", took, ttl)
	assert.Less(t, took, ttl+time.Second, "got the stream ended late")
	r := <-refused
	assert.True(t, r.Open, "got the end of an open stream not reported as such")
}

// TestConsulACLUnavailable lets no one in when Consul cannot answer: ACLs off, or
// unreachable.
func TestConsulACLUnavailable(t *testing.T) {
	noACL := testconsul.Start(t)
	for name, cfg := range map[string]*api.Config{
		"acls disabled": noACL.Config(""),
		"unreachable":   {Address: "127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			authz := &xds.ConsulACL{Config: cfg, Timeout: 2 * time.Second, Service: func(id string) string { return id }}
			err := authz.Authorize(t.Context(), xds.StreamInfo{NodeID: "gw-a", Metadata: metadata.Pairs(xds.ConsulTokenHeader, "anything")})
			assert.ErrorIs(t, err, xds.ErrACLUnavailable)
			assert.ErrorIs(t, err, xds.ErrPermissionDenied)
		})
	}
}

// TestConsulACLSharesQuestions asks Consul once for many streams of one token that
// arrive together, and again only after the cache time.
func TestConsulACLSharesQuestions(t *testing.T) {
	var asked atomic.Int64
	release := make(chan struct{})
	consul := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		<-release
		fakeACL("tok", "gw").ServeHTTP(w, r)
	}))
	t.Cleanup(consul.Close)
	authz := &xds.ConsulACL{Config: &api.Config{Address: consul.URL}, Service: func(id string) string { return id }, CacheTTL: time.Hour}
	info := xds.StreamInfo{NodeID: "gw", Metadata: metadata.Pairs(xds.ConsulTokenHeader, "tok")}
	errs := make(chan error, 50)
	for range 50 {
		go func() { errs <- authz.Authorize(t.Context(), info) }()
	}
	require.Eventually(t, func() bool { return asked.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	for range 50 {
		require.NoError(t, <-errs)
	}
	require.NoError(t, authz.Authorize(t.Context(), info))
	assert.Equal(t, int64(1), asked.Load(), "got Consul asked more than once")
}
