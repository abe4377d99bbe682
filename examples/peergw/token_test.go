package main

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/internal/testpki"
	"github.com/peeringgw/peeringgw/meshconfig"
)

// testToken returns a peering token with secret as its establishment secret and a CA
// certificate of its own, valid for a day.
func testToken(t *testing.T, secret string) string {
	t.Helper()
	return testTokenUntil(t, secret, time.Now().Add(24*time.Hour))
}

// testTokenUntil is testToken with a CA certificate valid until notAfter.
func testTokenUntil(t *testing.T, secret string, notAfter time.Time) string {
	t.Helper()
	ca := testpki.New(t, testpki.Spec{
		CommonName: "Test CA", URIs: []string{"spiffe://" + testpki.TrustDomain}, CA: true, Serial: 7,
		NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter,
	}, nil)
	raw, err := json.Marshal(map[string]any{
		"CA":                  []string{string(ca.CertPEM)},
		"ServerAddresses":     []string{"198.51.100.1:8503"},
		"ServerName":          "server.dc1.peering.11111111-2222-3333-4444-555555555555.consul",
		"PeerID":              "4c6a2b0e-1d2f-4e3a-9b8c-7d6e5f4a3b2c",
		"EstablishmentSecret": secret,
		"Remote":              map[string]string{"Datacenter": "dc1", "Partition": "default"},
	})
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(raw)
}

func TestTokenInspectOffline(t *testing.T) {
	const secret = "0f4d6c2e-secret-never-printed"
	tok := testToken(t, secret)
	tests := []struct {
		name string
		inv  invocation
		want []string
	}{
		{"argument text", invocation{args: []string{"token", "inspect", tok}}, []string{
			"Server name:        server.dc1.peering.11111111-2222-3333-4444-555555555555.consul",
			"Remote datacenter:  dc1", "Remote partition:   default",
			"Peer ID:            4c6a2b0e-1d2f-4e3a-9b8c-7d6e5f4a3b2c",
			"Dialer connects to: 198.51.100.1:8503", "Establishment secret: present, never printed",
			"CA certificates:    1", "subject CN=Test CA", "URI spiffe://11111111-2222-3333-4444-555555555555.consul",
			"Hint: every address is on port 8503", "(expires in 23h59m0s)",
		}},
		{"expired", invocation{args: []string{"token", "inspect", testTokenUntil(t, secret, time.Now().Add(-time.Hour))}}, []string{"(EXPIRED)"}},
		{"expires in days", invocation{args: []string{"token", "inspect", testTokenUntil(t, secret, time.Now().Add(10*24*time.Hour+time.Hour))}}, []string{"(expires in 10 days)"}},
		{"stdin json", invocation{args: []string{"token", "inspect", "-format", "json", "-"}, stdin: tok + "\n"}, []string{
			`"server_name": "server.dc1.peering.11111111-2222-3333-4444-555555555555.consul"`,
			`"dial_addresses": [`, `"subject": "CN=Test CA"`, `"expired": false`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.inv.run(t)
			requireCode(t, res, exitOK)
			for _, w := range tt.want {
				assert.Contains(t, res.stdout, w)
			}
			assert.NotContains(t, res.stdout+res.stderr, secret, "the establishment secret was printed")
		})
	}
}

func TestTokenInspectJSONShape(t *testing.T) {
	t.Parallel()
	res := peergw(t, "token", "inspect", "-format", "json", testToken(t, "s"))
	requireCode(t, res, exitOK)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &got))
	for _, key := range []string{"server_name", "peer_id", "server_addresses", "dial_addresses", "ca_certificates", "hint"} {
		assert.Contains(t, got, key)
	}
	for key := range got {
		assert.NotContains(t, key, "secret", "got key %q in the JSON, want no secret field", key)
	}
}

func TestTokenInspectErrors(t *testing.T) {
	secret := "a-secret-that-must-not-leak"
	broken := base64.StdEncoding.EncodeToString([]byte(`{"EstablishmentSecret":"` + secret + `","ServerName":`))
	tests := []struct {
		name     string
		inv      invocation
		wantCode int
		wantErr  string
	}{
		{"no argument", invocation{args: []string{"token", "inspect"}}, exitUsage, "want one token argument"},
		{"two arguments", invocation{args: []string{"token", "inspect", "a", "b"}}, exitUsage, "want one token argument"},
		{"bad format", invocation{args: []string{"token", "inspect", "-format", "yaml", "x"}}, exitUsage, "-format must be text or json"},
		{"consul flag without -issuer", invocation{args: []string{"token", "inspect", "-http-addr", "127.0.0.1:8500", "x"}}, exitUsage, "-http-addr needs -issuer"},
		{"not base64", invocation{args: []string{"token", "inspect", "not a token!"}}, exitFailure, "bad peering token: not base64"},
		{"malformed JSON holding a secret", invocation{args: []string{"token", "inspect", "-"}, stdin: broken}, exitFailure, "bad peering token: not a JSON object"},
		{"empty stdin", invocation{args: []string{"token", "inspect", "-"}}, exitFailure, "bad peering token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.inv.run(t)
			requireCode(t, res, tt.wantCode)
			assert.Empty(t, res.stdout)
			assert.Contains(t, res.stderr, tt.wantErr)
			assert.NotContains(t, res.stderr, secret)
		})
	}
}

// registerGateway registers a mesh gateway with the agent, through the gateway package.
func registerGateway(t *testing.T, client *api.Client, r gateway.Registration) {
	t.Helper()
	reg, err := r.Build()
	require.NoError(t, err)
	require.NoError(t, client.Agent().ServiceRegister(reg))
}

// setFlag sets PeerThroughMeshGateways in the agent's cluster.
func setFlag(t *testing.T, client *api.Client, on bool) {
	t.Helper()
	_, err := meshconfig.Apply(t.Context(), client, on)
	require.NoError(t, err)
}

// generateToken generates a peering token for peer name, and returns it with its
// establishment secret.
func generateToken(t *testing.T, client *api.Client, name string) (string, string) {
	t.Helper()
	resp, _, err := client.Peerings().GenerateToken(t.Context(), api.PeeringGenerateTokenRequest{PeerName: name}, nil)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(resp.PeeringToken)
	require.NoError(t, err)
	var tok struct{ EstablishmentSecret string }
	require.NoError(t, json.Unmarshal(raw, &tok))
	require.NotEmpty(t, tok.EstablishmentSecret)
	return resp.PeeringToken, tok.EstablishmentSecret
}

// TestTokenInspectIssuer inspects tokens Consul generated, with and without the flag,
// against the issuing cluster and another one.
func TestTokenInspectIssuer(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	other := startConsul(t, testconsul.WithDatacenter("dc9"))
	client := dc1.Client()
	registerGateway(t, client, gateway.Registration{Address: "127.0.0.1", Port: 21443,
		WAN: &api.ServiceAddress{Address: "198.51.100.20", Port: 443}})

	direct, secret1 := generateToken(t, client, "before-flag")
	setFlag(t, client, true)
	through, secret2 := generateToken(t, client, "after-flag")

	tests := []struct {
		name     string
		addr     string
		token    string
		format   string
		wantCode int
		want     []string
	}{
		{"servers", dc1.HTTPAddr, direct, "text", exitOK, []string{
			"issued this token; PeerThroughMeshGateways = true",
			"mesh gateway WAN addresses: 198.51.100.20:443",
			"server dc1-server (direct, not through a mesh gateway)",
			"Verdict: the dial addresses are the issuer's servers",
		}},
		{"gateways", dc1.HTTPAddr, through, "text", exitOK, []string{
			"Dialer connects to: 198.51.100.20:443",
			"198.51.100.20:443: mesh gateway mesh-gateway on node dc1-server",
			"Verdict: the dial addresses are the issuer's mesh gateways",
		}},
		{"gateways json", dc1.HTTPAddr, through, "json", exitOK, []string{`"verdict": "gateways"`, `"matches": true`, `"kind": "gateway"`}},
		{"not the issuer", other.HTTPAddr, through, "text", exitFailure, []string{"did NOT issue this token", "Verdict: the dial addresses are unknown to the issuer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invocation{
				args: []string{"token", "inspect", "-issuer", "-format", tt.format, "-"},
				env:  []string{"CONSUL_HTTP_ADDR=" + tt.addr}, stdin: tt.token,
			}.run(t)
			requireCode(t, res, tt.wantCode)
			for _, w := range tt.want {
				assert.Contains(t, res.stdout, w)
			}
			for _, s := range []string{secret1, secret2} {
				assert.NotContains(t, res.stdout+res.stderr, s, "the establishment secret was printed")
			}
			if tt.wantCode == exitFailure {
				assert.Contains(t, res.stderr, "did not issue this token")
			}
		})
	}
}
