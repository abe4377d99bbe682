package peering

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/consul/api"
)

// Version says which data a [Source] returned, so that the next read can wait for it to
// change: a Consul blocking query. Index is Consul's X-Consul-Index, Hash its
// X-Consul-ContentHash (the agent's service endpoint blocks on a hash instead of an
// index). Only the source that returned a Version interprets it.
//
// The zero Version means "no version": reading with it returns the current data at once,
// and a source that returns it cannot block, so a [Watcher] polls it instead.
type Version struct {
	Index uint64
	Hash  string
}

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return v == Version{} }

// Source reads one part of a [State].
//
// Read returns the current data and its Version. When after is the zero Version it
// returns at once. Otherwise it may wait until the data differs from the data at after,
// until a timeout of its own choosing (then it returns the same Version again), or until
// ctx ends, as a Consul blocking query does; a source that cannot wait returns the zero
// Version, and the [Watcher] polls it. It must be safe for concurrent use.
//
// What Read returns is immutable: a source may return the same values, or values that
// share parts (slices, maps, pointers) with what it returned before, as the peerings
// source of [NewConsulSources] returns the peerings that did not change, and it never
// modifies a value once returned. The caller may keep the values but must not modify
// them; it copies what it wants to change.
type Source[T any] interface {
	Read(ctx context.Context, after Version) (T, Version, error)
}

// SourceFunc adapts a function to a [Source].
type SourceFunc[T any] func(ctx context.Context, after Version) (T, Version, error)

var _ Source[string] = SourceFunc[string](nil)

// Read calls f(ctx, after).
func (f SourceFunc[T]) Read(ctx context.Context, after Version) (T, Version, error) {
	return f(ctx, after)
}

// Sources are where each part of a [State] comes from. [NewConsulSources] and
// [ConsulSources] read all of them from a Consul agent; a host program may replace any
// of them, for example to take the peerings from elsewhere. The values the sources
// return, and the States built of them, are immutable and shared (see [Source]).
type Sources struct {
	// Datacenter gives State.Datacenter.
	Datacenter Source[string]
	// TrustDomain gives State.TrustDomain.
	TrustDomain Source[string]
	// Gateway gives State.Gateway, the mesh gateway service instance.
	Gateway Source[*api.AgentService]
	// MeshConfig gives State.MeshConfig; nil means there is no entry.
	MeshConfig Source[*api.MeshConfigEntry]
	// Servers gives State.Servers, the local Consul servers.
	Servers Source[[]*api.ServiceEntry]
	// Peerings gives State.Peerings.
	Peerings Source[[]Peering]

	// ServiceDefaults gives State.ServiceDefaults; nil leaves it nil. Unlike the parts
	// above it is optional, as is Agent: a host that sets neither gets what it got
	// before they existed.
	ServiceDefaults Source[*api.ServiceConfigEntry]
	// Agent gives State.Agent; nil leaves it zero (generation then targets the
	// version the caller chose, or the default).
	Agent Source[AgentConfig]
}

// Read reads every part once, concurrently, and returns the State. When reads fail it
// returns no State and the errors of every part that failed, joined, except that of the
// errors wrapping [ErrUnreachable] only the first is kept (when Consul cannot be reached
// every part fails that way). A missing source is an error wrapping [ErrBadConfig].
func (s Sources) Read(ctx context.Context) (*State, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var st State
	reads := [partCount]func() error{
		partDatacenter:  readOnce(ctx, s.Datacenter, &st.Datacenter),
		partTrustDomain: readOnce(ctx, s.TrustDomain, &st.TrustDomain),
		partGateway:     readOnce(ctx, s.Gateway, &st.Gateway),
		partMeshConfig:  readOnce(ctx, s.MeshConfig, &st.MeshConfig),
		partServers:     readOnce(ctx, s.Servers, &st.Servers),
		partPeerings:    readOnce(ctx, s.Peerings, &st.Peerings),
	}
	if s.ServiceDefaults != nil {
		reads[partServiceDefaults] = readOnce(ctx, s.ServiceDefaults, &st.ServiceDefaults)
	}
	if s.Agent != nil {
		reads[partAgent] = readOnce(ctx, s.Agent, &st.Agent)
	}
	errs := make([]error, partCount)
	var wg sync.WaitGroup
	for p, read := range reads {
		if read != nil {
			wg.Go(func() { errs[p] = read() })
		}
	}
	wg.Wait()
	if err := joinReadErrors(errs); err != nil {
		return nil, err
	}
	return &st, nil
}

// joinReadErrors joins the errors of a read of every part, keeping only the first that
// wraps ErrUnreachable, since every part then fails the same way, and one of errors
// that say the same (parts read from the same endpoint, such as the datacenter and the
// agent's version).
func joinReadErrors(errs []error) error {
	var out []error
	unreachable := false
	seen := map[string]bool{}
	for _, err := range errs {
		if err == nil || (unreachable && errors.Is(err, ErrUnreachable)) || seen[err.Error()] {
			continue
		}
		unreachable = unreachable || errors.Is(err, ErrUnreachable)
		seen[err.Error()] = true
		out = append(out, err)
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// readOnce returns a function that reads src once into dst.
func readOnce[T any](ctx context.Context, src Source[T], dst *T) func() error {
	return func() error {
		v, _, err := src.Read(ctx, Version{})
		*dst = v
		return err
	}
}

// check returns an error naming every missing source.
func (s Sources) check() error {
	var errs []error
	present := [partCount]bool{
		partDatacenter:      s.Datacenter != nil,
		partTrustDomain:     s.TrustDomain != nil,
		partGateway:         s.Gateway != nil,
		partMeshConfig:      s.MeshConfig != nil,
		partServers:         s.Servers != nil,
		partPeerings:        s.Peerings != nil,
		partServiceDefaults: true, // optional
		partAgent:           true, // optional
	}
	for p, ok := range present {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: no %s source", ErrBadConfig, part(p)))
		}
	}
	return errors.Join(errs...)
}

// part names one part of a State.
type part int

const (
	partDatacenter part = iota
	partTrustDomain
	partGateway
	partMeshConfig
	partServers
	partPeerings
	partServiceDefaults
	partAgent
	partCount
)

var partNames = [partCount]string{"Datacenter", "TrustDomain", "Gateway", "MeshConfig", "Servers", "Peerings", "ServiceDefaults", "Agent"}

func (p part) String() string { return partNames[p] }
