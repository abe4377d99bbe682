package xds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// ConsulTokenHeader is the gRPC metadata key of the Consul ACL token, as Consul's own
// xDS server reads it.
const ConsulTokenHeader = "x-consul-token"

// DefaultACLCacheTTL is how long a [ConsulACL] keeps an answer of Consul, unless its
// CacheTTL says otherwise.
const DefaultACLCacheTTL = 10 * time.Second

// ErrACLUnavailable is wrapped, with [ErrPermissionDenied], by the errors of [ConsulACL]
// when Consul cannot answer: unreachable, ACLs disabled, or an unexpected answer.
var ErrACLUnavailable = errors.New("xds: consul cannot check the token")

// ConsulACL authorizes streams as Consul's xDS server does: the stream's metadata
// carries a Consul ACL token (x-consul-token) that must exist and grant service:write on
// the gateway's service. Unless Service is set, the service's name is that of the
// service instance whose ID is the node ID, read from the agent with the stream's own
// token (GET /v1/agent/service/<id>, which needs service:read). It asks Consul with
// POST /v1/internal/acl/authorize, which resolves the token (an unknown or deleted token
// fails) and evaluates the rule, and keeps each answer for CacheTTL. A Consul that cannot answer lets no one in. With the
// Server's re-authorization (see [WithReauthorize]), a token deleted or stripped of the
// right ends its open streams within CacheTTL plus that interval.
type ConsulACL struct {
	// Config is where Consul is: Address, Scheme and TLSConfig are used; its Token is
	// not (each stream's own token is).
	Config *api.Config
	// Service maps a node ID to the gateway's service name; by default the agent is
	// asked, with the stream's token.
	Service func(nodeID string) string
	// CacheTTL is how long an answer is kept; 0 means [DefaultACLCacheTTL].
	CacheTTL time.Duration
	// Timeout bounds one request to Consul; 0 means 5 s.
	Timeout time.Duration

	once    sync.Once
	client  *http.Client
	base    string
	initErr error

	mu       sync.Mutex
	cache    map[[sha256.Size]byte]aclAnswer
	inflight map[[sha256.Size]byte]*aclFlight
}

// aclFlight is a question to Consul in progress; err is set before done is closed.
type aclFlight struct {
	done chan struct{}
	err  error
}

// aclAnswer is a cached decision: nil error to allow.
type aclAnswer struct {
	err     error
	expires time.Time
}

// maxACLCache bounds the cached answers; the cache is emptied of expired ones, and
// then entirely, when full.
const maxACLCache = 10000

var _ Authorizer = (*ConsulACL)(nil)

// Authorize implements [Authorizer].
func (c *ConsulACL) Authorize(ctx context.Context, s StreamInfo) error {
	tokens := s.Metadata.Get(ConsulTokenHeader)
	if len(tokens) == 0 || tokens[0] == "" {
		return fmt.Errorf("%w: no %s", ErrUnauthenticated, ConsulTokenHeader)
	}
	if len(tokens) > 1 {
		return fmt.Errorf("%w: %d %s values", ErrPermissionDenied, len(tokens), ConsulTokenHeader)
	}
	if !validToken(tokens[0]) {
		return fmt.Errorf("%w: malformed %s", ErrPermissionDenied, ConsulTokenHeader)
	}
	if s.NodeID == "" {
		return fmt.Errorf("%w: no node ID", ErrPermissionDenied)
	}
	key := sha256.Sum256([]byte(s.NodeID + "\x00" + tokens[0]))
	now := time.Now()
	c.mu.Lock()
	a, ok := c.cache[key]
	if ok && now.Before(a.expires) {
		c.mu.Unlock()
		return a.err
	}
	// Streams of one token that miss together share one question to Consul.
	if f := c.inflight[key]; f != nil {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrPermissionDenied, ctx.Err())
		}
	}
	if c.inflight == nil {
		c.inflight = map[[sha256.Size]byte]*aclFlight{}
	}
	f := &aclFlight{done: make(chan struct{})}
	c.inflight[key] = f
	c.mu.Unlock()
	err := c.check(ctx, tokens[0], s.NodeID)
	f.err = err
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(f.done)
	if ctx.Err() != nil {
		return err // not cached: the stream ended, Consul may have been fine
	}
	ttl := c.CacheTTL
	if ttl <= 0 {
		ttl = DefaultACLCacheTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[[sha256.Size]byte]aclAnswer{}
	}
	if len(c.cache) >= maxACLCache {
		for k, v := range c.cache {
			if !now.Before(v.expires) {
				delete(c.cache, k)
			}
		}
		if len(c.cache) >= maxACLCache {
			clear(c.cache)
		}
	}
	c.cache[key] = aclAnswer{err: err, expires: now.Add(ttl)}
	return err
}

// validToken reports whether a token is 1 to 256 printable ASCII characters without
// spaces, as Consul's secret IDs (UUIDs) are; anything else is refused unasked.
func validToken(tok string) bool {
	if len(tok) == 0 || len(tok) > 256 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return false
		}
	}
	return true
}

func (c *ConsulACL) init() {
	cfg := c.Config
	if cfg == nil {
		cfg = api.DefaultConfig()
	}
	scheme := cfg.Scheme
	if scheme == "" {
		scheme = "http"
	}
	addr := cfg.Address
	if i := strings.Index(addr, "://"); i >= 0 {
		scheme, addr = addr[:i], addr[i+3:]
	}
	c.base = scheme + "://" + addr
	if cfg.HttpClient != nil {
		c.client = cfg.HttpClient
		return
	}
	c.client, c.initErr = api.NewHttpClient(cleanTransport(), cfg.TLSConfig)
}

func cleanTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// aclRequest and aclResponse are the bodies of /v1/internal/acl/authorize.
type aclRequest struct {
	Resource, Segment, Access string
}

type aclResponse struct {
	aclRequest
	Allow bool
}

// check finds node's service and asks Consul whether token grants service:write on it.
func (c *ConsulACL) check(ctx context.Context, token, node string) error {
	c.once.Do(c.init)
	if c.initErr != nil {
		return fmt.Errorf("%w: %w: %w", ErrPermissionDenied, ErrACLUnavailable, c.initErr)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	service := node
	if c.Service != nil {
		service = c.Service(node)
	} else {
		var svc struct{ Service string }
		if err := c.call(ctx, http.MethodGet, "/v1/agent/service/"+url.PathEscape(node), token, nil, &svc); err != nil {
			return err
		}
		service = svc.Service
	}
	if service == "" {
		return fmt.Errorf("%w: no service for the node", ErrPermissionDenied)
	}
	var out []aclResponse
	if err := c.call(ctx, http.MethodPost, "/v1/internal/acl/authorize", token,
		[]aclRequest{{Resource: "service", Segment: service, Access: "write"}}, &out); err != nil {
		return err
	}
	if len(out) != 1 {
		return fmt.Errorf("%w: %w: unexpected answer", ErrPermissionDenied, ErrACLUnavailable)
	}
	if !out[0].Allow {
		return fmt.Errorf("%w: token lacks service:write on %q", ErrPermissionDenied, service)
	}
	return nil
}

// call makes one request to Consul with token and decodes the JSON answer into out.
// Its errors wrap ErrPermissionDenied, and ErrACLUnavailable unless Consul refused the
// token (403) or knows no such service (404).
func (c *ConsulACL) call(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%w: %w: %w", ErrPermissionDenied, ErrACLUnavailable, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrPermissionDenied, ErrACLUnavailable, err)
	}
	req.Header.Set("X-Consul-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		// The error names the URL, never the token, which is in a header.
		return fmt.Errorf("%w: %w: %w", ErrPermissionDenied, ErrACLUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrPermissionDenied, ErrACLUnavailable, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden:
		// Consul answers 403 for a token it does not know ("ACL not found") and for one
		// that lacks the right to read the service.
		return fmt.Errorf("%w: token not accepted by Consul", ErrPermissionDenied)
	case http.StatusNotFound:
		return fmt.Errorf("%w: no such service instance registered with the agent", ErrPermissionDenied)
	default:
		return fmt.Errorf("%w: %w: HTTP %d", ErrPermissionDenied, ErrACLUnavailable, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%w: %w: unexpected answer", ErrPermissionDenied, ErrACLUnavailable)
	}
	return nil
}
