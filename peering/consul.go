package peering

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
)

// DefaultWaitTime is how long a blocking query of the Consul sources waits for a change
// unless [WithWaitTime] says otherwise; it is Consul's own default.
const DefaultWaitTime = 5 * time.Minute

// ConsulOption configures the sources [ConsulSources] returns.
type ConsulOption interface{ apply(*consul) }

type consulOptionFunc func(*consul)

func (f consulOptionFunc) apply(c *consul) { f(c) }

// WithWaitTime sets how long one blocking query may wait for a change (Consul's "wait"
// parameter; Consul caps it at 10 minutes and adds up to a sixteenth of it as jitter).
// It must stay below the timeout of the client's http.Client, if it has one, or every
// quiet wait ends in an [ErrUnreachable] error. The default is [DefaultWaitTime]; values
// of 0 or less mean the default.
func WithWaitTime(d time.Duration) ConsulOption {
	return consulOptionFunc(func(c *consul) {
		if d > 0 {
			c.waitTime = d
		}
	})
}

// ConsulSources returns sources that read every part of a State from the Consul agent
// behind client, for the mesh gateway service instance with ID gatewayID registered with
// that agent. The client's token, datacenter and namespace apply to every read.
//
// Each source uses the endpoint the [State] documentation names, and a blocking query
// where Consul supports one:
//
//	Datacenter   GET /v1/agent/self, needs agent:read; cannot block (the Watcher polls it)
//	TrustDomain  GET /v1/connect/ca/roots, needs no permission; blocks on the index
//	Gateway      GET /v1/agent/service/<gatewayID>, needs service:<gateway>:read; blocks on the content hash
//	MeshConfig   GET /v1/config/mesh, the mesh entry when there is one; blocks on the index
//	Servers      GET /v1/health/service/consul (every server, healthy or not), needs
//	             service:consul:read and node:read; blocks on the index; an empty list
//	             is a PermissionError, as Consul hides filtering from the anonymous token
//	Peerings     GET /v1/peerings?partition=*, needs peering:read; blocks on the index
//	ServiceDefaults  GET /v1/agent/service/<gatewayID> (not blocking), then
//	             GET /v1/config/service-defaults in the gateway's partition and namespace,
//	             the entry named after the gateway's service (filtered by name); blocks
//	             on the index until that entry changes, is deleted or appears
//	Agent        GET /v1/agent/self, needs agent:read; cannot block (the Watcher polls it)
//
// The mesh entry is read by listing the kind rather than with GET /v1/config/mesh/mesh:
// a missing entry then still has an index to block on, instead of a 404 without one.
// Consul 1.14 lets any token read it; newer versions that filter it need mesh:read.
//
// Community Edition accepts no partition parameter and answers 400 to partition=*; the
// peerings source then lists the peerings without it (all of them, as CE has only the
// default partition) and keeps doing so. The same applies to an Enterprise server that
// does not accept the wildcard: it then lists the default partition.
//
// Errors are typed: a 403 answer, or servers filtered out by ACLs, is a
// [*PermissionError] naming the rule the token lacks; a request that does not reach
// Consul wraps [ErrUnreachable]; a gateway the agent does not know wraps
// [ErrGatewayNotFound]. Other answers are wrapped as they come (an api.StatusError).
//
// Consul's HTTP API does not return a peering's manual server addresses (the
// ServerExternalAddresses a token was generated with), while Consul's own gateway routes
// to them. A dialing cluster that establishes with such a token should fill
// [Peering.ManualServerAddresses] itself, e.g. from [DecodeToken], by wrapping the
// Peerings source.
//
// [NewConsulSources] reads the same from a client configuration instead, and decodes
// the peering list in proportion to what changed; prefer it where the configuration is
// at hand.
func ConsulSources(client *api.Client, gatewayID string, opts ...ConsulOption) Sources {
	return newConsul(client, gatewayID, opts).sources()
}

// newConsul returns what the Consul sources share.
func newConsul(client *api.Client, gatewayID string, opts []ConsulOption) *consul {
	c := &consul{client: client, gatewayID: gatewayID, waitTime: DefaultWaitTime}
	for _, opt := range opts {
		opt.apply(c)
	}
	return c
}

// sources returns the sources of every part, reading through c.client.
func (c *consul) sources() Sources {
	return Sources{
		Datacenter:  &consulDatacenter{c},
		TrustDomain: &consulTrustDomain{c},
		Gateway:     &consulGateway{c},
		MeshConfig:  &consulMeshConfig{c},
		Servers:     &consulServers{c},
		Peerings:    &consulPeerings{consul: c},

		ServiceDefaults: &consulServiceDefaults{c},
		Agent:           &consulAgent{c},
	}
}

// ReadState reads the State of the mesh gateway service instance gatewayID from the
// Consul agent behind client, reading every part once as [ConsulSources] describes.
// When reads fail it returns the errors of every part that failed, joined, so that a
// token lacking several rules shows them all.
func ReadState(ctx context.Context, client *api.Client, gatewayID string) (*State, error) {
	return ConsulSources(client, gatewayID).Read(ctx)
}

// consul is what the Consul sources share.
type consul struct {
	client    *api.Client
	gatewayID string
	waitTime  time.Duration
	gzip      bool // NewConsulSources only: ask for compressed answers
}

// The rules reading each part needs, as a PermissionError names them.
const (
	ruleAgentRead = "agent:read"
	ruleMeshRead  = "mesh:read"
	ruleServers   = "service:consul:read and node:read"
	rulePeerings  = "peering:read"
)

// aclNotFound is how Consul answers a request whose token it does not know.
const aclNotFound = "ACL not found"

// errNoServers explains an empty list of servers.
var errNoServers = errors.New("consul listed no server, so it hid them from the token")

// query returns the options of a read that blocks on after, if it is set.
func (c *consul) query(ctx context.Context, after Version) (*api.QueryOptions, error) {
	if c.client == nil {
		return nil, fmt.Errorf("%w: nil Consul client", ErrBadConfig)
	}
	q := &api.QueryOptions{WaitIndex: after.Index, WaitHash: after.Hash}
	if !after.IsZero() {
		q.WaitTime = c.waitTime
	}
	return q.WithContext(ctx), nil
}

// fail turns an error of the api client into the package's typed errors.
func (c *consul) fail(ctx context.Context, resource, rule string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("peering: read %s: %w", resource, ctxErr)
	}
	if status, ok := errors.AsType[api.StatusError](err); ok && status.Code == http.StatusForbidden {
		if strings.Contains(status.Body, aclNotFound) {
			rule = "" // the token is unknown: no rule would help
		}
		return &PermissionError{Resource: resource, Rule: rule, Err: err}
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%w: read %s: %w", ErrUnreachable, resource, err)
	}
	return fmt.Errorf("peering: read %s: %w", resource, err)
}

// statusCode returns the HTTP status of an api.StatusError, or 0.
func statusCode(err error) int {
	if status, ok := errors.AsType[api.StatusError](err); ok {
		return status.Code
	}
	return 0
}

// indexVersion returns the Version of an answer with index-based blocking. As Consul's
// documentation advises, an index that went backwards (a restore, another server) or is
// 0 becomes 1, so that the next read returns at once and starts over.
func indexVersion(after Version, qm *api.QueryMeta) Version {
	idx := qm.LastIndex
	if idx == 0 || idx < after.Index {
		idx = 1
	}
	return Version{Index: idx}
}

type consulDatacenter struct{ *consul }

var _ Source[string] = (*consulDatacenter)(nil)

// Read returns the agent's datacenter. It never blocks and returns the zero Version.
func (s *consulDatacenter) Read(ctx context.Context, _ Version) (string, Version, error) {
	q, err := s.query(ctx, Version{})
	if err != nil {
		return "", Version{}, err
	}
	var self struct{ Config struct{ Datacenter string } }
	if _, err := s.client.Raw().Query("/v1/agent/self", &self, q); err != nil {
		return "", Version{}, s.fail(ctx, ResourceAgentSelf, ruleAgentRead, err)
	}
	return self.Config.Datacenter, Version{}, nil
}

type consulTrustDomain struct{ *consul }

var _ Source[string] = (*consulTrustDomain)(nil)

// Read returns the Connect CA's trust domain.
func (s *consulTrustDomain) Read(ctx context.Context, after Version) (string, Version, error) {
	q, err := s.query(ctx, after)
	if err != nil {
		return "", Version{}, err
	}
	roots, qm, err := s.client.Connect().CARoots(q)
	if err != nil {
		return "", Version{}, s.fail(ctx, ResourceCARoots, "", err)
	}
	return roots.TrustDomain, indexVersion(after, qm), nil
}

type consulGateway struct{ *consul }

var _ Source[*api.AgentService] = (*consulGateway)(nil)

// Read returns the gateway service instance, blocking on its content hash.
func (s *consulGateway) Read(ctx context.Context, after Version) (*api.AgentService, Version, error) {
	if s.gatewayID == "" {
		return nil, Version{}, fmt.Errorf("%w: no gateway service ID", ErrBadConfig)
	}
	q, err := s.query(ctx, after)
	if err != nil {
		return nil, Version{}, err
	}
	svc, qm, err := s.client.Agent().Service(s.gatewayID, q)
	if err != nil {
		if ctx.Err() == nil && statusCode(err) == http.StatusNotFound {
			return nil, Version{}, fmt.Errorf("%w: %q: %w", ErrGatewayNotFound, s.gatewayID, err)
		}
		return nil, Version{}, s.fail(ctx, "gateway service "+s.gatewayID, "service:"+s.gatewayID+":read", err)
	}
	return svc, Version{Hash: qm.LastContentHash}, nil
}

type consulMeshConfig struct{ *consul }

var _ Source[*api.MeshConfigEntry] = (*consulMeshConfig)(nil)

// Read returns the mesh config entry, or nil when there is none.
func (s *consulMeshConfig) Read(ctx context.Context, after Version) (*api.MeshConfigEntry, Version, error) {
	q, err := s.query(ctx, after)
	if err != nil {
		return nil, Version{}, err
	}
	entries, qm, err := s.client.ConfigEntries().List(api.MeshConfig, q)
	if err != nil {
		return nil, Version{}, s.fail(ctx, ResourceMeshConfig, ruleMeshRead, err)
	}
	if qm.ResultsFilteredByACLs {
		return nil, Version{}, &PermissionError{Resource: ResourceMeshConfig, Rule: ruleMeshRead}
	}
	// A partition has at most one mesh entry, named "mesh".
	for _, e := range entries {
		if m, ok := e.(*api.MeshConfigEntry); ok {
			return m, indexVersion(after, qm), nil
		}
	}
	return nil, indexVersion(after, qm), nil
}

type consulServers struct{ *consul }

var _ Source[[]*api.ServiceEntry] = (*consulServers)(nil)

// Read returns every instance of service "consul", healthy or not. Entries filtered out
// by ACLs are a PermissionError rather than a shorter list, and so is an empty list: a
// cluster that answers has a server, and Consul does not say when it filtered the answer
// to the anonymous token.
func (s *consulServers) Read(ctx context.Context, after Version) ([]*api.ServiceEntry, Version, error) {
	q, err := s.query(ctx, after)
	if err != nil {
		return nil, Version{}, err
	}
	entries, qm, err := s.client.Health().Service("consul", "", false, q)
	if err != nil {
		return nil, Version{}, s.fail(ctx, ResourceServers, ruleServers, err)
	}
	if qm.ResultsFilteredByACLs {
		return nil, Version{}, &PermissionError{Resource: ResourceServers, Rule: ruleServers}
	}
	if len(entries) == 0 {
		return nil, Version{}, &PermissionError{Resource: ResourceServers, Rule: ruleServers, Err: errNoServers}
	}
	return entries, indexVersion(after, qm), nil
}

type consulPeerings struct {
	*consul
	// defaultOnly is set when the agent is not Consul Enterprise, or once Consul refused
	// partition=*; checked is set once the agent's edition was asked for.
	defaultOnly, checked atomic.Bool
	// decoder, when set, decodes the raw answers that c.client's transport captures
	// (NewConsulSources); else the api client decodes them.
	decoder *peeringDecoder
}

var _ Source[[]Peering] = (*consulPeerings)(nil)

// Read returns the peerings of every partition (of the default one where Consul accepts
// no wildcard).
func (s *consulPeerings) Read(ctx context.Context, after Version) ([]Peering, Version, error) {
	q, err := s.query(ctx, after)
	if err != nil {
		return nil, Version{}, err
	}
	var raw *rawBody
	if s.decoder != nil {
		raw = &rawBody{decoder: s.decoder}
	}
	list, qm, err := s.list(ctx, q, raw)
	if err != nil {
		return nil, Version{}, s.fail(ctx, ResourcePeerings, rulePeerings, err)
	}
	if raw != nil {
		if raw.err != nil {
			return nil, Version{}, fmt.Errorf("peering: read %s: %w", ResourcePeerings, raw.err)
		}
		return raw.list, indexVersion(after, qm), nil
	}
	out := make([]Peering, 0, len(list))
	for _, p := range list {
		if p != nil {
			out = append(out, Peering{Peering: *p})
		}
	}
	return out, indexVersion(after, qm), nil
}

// checkEdition asks the agent for its version: only Consul Enterprise ("1.x.y+ent") has
// partitions, and Consul CE answers 400 (and logs an error) to partition=*. When the
// version cannot be read, list finds out from the 400 instead.
func (s *consulPeerings) checkEdition(ctx context.Context) {
	s.checked.Store(true)
	var self struct{ Config struct{ Version string } }
	q := (&api.QueryOptions{}).WithContext(ctx)
	if _, err := s.client.Raw().Query("/v1/agent/self", &self, q); err != nil || self.Config.Version == "" {
		return
	}
	if !strings.Contains(self.Config.Version, "+ent") {
		s.defaultOnly.Store(true)
	}
}

// list lists the peerings with partition=*, and without it from the first time Consul
// answers 400 to the wildcard. With raw, the answer's body goes there instead of being
// decoded.
func (s *consulPeerings) list(ctx context.Context, q *api.QueryOptions, raw *rawBody) ([]*api.Peering, *api.QueryMeta, error) {
	if !s.checked.Load() {
		s.checkEdition(ctx)
	}
	listCtx := ctx
	if raw != nil {
		listCtx = withRawBody(ctx, raw)
	}
	if !s.defaultOnly.Load() {
		wild := *q
		wild.Partition = "*"
		list, qm, err := s.client.Peerings().List(listCtx, &wild)
		if err == nil || statusCode(err) != http.StatusBadRequest {
			return list, qm, err
		}
		s.defaultOnly.Store(true)
	}
	return s.client.Peerings().List(listCtx, q)
}
