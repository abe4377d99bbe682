package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

// consulFlags are the consul CLI's HTTP API flags. Each overrides its environment
// variable; api.NewClient applies the consul CLI's token precedence: -token-file, then
// -token, then CONSUL_HTTP_TOKEN_FILE, then CONSUL_HTTP_TOKEN.
type consulFlags struct {
	addr, token, tokenFile                           string
	caFile, caPath, clientCert, clientKey, tlsServer string
}

// register adds the flags to fs.
func (f *consulFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "http-addr", "", "`address` of the Consul agent's HTTP API, with an optional http:// or https:// scheme (default $CONSUL_HTTP_ADDR, else 127.0.0.1:8500)")
	fs.StringVar(&f.token, "token", "", "ACL `token` for Consul (default $CONSUL_HTTP_TOKEN)")
	fs.StringVar(&f.tokenFile, "token-file", "", "`file` holding the ACL token; wins over -token (default $CONSUL_HTTP_TOKEN_FILE)")
	fs.StringVar(&f.caFile, "ca-file", "", "CA certificate `file` for HTTPS (default $CONSUL_CACERT)")
	fs.StringVar(&f.caPath, "ca-path", "", "`directory` of CA certificates for HTTPS (default $CONSUL_CAPATH)")
	fs.StringVar(&f.clientCert, "client-cert", "", "client certificate `file` for HTTPS (default $CONSUL_CLIENT_CERT)")
	fs.StringVar(&f.clientKey, "client-key", "", "client key `file` for HTTPS (default $CONSUL_CLIENT_KEY)")
	fs.StringVar(&f.tlsServer, "tls-server-name", "", "server `name` to verify for HTTPS (default $CONSUL_TLS_SERVER_NAME)")
}

// names are the flags register adds.
func (f *consulFlags) names() []string {
	return []string{"http-addr", "token", "token-file", "ca-file", "ca-path", "client-cert", "client-key", "tls-server-name"}
}

// config returns the client configuration: the environment, overridden by the flags.
func (f *consulFlags) config() *api.Config {
	cfg := api.DefaultConfig()
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Address, f.addr)
	set(&cfg.Token, f.token)
	set(&cfg.TokenFile, f.tokenFile)
	set(&cfg.TLSConfig.CAFile, f.caFile)
	set(&cfg.TLSConfig.CAPath, f.caPath)
	set(&cfg.TLSConfig.CertFile, f.clientCert)
	set(&cfg.TLSConfig.KeyFile, f.clientKey)
	set(&cfg.TLSConfig.Address, f.tlsServer)
	return cfg
}

// consulConn is a client and the address it talks to, for messages.
type consulConn struct {
	client *api.Client
	cfg    *api.Config // settled by api.NewClient
	addr   string
}

// connect returns a client for the flags.
func (f *consulFlags) connect() (*consulConn, error) {
	return newConsulConn(f.config())
}

// newConsulConn creates the client for cfg.
func newConsulConn(cfg *api.Config) (*consulConn, error) {
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client for %s: %w", cfg.Address, err)
	}
	// api.NewClient has moved a scheme prefix of the address into cfg.Scheme.
	return &consulConn{client: client, cfg: cfg, addr: cfg.Scheme + "://" + cfg.Address}, nil
}

// explain adds to err what the user needs: the address Consul could not be reached at.
func (c *consulConn) explain(err error) error {
	if errors.Is(err, peering.ErrUnreachable) {
		return fmt.Errorf("cannot reach Consul at %s: %w", c.addr, err)
	}
	return fmt.Errorf("consul at %s: %w", c.addr, err)
}

// peerFlags name the peer cluster's Consul for doctor. They never fall back to the
// CONSUL_HTTP_* variables, which describe the local cluster: the local token is never
// sent to the peer.
type peerFlags struct {
	addr, token, tokenFile, caFile string
}

func (f *peerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "peer-addr", "", "`address` of the peer cluster's Consul HTTP API; enables the checks across the two clusters")
	fs.StringVar(&f.token, "peer-token", "", "ACL `token` for the peer cluster's Consul")
	fs.StringVar(&f.tokenFile, "peer-token-file", "", "`file` holding the ACL token for the peer cluster's Consul; wins over -peer-token")
	fs.StringVar(&f.caFile, "peer-ca-file", "", "CA certificate `file` for the peer's HTTPS API")
}

// connect returns a client for the peer, or nil when -peer-addr is not set.
func (f *peerFlags) connect() (*consulConn, error) {
	if f.addr == "" {
		return nil, nil
	}
	cfg := api.DefaultConfig()
	cfg.Address = f.addr
	cfg.Token, cfg.TokenFile = f.token, f.tokenFile
	cfg.TLSConfig = api.TLSConfig{CAFile: f.caFile}
	if f.token == "" && f.tokenFile == "" {
		// api.NewClient would fill in the local cluster's token from the environment.
		hc, err := api.NewHttpClient(cfg.Transport, cfg.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("consul client for %s: %w", f.addr, err)
		}
		hc.Transport = withoutToken{hc.Transport}
		cfg.HttpClient = hc
	}
	return newConsulConn(cfg)
}

// withoutToken sends requests without an ACL token.
type withoutToken struct{ next http.RoundTripper }

func (t withoutToken) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Consul-Token") != "" {
		r = r.Clone(r.Context())
		r.Header.Del("X-Consul-Token")
	}
	return t.next.RoundTrip(r)
}
