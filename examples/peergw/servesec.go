package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"

	"github.com/peeringgw/peeringgw/xds"
)

// securityFlags are serve's flags for the xDS server's TLS and authorization.
type securityFlags struct {
	certFile, keyFile, clientCAFile string
	insecure                        bool
	maxStreams, maxPerGateway       int
}

func (f *securityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.certFile, "xds-cert-file", "", "PEM `file` of the xDS server's TLS certificate (chain); reread when it changes")
	fs.StringVar(&f.keyFile, "xds-key-file", "", "PEM `file` of the xDS server's TLS private key; reread when it changes")
	fs.StringVar(&f.clientCAFile, "xds-client-ca-file", "", "PEM `file` of the CAs of xDS client certificates: clients must present one, naming their gateway")
	fs.BoolVar(&f.insecure, "xds-insecure", false, "serve xDS without authorization (and plaintext on any address): for development only")
	fs.IntVar(&f.maxStreams, "xds-max-streams", xds.DefaultMaxStreams, "most open xDS streams in all")
	fs.IntVar(&f.maxPerGateway, "xds-max-streams-per-gateway", xds.DefaultMaxStreamsPerGateway, "most open xDS streams per gateway")
}

// check validates the flags against the listen address: TLS needs both files, client
// certificates need TLS, and a non-loopback address needs TLS or -xds-insecure.
func (f *securityFlags) check(fs *flag.FlagSet, listen string) error {
	if (f.certFile == "") != (f.keyFile == "") {
		return usagef(fs, "-xds-cert-file and -xds-key-file go together")
	}
	if f.maxStreams < 1 || f.maxPerGateway < 1 {
		return usagef(fs, "-xds-max-streams and -xds-max-streams-per-gateway must be positive")
	}
	if f.clientCAFile != "" && f.certFile == "" {
		return usagef(fs, "-xds-client-ca-file needs -xds-cert-file and -xds-key-file")
	}
	if f.certFile == "" && !f.insecure && !loopback(listen) {
		return usagef(fs, "-listen %s is not a loopback address: give -xds-cert-file and -xds-key-file, or -xds-insecure", listen)
	}
	return nil
}

// loopback reports whether addr's host is a loopback IP or localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// serviceNames reads the service name of a gateway instance from the agent, with
// serve's own token, and keeps it for serviceNameTTL.
type serviceNames struct {
	client *api.Client

	mu    sync.Mutex
	names map[string]serviceName
}

type serviceName struct {
	name    string
	expires time.Time
}

// serviceNameTTL is how long a gateway's service name is kept.
const serviceNameTTL = 30 * time.Second

func newServiceNames(client *api.Client) *serviceNames {
	return &serviceNames{client: client, names: map[string]serviceName{}}
}

// name returns the service name of instance id, or "" when the agent does not say,
// which lets no certificate in.
func (s *serviceNames) name(id string) string {
	s.mu.Lock()
	n, ok := s.names[id]
	s.mu.Unlock()
	if ok && time.Now().Before(n.expires) {
		return n.name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	svc, _, err := s.client.Agent().Service(id, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil || svc == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names[id] = serviceName{name: svc.Service, expires: time.Now().Add(serviceNameTTL)}
	return svc.Service
}

// serverOptions are the xds.Server options the flags give: TLS, and the authorizers
// (the Consul ACL token of each stream; and, with a client CA, the client certificate),
// or none with -xds-insecure. Refused streams are logged and counted.
func (f *securityFlags) serverOptions(conn *consulConn, log *slog.Logger, reg prometheus.Registerer) ([]xds.ServerOption, error) {
	refusals := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "peergw_xds_refused_total",
		Help: "xDS streams refused or ended by the server, by gRPC code.",
	}, []string{"code"})
	if err := reg.Register(refusals); err != nil {
		return nil, err
	}
	opts := []xds.ServerOption{xds.WithStreamLimits(f.maxStreams, f.maxPerGateway), xds.WithOnRefused(func(r xds.Refusal) {
		code := status.Code(r.Err)
		refusals.WithLabelValues(code.String()).Inc()
		// Refusal errors never hold a token.
		log.Warn("xDS stream refused", "node", r.NodeID, "peer", r.Peer, "code", code.String(), "open", r.Open, "error", r.Err)
	})}
	if f.certFile != "" {
		cfg, err := xds.NewTLSConfig(xds.TLSFiles{CertFile: f.certFile, KeyFile: f.keyFile, ClientCAFile: f.clientCAFile})
		if err != nil {
			return nil, err
		}
		opts = append(opts, xds.WithTLS(cfg))
	}
	if f.insecure {
		log.Warn("-xds-insecure: every xDS client may read every gateway's configuration, without credentials")
		return append(opts, xds.WithAuthorizers(xds.AllowAll)), nil
	}
	authz := []xds.Authorizer{&xds.ConsulACL{Config: conn.cfg}}
	if f.clientCAFile != "" {
		authz = append(authz, xds.CertAuthorizer{Service: newServiceNames(conn.client).name})
	}
	return append(opts, xds.WithAuthorizers(authz...)), nil
}
