package peering_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
)

// fakeSource is a Source that blocks like a Consul blocking query: a read with the
// current index waits for Set or Fail.
type fakeSource[T any] struct {
	mu     sync.Mutex
	value  T
	index  uint64
	err    error         // returned by every read while set
	wake   chan struct{} // closed and replaced by Set and Fail
	served uint64        // the index of the last value returned
}

func newFake[T any](v T) *fakeSource[T] {
	return &fakeSource[T]{value: v, index: 1, wake: make(chan struct{})}
}

func (f *fakeSource[T]) Read(ctx context.Context, after peering.Version) (T, peering.Version, error) {
	for {
		f.mu.Lock()
		var zero T
		switch {
		case f.err != nil:
			err := f.err
			f.mu.Unlock()
			return zero, peering.Version{}, err
		case after.Index != f.index:
			v, idx := f.value, f.index
			f.served = idx
			f.mu.Unlock()
			return v, peering.Version{Index: idx}, nil
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return zero, peering.Version{}, ctx.Err()
		case <-wake:
		}
	}
}

// Set changes the value and wakes blocked reads.
func (f *fakeSource[T]) Set(v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.err = v, nil
	f.index++
	close(f.wake)
	f.wake = make(chan struct{})
}

// Fail makes reads fail with err (nil: succeed again with the current value).
func (f *fakeSource[T]) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
	close(f.wake)
	f.wake = make(chan struct{})
}

// Served reports whether a read returned the current value.
func (f *fakeSource[T]) Served() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served == f.index
}

// fakes holds one fake source per part.
type fakes struct {
	dc, td   *fakeSource[string]
	gateway  *fakeSource[*api.AgentService]
	mesh     *fakeSource[*api.MeshConfigEntry]
	servers  *fakeSource[[]*api.ServiceEntry]
	peerings *fakeSource[[]peering.Peering]
}

func newFakes() *fakes {
	return &fakes{
		dc:      newFake("dc1"),
		td:      newFake("td.consul"),
		gateway: newFake(&api.AgentService{Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway", Port: 8443, Meta: map[string]string{"v": "1"}}),
		mesh:    newFake(&api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}}),
		servers: newFake([]*api.ServiceEntry{{
			Node:    &api.Node{Node: "server-1", Address: "10.0.0.1"},
			Service: &api.AgentService{Service: "consul", Port: 8300, Meta: map[string]string{"grpc_tls_port": "8503"}},
		}}),
		peerings: newFake([]peering.Peering{dialer("dc2", 10, "server.dc2.peering.td2", "10.1.0.1:8443")}),
	}
}

func (f *fakes) sources() peering.Sources {
	return peering.Sources{
		Datacenter: f.dc, TrustDomain: f.td, Gateway: f.gateway,
		MeshConfig: f.mesh, Servers: f.servers, Peerings: f.peerings,
	}
}

// failing returns a source of T that always fails with err.
func failing[T any](err error) peering.SourceFunc[T] {
	return func(context.Context, peering.Version) (T, peering.Version, error) {
		var zero T
		return zero, peering.Version{}, err
	}
}

func TestSourcesRead(t *testing.T) {
	f := newFakes()
	s, err := f.sources().Read(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "dc1", s.Datacenter, "got datacenter %q, want dc1", s.Datacenter)
	assert.Equal(t, "td.consul", s.TrustDomain, "got trust domain %q, want td.consul", s.TrustDomain)
	require.NotNil(t, s.Gateway, "got no gateway, want one")
	assert.Equal(t, "mesh-gateway", s.Gateway.ID, "got gateway %q, want mesh-gateway", s.Gateway.ID)
	require.NotNil(t, s.MeshConfig, "got no mesh config, want one")
	assert.Len(t, s.Servers, 1, "got %d servers, want 1", len(s.Servers))
	assert.Len(t, s.Peerings, 1, "got %d peerings, want 1", len(s.Peerings))
}

func TestSourcesReadErrors(t *testing.T) {
	denied := &peering.PermissionError{Resource: "peerings", Rule: "peering:read"}
	unreachable := fmt.Errorf("%w: read servers: connection refused", peering.ErrUnreachable)
	other := errors.New("other failure")
	tests := []struct {
		name   string
		modify func(*peering.Sources)
		want   []error // every one must match
		count  int     // how many errors the result joins
	}{
		{
			name:   "one part denied",
			modify: func(s *peering.Sources) { s.Peerings = failing[[]peering.Peering](denied) },
			want:   []error{peering.ErrPermissionDenied},
			count:  1,
		},
		{
			name: "every failing part is reported",
			modify: func(s *peering.Sources) {
				s.Peerings = failing[[]peering.Peering](denied)
				s.Datacenter = failing[string](other)
			},
			want:  []error{peering.ErrPermissionDenied, other},
			count: 2,
		},
		{
			name: "of unreachable errors only the first is kept",
			modify: func(s *peering.Sources) {
				s.Servers = failing[[]*api.ServiceEntry](unreachable)
				s.Gateway = failing[*api.AgentService](unreachable)
				s.Peerings = failing[[]peering.Peering](denied)
			},
			want:  []error{peering.ErrUnreachable, peering.ErrPermissionDenied},
			count: 2,
		},
		{
			name: "missing sources",
			modify: func(s *peering.Sources) {
				s.Gateway = nil
				s.Peerings = nil
			},
			want:  []error{peering.ErrBadConfig},
			count: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakes().sources()
			tt.modify(&src)
			s, err := src.Read(t.Context())
			assert.Nil(t, s, "got a State, want none when a read fails")
			for _, want := range tt.want {
				require.ErrorIs(t, err, want)
			}
			got := 1
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				got = len(j.Unwrap())
			}
			assert.Equal(t, tt.count, got, "got %d errors, want %d: %v", got, tt.count, err)
		})
	}
}

func TestPermissionError(t *testing.T) {
	consulErr := api.StatusError{Code: 403, Body: "Permission denied"}
	tests := []struct {
		name string
		err  *peering.PermissionError
		want string
	}{
		{
			name: "rule and answer",
			err:  &peering.PermissionError{Resource: "peerings", Rule: "peering:read", Err: consulErr},
			want: "peering: permission denied reading peerings: the token needs peering:read: Unexpected response code: 403 (Permission denied)",
		},
		{
			name: "filtered answer",
			err:  &peering.PermissionError{Resource: "servers", Rule: "service:consul:read and node:read"},
			want: "peering: permission denied reading servers: the token needs service:consul:read and node:read",
		},
		{
			name: "no rule",
			err:  &peering.PermissionError{Resource: "CA roots", Err: consulErr},
			want: "peering: permission denied reading CA roots: Unexpected response code: 403 (Permission denied)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error(), "got %q, want %q", tt.err.Error(), tt.want)
			wrapped := fmt.Errorf("wrapped: %w", tt.err)
			require.ErrorIs(t, wrapped, peering.ErrPermissionDenied)
			var pe *peering.PermissionError
			require.ErrorAs(t, wrapped, &pe)
			assert.Equal(t, tt.err.Rule, pe.Rule, "got rule %q, want %q", pe.Rule, tt.err.Rule)
			if tt.err.Err != nil {
				var status api.StatusError
				require.ErrorAs(t, wrapped, &status)
			}
		})
	}
}
