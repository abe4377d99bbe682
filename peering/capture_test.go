package peering_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
	"github.com/peeringgw/peeringgw/peering"
)

const checkSecret = "s3cr3t-check-credential"

// captureState is a small State whose server has a node check carrying credentials.
func captureState() *peering.State {
	heartbeat := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return &peering.State{
		Datacenter:  "dc1",
		TrustDomain: "11111111-2222-3333-4444-555555555555.consul",
		Gateway: &api.AgentService{
			Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway",
			Address: "10.0.0.10", Port: 8443, Meta: map[string]string{"owner": "<platform team>"},
			TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "203.0.113.10", Port: 443}},
		},
		MeshConfig: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
		Servers: []*api.ServiceEntry{{
			Node: &api.Node{Node: "server-1", Address: "10.0.0.1", Datacenter: "dc1"},
			Service: &api.AgentService{ID: "consul", Service: "consul", Port: 8300,
				Meta: map[string]string{"grpc_tls_port": "8503", "read_replica": "false"}},
			Checks: api.HealthChecks{{
				Node: "server-1", CheckID: "web", Name: "web", Status: api.HealthPassing, Type: "http",
				Definition: api.HealthCheckDefinition{
					HTTP:   "https://monitor:" + checkSecret + "@10.0.0.1:9000/health",
					Header: map[string][]string{"Authorization": {"Bearer " + checkSecret}},
					Method: "POST",
					Body:   `{"key":"` + checkSecret + `"}`,
				},
			}},
		}},
		Peerings: []peering.Peering{{Peering: api.Peering{
			ID: "5c9a0f6e-0000-0000-0000-000000000001", Name: "dc2", State: api.PeeringStateActive,
			PeerID: "5c9a0f6e-0000-0000-0000-000000000002", PeerServerName: "server.dc2.peering.td2.consul",
			PeerServerAddresses: []string{"203.0.113.20:443"}, Meta: map[string]string{"env": "prod"},
			StreamStatus: api.PeeringStreamStatus{LastHeartbeat: &heartbeat},
			CreateIndex:  20, ModifyIndex: 25, Remote: api.PeeringRemoteInfo{Partition: "default", Datacenter: "dc2"},
		}}},
	}
}

func TestWriteCapture(t *testing.T) {
	s := captureState()
	var buf bytes.Buffer
	require.NoError(t, peering.WriteCapture(&buf, s))
	golden.Assert(t, "testdata/capture.golden.json", buf.Bytes())

	assert.NotContains(t, buf.String(), checkSecret, "got a check credential in the capture, want it redacted")
	assert.Contains(t, buf.String(), `"owner": "<platform team>"`, "got the gateway meta changed, want it kept unescaped")
	assert.Equal(t, captureState(), s, "got the State changed by WriteCapture, want it untouched")

	back, err := peering.DecodeState(&buf)
	require.NoError(t, err)
	want := captureState()
	want.Servers[0].Checks = back.Servers[0].Checks // redacted on purpose
	assert.Equal(t, want, back, "got a capture that reads back differently, want the same State")
	def := back.Servers[0].Checks[0].Definition
	assert.Equal(t, []string{"[redacted]"}, def.Header["Authorization"], "got header %v, want it redacted", def.Header["Authorization"])
	assert.Equal(t, "[redacted]", def.Body, "got body %q, want it redacted", def.Body)
	assert.Equal(t, "https://monitor:xxxxx@10.0.0.1:9000/health", def.HTTP, "got URL %q, want its password redacted", def.HTTP)
}

func TestWriteCaptureErrors(t *testing.T) {
	errWrite := errors.New("disk full")
	tests := []struct {
		name  string
		state *peering.State
		w     *failingWriter
		want  error
	}{
		{name: "nil State", state: nil, w: &failingWriter{}, want: peering.ErrBadState},
		{name: "failing writer", state: captureState(), w: &failingWriter{err: errWrite}, want: errWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := peering.WriteCapture(tt.w, tt.state)
			require.ErrorIs(t, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "peering: "), "got error %q, want the package prefix", err)
		})
	}
}

type failingWriter struct{ err error }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}
