package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
)

// serveProc is a running "peergw serve".
type serveProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	mu         sync.Mutex
	logs       bytes.Buffer
	xdsAddr    string
	healthAddr string
}

// startServe starts "peergw serve -xds-insecure" with JSON logs on free ports, and
// waits until both servers listen. The process is stopped when the test ends.
func startServe(t testing.TB, env []string, args ...string) *serveProc {
	t.Helper()
	return startServeSecure(t, env, append([]string{"-xds-insecure"}, args...)...)
}

// startServeSecure is startServe without -xds-insecure: args give the credentials.
func startServeSecure(t testing.TB, env []string, args ...string) *serveProc {
	t.Helper()
	base := []string{"serve", "-listen", "127.0.0.1:0", "-health-addr", "127.0.0.1:0", "-log-format", "json", "-log-level", "debug"}
	cmd := exec.Command(binary, append(base, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &serveProc{cmd: cmd, done: make(chan struct{})}
	go p.readLogs(stderr)
	t.Cleanup(func() {
		p.signal(t, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("peergw serve logs:\n%s", p.logText())
		}
	})
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.xdsAddr != "" && p.healthAddr != ""
	}, 30*time.Second, 10*time.Millisecond, "serve did not start listening:\n%s", p.logText())
	return p
}

// readLogs keeps the log lines and the listening addresses they announce, then waits
// for the process.
func (p *serveProc) readLogs(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var rec struct{ Msg, Addr string }
		line := sc.Text()
		_ = json.Unmarshal([]byte(line), &rec) // lines that are not JSON are kept as they are
		p.mu.Lock()
		p.logs.WriteString(line + "\n")
		switch rec.Msg {
		case "xDS server listening":
			p.xdsAddr = rec.Addr
		case "health server listening":
			p.healthAddr = rec.Addr
		}
		p.mu.Unlock()
	}
	_ = p.cmd.Wait() // the exit status is read from cmd.ProcessState
	close(p.done)
}

func (p *serveProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// signal sends sig unless the process has exited.
func (p *serveProc) signal(t testing.TB, sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		if err := p.cmd.Process.Signal(sig); err != nil {
			t.Logf("signal serve: %v", err)
		}
		<-p.done
	}
}

// stop sends SIGTERM and returns the exit status.
func (p *serveProc) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit within 30s of SIGTERM:\n%s", p.logText())
	}
	return p.cmd.ProcessState.ExitCode()
}

// fetch gets path from the health server.
func (p *serveProc) fetch(t *testing.T, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+p.healthAddr+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// get is fetch for the test goroutine, failing the test on errors.
func (p *serveProc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	code, body, err := p.fetch(t, path)
	require.NoError(t, err)
	return code, body
}

// healthIs reports whether /healthz answers code with a body containing want; for
// polls, which must not fail the test from their goroutine.
func (p *serveProc) healthIs(t *testing.T, code int, want string) bool {
	got, body, err := p.fetch(t, "/healthz")
	return err == nil && got == code && strings.Contains(body, want)
}

// dialXDS connects to the serve's xDS server.
func (p *serveProc) dialXDS(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(p.xdsAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// received collects the resources a delta client holds, by type and name.
type received map[string]map[string]*discoveryv3.Resource

// recvUntil applies responses until done holds.
func recvUntil(t testing.TB, c *xdsclient.Client, got received, done func(received) bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !done(got) {
		require.True(t, time.Now().Before(deadline), "got %v, want more", names(got))
		resp, err := c.Recv()
		require.NoError(t, err)
		if got[resp.GetTypeUrl()] == nil {
			got[resp.GetTypeUrl()] = map[string]*discoveryv3.Resource{}
		}
		for _, r := range resp.GetResources() {
			got[resp.GetTypeUrl()][r.GetName()] = r
		}
		for _, name := range resp.GetRemovedResources() {
			delete(got[resp.GetTypeUrl()], name)
		}
	}
}

func names(got received) map[string][]string {
	out := map[string][]string{}
	for typ, rs := range got {
		out[typ] = sortedKeys(rs)
	}
	return out
}

// startServedConsul starts a Consul agent with mesh gateway "gw-1" (returned)
// registered and peering through mesh gateways on: what "peergw serve -gateway-id
// gw-1" serves.
func startServedConsul(t *testing.T) (*testconsul.Agent, *api.Client, gateway.Registration) {
	t.Helper()
	dc1 := startConsul(t)
	client := dc1.Client()
	gw := gateway.Registration{ID: "gw-1", Address: "127.0.0.1", Port: 21443, WAN: &api.ServiceAddress{Address: "198.51.100.50", Port: 443}}
	registerGateway(t, client, gw)
	setFlag(t, client, true)
	return dc1, client, gw
}

func TestServe(t *testing.T) {
	t.Parallel()
	dc1, client, gw := startServedConsul(t)
	roots, _, err := client.Connect().CARoots(nil)
	require.NoError(t, err)
	accept := "server.dc1.peering." + roots.TrustDomain

	p := startServe(t, []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr}, "-gateway-id", "gw-1")
	c, err := xdsclient.Dial(t.Context(), p.dialXDS(t), "gw-1")
	require.NoError(t, err)
	require.NoError(t, c.Subscribe(resourcev3.ClusterType))
	require.NoError(t, c.Subscribe(resourcev3.ListenerType))
	got := received{}
	recvUntil(t, c, got, func(r received) bool {
		return r[resourcev3.ClusterType][accept] != nil && r[resourcev3.ListenerType]["default:127.0.0.1:21443"] != nil
	})

	// The resources are served a moment before the health state records them.
	require.Eventually(t, func() bool { return p.healthIs(t, http.StatusOK, `"status": "ok"`) }, waitFor, tick)
	code, body := p.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`peergw_resources{gateway="gw-1",type="clusters"} 1`,
		`peergw_resources{gateway="gw-1",type="listeners"} 1`,
		`peergw_pushes_total{gateway="gw-1"} 1`,
		`peergw_snapshot_info{gateway="gw-1",version="`,
		`peergw_xds_streams{protocol="delta"} 1`,
		`peergw_xds_streams{protocol="sotw"} 0`,
		`peergw_watch_errors_total{gateway="gw-1"} 0`,
		`peergw_last_sync_timestamp_seconds{gateway="gw-1"} 1.`,
		"go_goroutines",
	} {
		assert.Contains(t, body, want)
	}

	// One change in Consul gives one incremental push of the changed cluster.
	gw.Options.ConnectTimeoutMs = 1234
	registerGateway(t, client, gw)
	recvUntil(t, c, got, func(r received) bool {
		res := r[resourcev3.ClusterType][accept]
		var cl clusterv3.Cluster
		return res != nil && res.GetResource().UnmarshalTo(&cl) == nil && cl.GetConnectTimeout().AsDuration() == 1234*time.Millisecond
	})
	require.Eventually(t, func() bool {
		_, body, err := p.fetch(t, "/metrics")
		return err == nil && strings.Contains(body, `peergw_pushes_total{gateway="gw-1"} 2`)
	}, waitFor, tick)

	assert.Equal(t, exitOK, p.stop(t), "got a failing exit status on SIGTERM")
	logs := p.logText()
	for _, want := range []string{`"msg":"resources pushed"`, `"msg":"xDS client connected"`, `"node":"gw-1"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		assert.Contains(t, logs, want)
	}
	_, err = c.Recv()
	assert.Error(t, err, "got a response after shutdown, want the stream ended")
}

// TestServeStateOfTheWorld asks for the clusters over a state-of-the-world ADS stream.
func TestServeStateOfTheWorld(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	registerGateway(t, dc1.Client(), wanGateway)
	setFlag(t, dc1.Client(), true)
	p := startServe(t, []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr})

	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(p.dialXDS(t)).StreamAggregatedResources(t.Context())
	require.NoError(t, err)
	require.NoError(t, stream.Send(&discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: gateway.DefaultName}, TypeUrl: resourcev3.ClusterType,
	}))
	// A state-of-the-world client that connects before the first State is served gets
	// an empty answer first (version "0"); ACK it and wait for the next.
	var resp *discoveryv3.DiscoveryResponse
	for len(resp.GetResources()) == 0 {
		resp, err = stream.Recv()
		require.NoError(t, err)
		require.NoError(t, stream.Send(&discoveryv3.DiscoveryRequest{
			TypeUrl: resourcev3.ClusterType, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce(),
		}))
	}
	require.Len(t, resp.GetResources(), 1, "got %d clusters, want the accept side's", len(resp.GetResources()))
	var cl clusterv3.Cluster
	require.NoError(t, resp.GetResources()[0].UnmarshalTo(&cl))
	assert.True(t, strings.HasPrefix(cl.GetName(), "server.dc1.peering."), "got cluster %q", cl.GetName())
	require.NoError(t, stream.CloseSend())
	assert.Equal(t, exitOK, p.stop(t))
}

// TestServeHealth checks /healthz before the first State and while Consul is down.
func TestServeHealth(t *testing.T) {
	t.Run("consul unreachable from the start", func(t *testing.T) {
		t.Parallel()
		p := startServe(t, []string{"CONSUL_HTTP_ADDR=" + deadAddr})
		require.Eventually(t, func() bool {
			return strings.Contains(p.logText(), "reading Consul failed")
		}, waitFor, tick)
		code, body := p.get(t, "/healthz")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Contains(t, body, "waiting for the first state from Consul")
		assert.Contains(t, p.logText(), deadAddr, "got logs that do not name the address")
		assert.Equal(t, exitOK, p.stop(t))
	})
	t.Run("consul stops", func(t *testing.T) {
		t.Parallel()
		dc1 := startConsul(t)
		registerGateway(t, dc1.Client(), wanGateway)
		p := startServe(t, []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr}, "-unhealthy-after", "1s", "-retry-max", "1s")
		require.Eventually(t, func() bool { return p.healthIs(t, http.StatusOK, `"status": "ok"`) }, waitFor, tick)
		dc1.Stop(t)
		require.Eventually(t, func() bool {
			return p.healthIs(t, http.StatusServiceUnavailable, "reading Consul has failed for")
		}, waitFor, tick)
		_, metrics := p.get(t, "/metrics")
		assert.NotContains(t, metrics, `peergw_watch_errors_total{gateway="mesh-gateway"} 0`)
		assert.Equal(t, exitOK, p.stop(t))
	})
}

// TestServeGateways serves two gateways; /healthz waits for both.
func TestServeGateways(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	client := dc1.Client()
	registerGateway(t, client, gateway.Registration{ID: "gw-a", Address: "127.0.0.1", Port: 21001})
	p := startServe(t, []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr}, "-gateway-id", "gw-a", "-gateway-id", "gw-b", "-retry-max", "1s")

	var rep healthReport
	require.Eventually(t, func() bool {
		code, body, err := p.fetch(t, "/healthz")
		return err == nil && json.Unmarshal([]byte(body), &rep) == nil && code == http.StatusServiceUnavailable && rep.Gateways[0].Served
	}, waitFor, tick)
	assert.Equal(t, "gw-a", rep.Gateways[0].ID)
	assert.True(t, rep.Gateways[0].Healthy)
	assert.Equal(t, "gw-b", rep.Gateways[1].ID)
	assert.Equal(t, "waiting for the first state from Consul", rep.Gateways[1].Reason)
	assert.Contains(t, rep.Gateways[1].Error, "gateway service not registered with the agent")

	registerGateway(t, client, gateway.Registration{ID: "gw-b", Address: "127.0.0.1", Port: 21002})
	require.Eventually(t, func() bool { return p.healthIs(t, http.StatusOK, `"status": "ok"`) }, waitFor, tick)
	_, metrics := p.get(t, "/metrics")
	assert.Contains(t, metrics, `peergw_resources{gateway="gw-b",type="listeners"} 1`)
	assert.Equal(t, exitOK, p.stop(t))
}

func TestServeErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"log format", []string{"-log-format", "xml"}, exitUsage, "-log-format must be text or json"},
		{"log level", []string{"-log-level", "loud"}, exitUsage, "-log-level must be debug, info, warn or error"},
		{"empty gateway", []string{"-gateway-id", ""}, exitUsage, "is empty or given twice"},
		{"gateway twice", []string{"-gateway-id", "a", "-gateway-id", "a"}, exitUsage, "is empty or given twice"},
		{"no health threshold", []string{"-unhealthy-after", "0s"}, exitUsage, "-unhealthy-after must be positive"},
		{"bad listen address", []string{"-listen", "nowhere", "-xds-insecure"}, exitFailure, "xds listener"},
		{"public address without TLS", []string{"-listen", "0.0.0.0:0"}, exitUsage, "is not a loopback address"},
		{"cert without key", []string{"-xds-cert-file", "c.pem"}, exitUsage, "go together"},
		{"no streams", []string{"-xds-max-streams-per-gateway", "0"}, exitUsage, "must be positive"},
		{"client CA without TLS", []string{"-xds-client-ca-file", "ca.pem"}, exitUsage, "needs -xds-cert-file"},
		{"missing TLS files", []string{"-xds-cert-file", "/nonexistent/c.pem", "-xds-key-file", "/nonexistent/k.pem"}, exitFailure, "bad TLS files"},
		{"bad health address", []string{"-listen", "127.0.0.1:0", "-health-addr", "nowhere"}, exitFailure, "health listener"},
		{"unsupported Consul version", []string{"-consul-version", "1.23.0"}, exitUsage, `invalid value "1.23.0" for flag -consul-version`},
		{"malformed Consul version", []string{"-consul-version", "latest"}, exitUsage, `invalid value "latest" for flag -consul-version`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := invocation{args: append([]string{"serve"}, tt.args...), env: []string{"CONSUL_HTTP_ADDR=" + deadAddr}}.run(t)
			requireCode(t, res, tt.wantCode)
			assert.Contains(t, res.stderr, tt.wantErr)
		})
	}
}
