package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// TestLeaks checks the detector TestSecretsNeverShown relies on.
func TestLeaks(t *testing.T) {
	secrets := []e2e.Secret{{Name: "token", Value: "s3cr3t-value"}, {Name: "empty"}}
	tests := []struct {
		name   string
		output string
		want   []e2e.Leak
	}{
		{name: "clean", output: "nothing to see"},
		{name: "secret", output: "token=s3cr3t-value;", want: []e2e.Leak{{Secret: "token", Output: "out", Around: "token=<token>;"}}},
		{
			name: "private key", output: "key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n",
			want: []e2e.Leak{{Secret: "PEM private key", Output: "out", Around: "key: -----BEGIN EC PRIVATE KEY-----"}},
		},
		{name: "certificate", output: "-----BEGIN CERTIFICATE-----\nMIIB\n"},
		{name: "part of the secret", output: "s3cr3t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e2e.Leaks(map[string]string{"out": tt.output}, secrets)
			assert.Equal(t, tt.want, got, "got leaks %v, want %v", got, tt.want)
		})
	}
}

// secretsEnv is two datacenters with ACLs, peered through mesh gateways that this
// library's control plane serves with the gateways' own tokens, and every secret the
// test looks for.
type secretsEnv struct {
	dc1, dc2 *meshCluster
	// gw1 and gw2 are the gateways' ACL tokens, token the peering token dc1 generated.
	gw1, gw2, token string
	cp1             *e2e.ControlPlane
	secrets         []e2e.Secret
	outputs         map[string]string
}

// Values planted in a health check of dc1's server node (see plantCheck): its
// definition is part of the servers' health entries, which a gateway reads.
const (
	checkBearer   = "d41f6c8e2b7a4e9f8c1d3b5a7e9f0c2d"
	checkBody     = "b0dy5ecret9f1e2d3c4b5a69788"
	checkPassword = "urlpa55w0rd7c1e9a2b4d6f8"
)

// TestSecretsNeverShown sets up a real peering through mesh gateways between two
// datacenters with ACLs, plants credentials in a health check the gateway's State
// carries, and collects every output this library and peergw produce for it: watcher
// errors, captures, resources and diagnostics, decoded peering tokens in every format,
// errors for bad peering and ACL tokens, and the stdout and stderr of peergw capture,
// xds, token inspect, doctor and serve (with its /healthz, /metrics and xDS answers).
// None may contain an ACL token, the peering token or its establishment secret, a
// planted credential, or a PEM private key. PEERINGGW_SECRETS_DUMP names a file to
// write the outputs to, for review.
func TestSecretsNeverShown(t *testing.T) {
	skipShort(t)
	t.Parallel()
	env := newSecretsEnv(t)
	env.collectLibrary(t)
	env.collectBadTokens(t)
	env.collectPeergw(t)
	// The control plane ran through all of it; its read errors count too.
	env.addErrors("control plane dc1 read errors", env.cp1.ReadErrors()...)

	size := 0
	for _, o := range env.outputs {
		size += len(o)
	}
	for _, l := range e2e.Leaks(env.outputs, env.secrets) {
		t.Errorf("%s shows the %s: %q", l.Output, l.Secret, l.Around)
	}
	if path := os.Getenv("PEERINGGW_SECRETS_DUMP"); path != "" {
		b, err := json.MarshalIndent(env.outputs, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
	t.Logf("checked %d outputs (%d bytes) for %d secrets and PEM private keys", len(env.outputs), size, len(env.secrets))
}

// newSecretsEnv starts the two datacenters, serves their gateways, peers them and
// plants the check.
func newSecretsEnv(t *testing.T) *secretsEnv {
	t.Helper()
	mgmt1, mgmt2 := uuid(t), uuid(t)
	env := &secretsEnv{
		dc1:     newMeshCluster(t, "dc1", testconsul.WithACLs(mgmt1)),
		dc2:     newMeshCluster(t, "dc2", testconsul.WithACLs(mgmt2)),
		outputs: map[string]string{},
	}
	policy, err := acl.MeshGateway(acl.EditionCE)
	require.NoError(t, err)
	env.gw1 = createToken(t, env.dc1.client, policy, "mesh-gateway")
	env.gw2 = createToken(t, env.dc2.client, policy, "mesh-gateway")
	env.cp1 = serveWithToken(t, env.dc1, env.gw1)
	serveWithToken(t, env.dc2, env.gw2)

	var decoded *peering.Token
	env.token, decoded = e2e.GenerateToken(t, env.dc1.client, "dc1-to-dc2")
	establish(t, env.dc1, env.dc2, env.token)
	plantCheck(t, env.dc1.client, env.dc1.agent.NodeName)

	env.secrets = []e2e.Secret{
		{Name: "dc1 management token", Value: mgmt1},
		{Name: "dc2 management token", Value: mgmt2},
		{Name: "dc1 gateway token", Value: env.gw1},
		{Name: "dc2 gateway token", Value: env.gw2},
		{Name: "peering token", Value: env.token},
		{Name: "establishment secret", Value: decoded.EstablishmentSecret.Reveal()},
		{Name: "health check bearer token", Value: checkBearer},
		{Name: "health check body", Value: checkBody},
		{Name: "health check URL password", Value: checkPassword},
	}
	require.NotEmpty(t, decoded.EstablishmentSecret.Reveal(), "got a peering token without establishment secret")
	env.secrets = append(env.secrets, caKeys(t, env.dc1.client)...)
	return env
}

// serveWithToken serves dc's gateway with a control plane that reads Consul with token,
// and a data plane, and waits until the data plane holds the accept side.
func serveWithToken(t *testing.T, dc *meshCluster, token string) *e2e.ControlPlane {
	t.Helper()
	cp := e2e.StartControlPlane(t, dc.agent.Config(token), dc.gatewayID)
	dp := cp.StartDataPlane(t)
	waitStat(t, dp, "listener_manager.total_listeners_active", dataplane.Equal(2))
	waitStat(t, dp, "cluster."+dc.serverName+".membership_total", dataplane.Equal(1))
	return cp
}

// plantCheck registers in the catalog, on the agent's own node, an HTTP health check
// whose definition holds credentials: a bearer token header, a body and a URL
// password. Consul 1.14 keeps the definition of catalog checks (not of agent checks)
// and returns it with the servers' health, which a gateway reads. The check passes.
func plantCheck(t *testing.T, c *api.Client, node string) {
	t.Helper()
	_, err := c.Catalog().Register(&api.CatalogRegistration{
		Node: node, Address: "127.0.0.1", SkipNodeUpdate: true,
		Check: &api.AgentCheck{
			Node: node, CheckID: "planted", Name: "planted", Status: api.HealthPassing, Type: "http",
			Definition: api.HealthCheckDefinition{
				HTTP:   "http://monitor:" + checkPassword + "@127.0.0.1:1/health",
				Header: map[string][]string{"Authorization": {"Bearer " + checkBearer}},
				Method: "POST",
				Body:   `{"key":"` + checkBody + `"}`,
			},
		},
	}, nil)
	require.NoError(t, err)
}

// pemPrivateKey matches a whole PEM private key block.
var pemPrivateKey = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[A-Za-z0-9+/=\s]+-----END [A-Z0-9 ]*PRIVATE KEY-----`)

// caKeys returns, as secrets, the private keys GET /v1/connect/ca/configuration shows
// the management token, if any.
func caKeys(t *testing.T, mgmt *api.Client) []e2e.Secret {
	t.Helper()
	conf, _, err := mgmt.Connect().CAGetConfig(nil)
	require.NoError(t, err)
	b, err := json.Marshal(conf.Config)
	require.NoError(t, err)
	var out []e2e.Secret
	for i, block := range pemPrivateKey.FindAllString(strings.ReplaceAll(string(b), `\n`, "\n"), -1) {
		body := strings.Fields(block)
		out = append(out, e2e.Secret{Name: fmt.Sprintf("CA private key %d", i), Value: body[len(body)/2]})
	}
	t.Logf("the CA configuration (provider %s) shows %d private keys", conf.Provider, len(out))
	return out
}

// collectLibrary collects what the library shows of the live clusters: States as
// captures, resources and diagnostics, decoded tokens.
func (env *secretsEnv) collectLibrary(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	for _, c := range []struct {
		name   string
		client *api.Client
	}{
		{"gateway token", env.dc1.agent.ClientWithToken(env.gw1)},
		{"management token", env.dc1.client},
	} {
		s, err := peering.ReadState(ctx, c.client, env.dc1.gatewayID)
		require.NoError(t, err)
		raw, err := json.Marshal(s)
		require.NoError(t, err)
		require.Contains(t, string(raw), checkBearer, "got a State without the planted check, want it to carry the credentials")
		var capture bytes.Buffer
		require.NoError(t, peering.WriteCapture(&capture, s))
		env.outputs["WriteCapture, State read with the "+c.name] = capture.String()
		res, diags := xds.Build(s)
		dump, err := res.MarshalJSON()
		require.NoError(t, err)
		env.outputs["xds.Build resources, State read with the "+c.name] = string(dump)
		for i, d := range diags {
			env.outputs[fmt.Sprintf("xds.Build diagnostic %d, State read with the %s", i, c.name)] = formats(d)
		}
	}
	served, err := env.cp1.Served(t).MarshalJSON()
	require.NoError(t, err)
	env.outputs["xds.Server resources"] = string(served)

	tok, err := peering.DecodeToken(env.token)
	require.NoError(t, err)
	env.outputs["DecodeToken *Token"] = formats(tok)
	env.outputs["DecodeToken Token"] = formats(*tok)
	env.outputs["DecodeToken secret"] = formats(tok.EstablishmentSecret) + fmt.Sprintf("%x %X %d %10s %-10q", tok.EstablishmentSecret,
		tok.EstablishmentSecret, tok.EstablishmentSecret, tok.EstablishmentSecret, tok.EstablishmentSecret)
	for _, indent := range []bool{false, true} {
		var b []byte
		if indent {
			b, err = json.MarshalIndent(tok, "", "  ")
		} else {
			b, err = json.Marshal(tok)
		}
		require.NoError(t, err)
		env.outputs[fmt.Sprintf("DecodeToken JSON indent=%t", indent)] = string(b)
	}
	certs, err := tok.Certificates()
	require.NoError(t, err)
	env.outputs["Token.Certificates"] = formats(certs)
}

// formats returns v printed with %v, %+v, %#v and %s.
func formats(v any) string {
	return fmt.Sprintf("%v\n%+v\n%#v\n%s\n", v, v, v, v)
}

// addErrors adds errs, in every format, to the outputs under name.
func (env *secretsEnv) addErrors(name string, errs ...error) {
	var b strings.Builder
	for _, err := range errs {
		b.WriteString(formats(err))
	}
	env.outputs[name] = b.String()
}

// collectBadTokens collects the errors of the library for peering tokens that are
// damaged around their secret, and for ACL tokens Consul does not know, live and
// unreachable, including those a watcher reports.
func (env *secretsEnv) collectBadTokens(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	for name, bad := range badPeeringTokens(t, env.token) {
		tok, err := peering.DecodeToken(bad)
		if err != nil {
			env.addErrors("DecodeToken error, "+name, err)
			continue
		}
		// The damage is elsewhere: in the CA, which only Certificates reads.
		_, err = tok.Certificates()
		env.addErrors("Token.Certificates error, "+name, err)
	}

	bogus := uuid(t)
	env.secrets = append(env.secrets, e2e.Secret{Name: "unknown ACL token", Value: bogus})
	for name, cfg := range map[string]*api.Config{
		"live":        env.dc1.agent.Config(bogus),
		"unreachable": {Address: "127.0.0.1:1", Token: bogus},
	} {
		c, err := api.NewClient(cfg)
		require.NoError(t, err)
		_, err = peering.ReadState(ctx, c, env.dc1.gatewayID)
		env.addErrors("ReadState error, unknown token, "+name, err)
		_, err = meshconfig.Apply(ctx, c, true)
		env.addErrors("meshconfig.Apply error, unknown token, "+name, err)
		policy, err := acl.MeshGateway(acl.EditionCE)
		require.NoError(t, err)
		ap, err := policy.APIPolicy("mesh-gateway-bogus", "")
		require.NoError(t, err)
		_, _, err = acl.CreateOrUpdate(ctx, c, ap)
		env.addErrors("acl.CreateOrUpdate error, unknown token, "+name, err)
		_, err = acl.CreateToken(ctx, c, ap, "bogus")
		env.addErrors("acl.CreateToken error, unknown token, "+name, err)
		_, err = peering.GenerateToken(ctx, c, api.PeeringGenerateTokenRequest{PeerName: "bogus"})
		env.addErrors("peering.GenerateToken error, unknown token, "+name, err)

		cp := e2e.StartControlPlane(t, cfg, env.dc1.gatewayID)
		e2e.Eventually(t, e2e.PeeringTimeout, func() error {
			if n := len(cp.ReadErrors()); n < faultErrors {
				return fmt.Errorf("got %d read errors with an unknown token, want at least %d", n, faultErrors)
			}
			return nil
		})
		env.addErrors("watcher errors, unknown token, "+name, append(cp.ReadErrors(), cp.ReadErr())...)
	}
}

// badPeeringTokens returns damaged forms of token that still hold its secret.
func badPeeringTokens(t *testing.T, token string) map[string]string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(token)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields))
	secret, ok := fields["EstablishmentSecret"].(string)
	require.True(t, ok, "got token fields %v, want an EstablishmentSecret string", fields)
	enc := base64.StdEncoding.EncodeToString
	retyped := func(key string, v any) string {
		f := map[string]any{}
		for k, x := range fields {
			f[k] = x
		}
		f[key] = v
		b, err := json.Marshal(f)
		require.NoError(t, err)
		return enc(b)
	}
	return map[string]string{
		"truncated":                token[:len(token)*2/3],
		"illegal base64":           token[:len(token)/2] + "!" + token[len(token)/2:],
		"URL base64":               base64.URLEncoding.EncodeToString(raw),
		"JSON, not base64":         string(raw),
		"trailing garbage":         enc(append(raw, []byte(` {"EstablishmentSecret":"`+secret+`"}`)...)),
		"JSON cut in the secret":   enc(raw[:bytes.Index(raw, []byte(secret))+len(secret)/2]),
		"secret of the wrong type": retyped("EstablishmentSecret", map[string]string{"value": secret}),
		"PeerID of the wrong type": retyped("PeerID", []string{secret}),
		"CA holding the secret":    retyped("CA", []string{"-----BEGIN CERTIFICATE-----\n" + secret + "\n-----END CERTIFICATE-----\n"}),
	}
}

// uuid returns a random UUID, the form Consul's ACL tokens take.
func uuid(t *testing.T) string {
	t.Helper()
	var b [16]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// peergwBinary builds examples/peergw into a temporary directory and returns its path.
func peergwBinary(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "peergw")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./examples/peergw")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./examples/peergw: %s", out)
	return bin
}

// peergwEnv is the environment of peergw: the test's, without the consul CLI's
// variables, plus extra.
func peergwEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONSUL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runPeergw runs bin with args, stdin and the extra environment, and returns its stdout,
// and all it showed: exit status, stdout and stderr.
func runPeergw(ctx context.Context, t *testing.T, bin, stdin string, env []string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = peergwEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err, "run peergw %v", args)
	}
	return stdout.String(), fmt.Sprintf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
}

// collectPeergw collects what peergw shows of the live clusters, with good and bad
// tokens.
func (env *secretsEnv) collectPeergw(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	bin := peergwBinary(t)
	dir := t.TempDir()
	bogus := uuid(t)
	env.secrets = append(env.secrets, e2e.Secret{Name: "unknown ACL token given to peergw", Value: bogus})
	mgmtFile := writeSecret(t, dir, "management", env.dc1.agent.ManagementToken)
	peerFile := writeSecret(t, dir, "peer", env.gw2)
	at := "CONSUL_HTTP_ADDR=" + env.dc1.agent.HTTPAddr
	asGateway := []string{at, "CONSUL_HTTP_TOKEN=" + env.gw1}
	asUnknown := []string{at, "CONSUL_HTTP_TOKEN=" + bogus}
	id := env.dc1.gatewayID
	run := func(name, stdin string, vars []string, args ...string) string {
		stdout, all := runPeergw(ctx, t, bin, stdin, vars, args...)
		env.outputs["peergw "+name] = all
		return stdout
	}

	capture := run("capture", "", asGateway, "capture", "-gateway-id", id)
	require.Contains(t, capture, `"Peerings"`, "got peergw capture output %q, want a capture", capture)
	require.Contains(t, capture, "[redacted]", "got a capture without the planted check's header, want it redacted")
	run("capture, management token file", "", []string{at}, "capture", "-gateway-id", id, "-token-file", mgmtFile)
	run("xds --gateway-id", "", asGateway, "xds", "--gateway-id", id)
	run("xds -state -", capture, nil, "xds", "-state", "-")
	run("token inspect", "", nil, "token", "inspect", env.token)
	run("token inspect -format json -", env.token, nil, "token", "inspect", "-format", "json", "-")
	run("token inspect -issuer", "", []string{at, "CONSUL_HTTP_TOKEN_FILE=" + mgmtFile}, "token", "inspect", "-issuer", env.token)
	for name, bad := range badPeeringTokens(t, env.token) {
		run("token inspect, "+name, "", nil, "token", "inspect", bad)
		run("token inspect -format json, "+name, bad, nil, "token", "inspect", "-format", "json", "-")
	}
	run("doctor", "", asGateway, "doctor", "-allow-loopback")
	run("doctor, management token", "", []string{at}, "doctor", "-allow-loopback", "-token", env.dc1.agent.ManagementToken)
	run("doctor -peer-addr -format json", "", asGateway, "doctor", "-allow-loopback", "-format", "json",
		"-peer-addr", env.dc2.agent.HTTPAddr, "-peer-token-file", peerFile)
	run("doctor -peer-addr -peer-token", "", asGateway, "doctor", "-allow-loopback",
		"-peer-addr", env.dc2.agent.HTTPAddr, "-peer-token", env.dc2.agent.ManagementToken)
	run("capture, unknown token", "", asUnknown, "capture", "-gateway-id", id)
	run("xds, unknown token", "", asUnknown, "xds", "-gateway-id", id)
	run("doctor, unknown token", "", asUnknown, "doctor", "-allow-loopback")
	run("doctor, unknown peer token", "", asGateway, "doctor", "-allow-loopback", "-peer-addr", env.dc2.agent.HTTPAddr, "-peer-token", bogus)
	run("token inspect -issuer, unknown token", "", asUnknown, "token", "inspect", "-issuer", env.token)
	env.collectServe(t, bin)
}

// writeSecret writes a token file and returns its path.
func writeSecret(t *testing.T, dir, name, secret string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(secret+"\n"), 0o600))
	return path
}

// lockedBuffer is a bytes.Buffer safe for a process writing and a test reading.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logAddr returns the addr attribute of the first JSON log line with message msg.
func logAddr(logs, msg string) string {
	for line := range strings.Lines(logs) {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			return rec.Addr
		}
	}
	return ""
}

// collectServe runs peergw serve with debug logs and a token of its own, asks it for
// the gateway's resources over delta xDS, reads /healthz and /metrics, deletes its
// token so that its reads fail, and stops it.
func (env *secretsEnv) collectServe(t *testing.T, bin string) {
	t.Helper()
	ctx := t.Context()
	mgmt := env.dc1.client
	policy, err := acl.MeshGateway(acl.EditionCE)
	require.NoError(t, err)
	ap, err := policy.APIPolicy("mesh-gateway", "")
	require.NoError(t, err)
	stored, _, err := acl.CreateOrUpdate(ctx, mgmt, ap)
	require.NoError(t, err)
	tok, err := acl.CreateToken(ctx, mgmt, stored, "peergw serve")
	require.NoError(t, err)
	env.secrets = append(env.secrets, e2e.Secret{Name: "peergw serve token", Value: tok.SecretID})

	cmd := exec.Command(bin, "serve", "-gateway-id", env.dc1.gatewayID, "-listen", "127.0.0.1:0",
		"-health-addr", "127.0.0.1:0", "-log-format", "json", "-log-level", "debug", "-retry-max", "1s",
		"-token-file", writeSecret(t, t.TempDir(), "serve", tok.SecretID))
	cmd.Env = peergwEnv("CONSUL_HTTP_ADDR=" + env.dc1.agent.HTTPAddr)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill() // the test failed before stopping it
			<-exited
		}
	})
	var xdsAddr, healthAddr string
	e2e.Eventually(t, e2e.PeeringTimeout, func() error {
		logs := stderr.String()
		xdsAddr, healthAddr = logAddr(logs, "xDS server listening"), logAddr(logs, "health server listening")
		if xdsAddr == "" || healthAddr == "" || !strings.Contains(logs, `"resources pushed"`) {
			return fmt.Errorf("serve not serving yet:\n%s", logs)
		}
		return nil
	})

	env.outputs["peergw serve xDS responses"] = fetchXDS(t, xdsAddr, env.dc1.gatewayID, tok.SecretID)
	for _, path := range []string{"/healthz", "/metrics"} {
		env.outputs["peergw serve "+path] = httpGet(t, "http://"+healthAddr+path)
	}

	_, err = mgmt.ACL().TokenDelete(tok.AccessorID, nil)
	require.NoError(t, err)
	e2e.Eventually(t, e2e.PeeringTimeout, func() error {
		if !strings.Contains(stderr.String(), "reading Consul failed") {
			return errors.New("serve has not logged a failed read since its token was deleted")
		}
		return nil
	})
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	stopped = true
	require.NoError(t, <-exited, "peergw serve:\n%s", stderr.String())
	env.outputs["peergw serve"] = "stdout:\n" + stdout.String() + "\nstderr:\n" + stderr.String()
}

// fetchXDS subscribes to every resource of gateway id over delta xDS at addr and
// returns the responses, as protojson.
func fetchXDS(t *testing.T, addr, id, token string) string {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer func() { assert.NoError(t, conn.Close()) }()
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(t.Context(), xds.ConsulTokenHeader, token))
	defer cancel()
	c, err := xdsclient.Dial(ctx, conn, id)
	require.NoError(t, err)
	var out strings.Builder
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType} {
		require.NoError(t, c.Subscribe(typ))
		resp, err := c.Recv()
		require.NoError(t, err)
		b, err := protojson.Marshal(resp)
		require.NoError(t, err)
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.String()
}

// httpGet returns the status and body of a GET of url.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { assert.NoError(t, resp.Body.Close()) }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.Status + "\n" + string(body)
}
