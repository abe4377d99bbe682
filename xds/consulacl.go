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
// the gateway's service. It asks Consul with POST /v1/internal/acl/authorize, which
// resolves the token (an unknown or deleted token fails) and evaluates the rule, and
// keeps each answer for CacheTTL. A Consul that cannot answer lets no one in. With the
// Server's re-authorization (see [WithReauthorize]), a token deleted or stripped of the
// right ends its open streams within CacheTTL plus that interval.
type ConsulACL struct {
	// Config is where Consul is: Address, Scheme and TLSConfig are used; its Token is
	// not (each stream's own token is).
	Config *api.Config
	// Service maps a node ID to the gateway's service name; by default the node ID.
	Service func(nodeID string) string
	// CacheTTL is how long an answer is kept; 0 means [DefaultACLCacheTTL].
	CacheTTL time.Duration
	// Timeout bounds one request to Consul; 0 means 5 s.
	Timeout time.Duration

	once    sync.Once
	client  *http.Client
	base    string
	initErr error

	mu    sync.Mutex
	cache map[[sha256.Size]byte]aclAnswer
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
	service := s.NodeID
	if c.Service != nil {
		service = c.Service(s.NodeID)
	}
	if service == "" {
		return fmt.Errorf("%w: no service for the node", ErrPermissionDenied)
	}
	key := sha256.Sum256([]byte(service + "\x00" + tokens[0]))
	now := time.Now()
	c.mu.Lock()
	a, ok := c.cache[key]
	c.mu.Unlock()
	if ok && now.Before(a.expires) {
		return a.err
	}
	err := c.ask(ctx, tokens[0], service)
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

// ask asks Consul whether token grants service:write on service.
func (c *ConsulACL) ask(ctx context.Context, token, service string) error {
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
	body, err := json.Marshal([]aclRequest{{Resource: "service", Segment: service, Access: "write"}})
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrPermissionDenied, ErrACLUnavailable, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/internal/acl/authorize", bytes.NewReader(body))
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
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrPermissionDenied, ErrACLUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		// Consul answers 403 "ACL not found" for a token it does not know.
		return fmt.Errorf("%w: token not accepted by Consul", ErrPermissionDenied)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: %w: HTTP %d", ErrPermissionDenied, ErrACLUnavailable, resp.StatusCode)
	}
	var out []aclResponse
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		return fmt.Errorf("%w: %w: unexpected answer", ErrPermissionDenied, ErrACLUnavailable)
	}
	if !out[0].Allow {
		return fmt.Errorf("%w: token lacks service:write on %q", ErrPermissionDenied, service)
	}
	return nil
}
