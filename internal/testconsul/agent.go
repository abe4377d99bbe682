package testconsul

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

const (
	// startAttempts bounds how often Start launches an agent that fails
	// because another process took one of its ports.
	startAttempts = 5
	// readyTimeout bounds the wait for a launched agent to become ready.
	readyTimeout = 90 * time.Second
	// stopTimeout bounds the wait for an agent to exit after SIGTERM before
	// it is killed.
	stopTimeout = 30 * time.Second
	// pollInterval is the pause between readiness checks.
	pollInterval = 50 * time.Millisecond
	// requestTimeout bounds each HTTP request of a client.
	requestTimeout = 10 * time.Second
)

// errPortInUse reports that an agent exited because a port was taken.
var errPortInUse = errors.New("testconsul: port in use")

// Agent is a Consul agent started by Start. The exported fields are set by
// Start, stay the same across Stop and Start, and must not be changed.
type Agent struct {
	// Datacenter is the agent's datacenter.
	Datacenter string
	// NodeName is the agent's node name.
	NodeName string
	// HTTPAddr is the address of the HTTP API, "127.0.0.1:port".
	HTTPAddr string
	// HTTPPort is the port of the HTTP API.
	HTTPPort int
	// DNSPort is the port of the DNS interface.
	DNSPort int
	// GRPCPort is the plaintext gRPC port (ports.grpc), which xDS clients use.
	GRPCPort int
	// GRPCTLSPort is the TLS gRPC port (ports.grpc_tls), which peers dial.
	GRPCTLSPort int
	// ServerPort is the server RPC port (ports.server).
	ServerPort int
	// LANSerfPort is the LAN gossip port (ports.serf_lan).
	LANSerfPort int
	// WANSerfPort is the WAN gossip port (ports.serf_wan).
	WANSerfPort int
	// ManagementToken is the initial management token given to WithACLs,
	// empty when ACLs are off.
	ManagementToken string
	// DataDir is the directory given to WithDataDir, empty for a -dev agent.
	DataDir string

	bin        string
	opts       options
	configDir  string
	configFile string
	logs       syncBuffer

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of the consul binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the result of cmd.Wait, set before done is closed
	logs int           // the length of the agent's logs when it started
}

// Start starts a Consul server agent on free loopback ports, waits until it
// has a leader, an initialised Connect CA, its node in the catalog and a
// peering certificate on GRPCTLSPort, and stops it when the test ends. It is
// a -dev agent unless WithDataDir is given. Peering is enabled, so two agents
// can peer; a peering takes up to about 5 seconds to become ACTIVE after
// Establish, so poll for it. When the test fails, the agent's logs are
// written to the test log.
func Start(t testing.TB, opts ...Option) *Agent {
	t.Helper()
	o := newOptions(opts)
	a := &Agent{
		Datacenter:      o.datacenter,
		NodeName:        o.nodeName,
		ManagementToken: o.managementToken,
		DataDir:         o.dataDir,
		bin:             Binary(t),
		opts:            o,
		configDir:       t.TempDir(),
	}
	t.Cleanup(func() {
		a.Stop(t)
		if t.Failed() {
			t.Logf("testconsul: logs of agent %s/%s:\n%s", a.Datacenter, a.NodeName, a.Logs())
		}
	})
	a.run(t, true)
	return a
}

// Start restarts the agent after Stop, on the same ports and with the same
// data directory. A -dev agent comes back empty. It fails the test when the
// agent is running or does not become ready.
func (a *Agent) Start(t testing.TB) {
	t.Helper()
	a.mu.Lock()
	running := a.proc != nil
	a.mu.Unlock()
	if running {
		t.Fatalf("testconsul: agent %s/%s is already running", a.Datacenter, a.NodeName)
	}
	a.logs.WriteString("\n--- testconsul: restarting agent ---\n")
	a.run(t, false)
}

// Stop stops the agent with SIGTERM and waits for it to exit, killing it
// after 30 seconds. Stopping a stopped agent does nothing. It fails the test
// when the agent had exited before Stop.
func (a *Agent) Stop(t testing.TB) {
	t.Helper()
	a.mu.Lock()
	p := a.proc
	a.proc = nil
	a.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case <-p.done:
		t.Errorf("testconsul: agent %s/%s exited before Stop: %v", a.Datacenter, a.NodeName, p.err)
		return
	default:
	}
	// The agent exits with status 1 after SIGTERM; only a hang is an error.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("testconsul: signal agent %s/%s: %v", a.Datacenter, a.NodeName, err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		t.Errorf("testconsul: agent %s/%s did not exit %s after SIGTERM; killing it", a.Datacenter, a.NodeName, stopTimeout)
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("testconsul: kill agent %s/%s: %v", a.Datacenter, a.NodeName, err)
		}
		<-p.done
	}
}

// Logs returns the agent's combined standard output and error so far, across
// restarts.
func (a *Agent) Logs() string {
	return a.logs.String()
}

// Client returns a client of the agent's HTTP API that sends the management
// token when ACLs are on.
func (a *Agent) Client() *api.Client {
	return a.ClientWithToken(a.ManagementToken)
}

// ClientWithToken returns a client of the agent's HTTP API that sends token, or the
// anonymous token when token is empty, so that tests do not depend on the token in the
// environment of whoever runs them. (api.NewClient still reads CONSUL_HTTP_TOKEN_FILE
// when CONSUL_HTTP_TOKEN equals token; ClientWithToken panics if that file cannot be
// read.)
func (a *Agent) ClientWithToken(token string) *api.Client {
	c, err := api.NewClient(a.Config(token))
	if err != nil {
		panic(fmt.Sprintf("testconsul: client of agent %s/%s: %v", a.Datacenter, a.NodeName, err))
	}
	return c
}

// Config returns the configuration of a client of the agent's HTTP API that sends
// token, or the anonymous token when token is empty (see [Agent.ClientWithToken]).
func (a *Agent) Config(token string) *api.Config {
	if token == "" {
		token = anonymousSecret
	}
	return &api.Config{
		Address:    a.HTTPAddr,
		Scheme:     "http",
		Datacenter: a.Datacenter,
		Token:      token,
		HttpClient: &http.Client{Timeout: requestTimeout},
	}
}

// anonymousSecret is the secret of Consul's anonymous token. Sending it keeps an
// api.Client from falling back to the token in the environment.
const anonymousSecret = "anonymous"

// run launches the agent until it is ready, picking new ports first when
// fresh is set, and fails the test if it cannot.
func (a *Agent) run(t testing.TB, fresh bool) {
	t.Helper()
	var err error
	for range startAttempts {
		if fresh {
			if err = a.pickPorts(); err != nil {
				break
			}
		}
		began := time.Now()
		if err = a.launch(); errors.Is(err, errPortInUse) {
			continue
		}
		if err == nil {
			t.Logf("testconsul: agent %s/%s ready on %s in %s", a.Datacenter, a.NodeName, a.HTTPAddr, time.Since(began).Round(time.Millisecond))
		}
		break
	}
	if err != nil {
		// The cleanup registered by Start logs the agent's output.
		t.Fatalf("testconsul: start agent %s/%s: %v", a.Datacenter, a.NodeName, err)
	}
}

// pickPorts chooses free ports and writes the configuration that uses them.
func (a *Agent) pickPorts() error {
	free, err := freePorts(portCount)
	if err != nil {
		return err
	}
	p := portsFrom(free)
	a.HTTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTP))
	a.HTTPPort, a.DNSPort, a.GRPCPort, a.GRPCTLSPort = p.HTTP, p.DNS, p.GRPC, p.GRPCTLS
	a.ServerPort, a.LANSerfPort, a.WANSerfPort = p.Server, p.SerfLAN, p.SerfWAN
	a.configFile, err = writeConfig(a.configDir, a.opts, p)
	return err
}

func (a *Agent) ports() ports {
	return ports{
		HTTP: a.HTTPPort, DNS: a.DNSPort, GRPC: a.GRPCPort, GRPCTLS: a.GRPCTLSPort,
		Server: a.ServerPort, SerfLAN: a.LANSerfPort, SerfWAN: a.WANSerfPort,
	}
}

// launch starts the consul process and waits until it is ready. On failure
// the process is gone; errPortInUse means another process holds a port.
func (a *Agent) launch() error {
	cmd := exec.Command(a.bin, args(a.opts, a.ports(), a.configFile)...)
	cmd.Stdout = &a.logs
	cmd.Stderr = &a.logs
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = stopTimeout
	p := &process{cmd: cmd, done: make(chan struct{}), logs: a.logs.Len()}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testconsul: run %s: %w", a.bin, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := a.waitReady(p); err != nil {
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("testconsul: kill agent: %w", err)
		}
		<-p.done
		return err
	}
	a.mu.Lock()
	a.proc = p
	a.mu.Unlock()
	return nil
}

// waitReady polls the agent until it is ready, it exits or readyTimeout
// passes.
func (a *Agent) waitReady(p *process) error {
	client := a.Client()
	timeout := time.NewTimer(readyTimeout)
	defer timeout.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := a.ready(client)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			if strings.Contains(a.logs.String()[p.logs:], "address already in use") {
				return fmt.Errorf("%w: agent exited: %w", errPortInUse, p.err)
			}
			return fmt.Errorf("testconsul: agent exited: %w", p.err)
		case <-timeout.C:
			return fmt.Errorf("testconsul: agent not ready after %s: %w", readyTimeout, err)
		case <-tick.C:
		}
	}
}

// ready returns nil when the agent behind client has a leader, an
// initialised Connect CA, its node in the catalog and a peering server
// certificate on the grpc_tls port. Without the certificate, a peer that
// dials right after Start fails its TLS handshake and backs off for seconds.
func (a *Agent) ready(client *api.Client) error {
	leader, err := client.Status().Leader()
	if err != nil {
		return fmt.Errorf("testconsul: read leader: %w", err)
	}
	if leader == "" {
		return errors.New("testconsul: no leader")
	}
	roots, _, err := client.Connect().CARoots(nil)
	if err != nil {
		return fmt.Errorf("testconsul: read CA roots: %w", err)
	}
	if roots.TrustDomain == "" || len(roots.Roots) == 0 {
		return errors.New("testconsul: connect CA not initialised")
	}
	n, _, err := client.Catalog().Node(a.NodeName, nil)
	if err != nil {
		return fmt.Errorf("testconsul: read node: %w", err)
	}
	if n == nil {
		return fmt.Errorf("testconsul: node %s not in catalog", a.NodeName)
	}
	return a.peeringTLSReady(roots)
}

// peeringTLSReady completes a TLS handshake with the grpc_tls port the way a
// dialing peer does: with the peering server name and the CA roots.
func (a *Agent) peeringTLSReady(roots *api.CARootList) error {
	pool := x509.NewCertPool()
	for _, r := range roots.Roots {
		if !pool.AppendCertsFromPEM([]byte(r.RootCertPEM)) {
			return fmt.Errorf("testconsul: CA root %s: no certificate in PEM", r.ID)
		}
	}
	d := tls.Dialer{
		NetDialer: &net.Dialer{Timeout: requestTimeout},
		Config: &tls.Config{
			ServerName: "server." + a.Datacenter + ".peering." + roots.TrustDomain,
			RootCAs:    pool,
			NextProtos: []string{"h2"},
			MinVersion: tls.VersionTLS12,
		},
	}
	conn, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.GRPCTLSPort)))
	if err != nil {
		return fmt.Errorf("testconsul: peering TLS handshake: %w", err)
	}
	return conn.Close()
}

// syncBuffer collects output and is safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// WriteString appends s.
func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Len returns the number of bytes written.
func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}
