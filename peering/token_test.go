package peering_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testpki"
	"github.com/peeringgw/peeringgw/peering"
)

func encodeToken(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(raw)
}

func selfSignedPEM(t *testing.T) string {
	t.Helper()
	return string(testpki.New(t, testpki.Spec{
		CommonName: "Consul CA 7", URIs: []string{"spiffe://" + testpki.TrustDomain}, CA: true, Serial: 1,
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
	}, nil).CertPEM)
}

func TestDecodeToken(t *testing.T) {
	ca := selfSignedPEM(t)
	tok, err := peering.DecodeToken(encodeToken(t, map[string]any{
		"CA":                  []string{ca},
		"ServerAddresses":     []string{"198.51.100.10:443"},
		"ServerName":          "server.dc1.peering.11111111-2222-3333-4444-555555555555.consul",
		"PeerID":              "a1b2",
		"EstablishmentSecret": "the-secret",
		"Remote":              map[string]string{"Datacenter": "dc1", "Partition": "default"},
	}) + "\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"198.51.100.10:443"}, tok.Addresses())
	assert.Equal(t, "dc1", tok.Remote.Datacenter)
	assert.Equal(t, "the-secret", tok.EstablishmentSecret.Reveal())
	for _, out := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok)} {
		assert.NotContains(t, out, "the-secret")
	}
	js, err := json.Marshal(tok)
	require.NoError(t, err)
	assert.NotContains(t, string(js), "the-secret")
	assert.Contains(t, string(js), `"EstablishmentSecret":"[redacted]"`)

	certs, err := tok.Certificates()
	require.NoError(t, err)
	require.Len(t, certs, 1)
	assert.Equal(t, "CN=Consul CA 7", certs[0].Subject)
	assert.Equal(t, []string{"spiffe://11111111-2222-3333-4444-555555555555.consul"}, certs[0].URIs)
	assert.Equal(t, 2036, certs[0].NotAfter.Year())
}

func TestDecodeTokenErrors(t *testing.T) {
	valid := map[string]any{"ServerName": "server.dc1.peering.td", "ServerAddresses": []string{"10.0.0.1:8443"}, "EstablishmentSecret": "s3cr3t"}
	validJSON, err := json.Marshal(valid)
	require.NoError(t, err)
	tests := []struct {
		name  string
		token string
	}{
		{"not base64", "not base64!"},
		{"not JSON", base64.StdEncoding.EncodeToString([]byte("s3cr3t"))},
		{"data after the object", base64.StdEncoding.EncodeToString(append(validJSON, []byte(` {"x":1}`)...))},
		{"wrong type", encodeToken(t, map[string]any{"ServerName": 1, "EstablishmentSecret": "s3cr3t"})},
		{"no server name", encodeToken(t, map[string]any{"ServerAddresses": []string{"10.0.0.1:1"}, "EstablishmentSecret": "s3cr3t"})},
		{"no addresses", encodeToken(t, map[string]any{"ServerName": "server.dc1.peering.td", "EstablishmentSecret": "s3cr3t"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := peering.DecodeToken(tt.token)
			require.ErrorIs(t, err, peering.ErrBadToken)
			assert.NotContains(t, err.Error(), "s3cr3t", "an error must not quote the token")
		})
	}
}

func TestCertificatesErrors(t *testing.T) {
	tests := []struct {
		name string
		ca   string
	}{
		{"no PEM block", "not a certificate"},
		{"PEM block that is not a certificate", "-----BEGIN CERTIFICATE-----\nbm90LWEtY2VydA==\n-----END CERTIFICATE-----\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := &peering.Token{CA: []string{tt.ca}}
			_, err := tok.Certificates()
			require.ErrorIs(t, err, peering.ErrBadToken)
			assert.True(t, strings.Contains(err.Error(), "CA[0]"), "got %v, want the entry named", err)
		})
	}
}
