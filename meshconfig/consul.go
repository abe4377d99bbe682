package meshconfig

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/consul/api"
)

// DefaultMaxAttempts is the number of check-and-set writes Apply tries by default.
const DefaultMaxAttempts = 5

// Option configures Apply.
type Option interface{ apply(*options) }

type options struct {
	maxAttempts int
	// beforeWrite, when set, runs after each read and before the write that follows it.
	// Only the tests set it, to stage a concurrent writer.
	beforeWrite func(attempt int)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithMaxAttempts sets how many check-and-set writes Apply tries before it gives up with
// ErrConflict. The default is DefaultMaxAttempts; values below 1 mean 1.
func WithMaxAttempts(n int) Option {
	return optionFunc(func(o *options) { o.maxAttempts = max(n, 1) })
}

// Read returns the cluster's mesh config entry, or nil and no error when it has none.
// Reading the entry needs no ACL privileges. The client's partition, if any, applies.
func Read(ctx context.Context, client *api.Client) (*api.MeshConfigEntry, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	raw, _, err := client.ConfigEntries().Get(api.MeshConfig, api.MeshConfigMesh, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		var status api.StatusError
		if errors.As(err, &status) && status.Code == http.StatusNotFound {
			return nil, nil
		}
		return nil, consulError("read", err)
	}
	e, ok := raw.(*api.MeshConfigEntry)
	if !ok {
		return nil, fmt.Errorf("%w: read returned %T", ErrWrongKind, raw)
	}
	return e, nil
}

// Apply sets Peering.PeerThroughMeshGateways to enable in the cluster's mesh config entry
// and changes nothing else. It reads the entry, sets the flag on a copy, checks the result
// with Validate and writes it with check-and-set on the index it read (0 when there is no
// entry, which creates it only if it is still absent). When another writer changed the
// entry in between, the write is refused and Apply starts over from a fresh read, so that
// writer's changes are kept; after the attempts allowed by WithMaxAttempts it returns
// ErrConflict. It stops with the context's error when ctx ends.
//
// When the entry already has the wanted value nothing is written. Apply returns the entry
// as Consul holds it afterwards, or nil when there is no entry and enable is false.
// Writing the entry needs mesh:write or operator:write; a 403 answer is returned as
// ErrPermissionDenied (wrapping the api.StatusError).
func Apply(ctx context.Context, client *api.Client, enable bool, opts ...Option) (*api.MeshConfigEntry, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	o := options{maxAttempts: DefaultMaxAttempts}
	for _, opt := range opts {
		opt.apply(&o)
	}
	for attempt := 1; attempt <= o.maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("meshconfig: apply: %w", err)
		}
		current, err := Read(ctx, client)
		if err != nil {
			return nil, err
		}
		if Enabled(current) == enable {
			return current, nil
		}
		written, err := casWrite(ctx, client, current, enable, attempt, o)
		if err != nil {
			return nil, err
		}
		if written {
			return Read(ctx, client)
		}
	}
	return nil, fmt.Errorf("%w: %d check-and-set writes lost to concurrent writers", ErrConflict, o.maxAttempts)
}

// casWrite writes current with the flag set to enable if the entry still has current's
// index, and reports whether it did.
func casWrite(ctx context.Context, client *api.Client, current *api.MeshConfigEntry, enable bool, attempt int, o options) (bool, error) {
	next := SetPeerThroughMeshGateways(current, enable)
	if err := Validate(next); err != nil {
		return false, err
	}
	var index uint64
	if current != nil {
		index = current.ModifyIndex
	}
	if o.beforeWrite != nil {
		o.beforeWrite(attempt)
	}
	ok, _, err := client.ConfigEntries().CAS(next, index, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return false, consulError("write", err)
	}
	return ok, nil
}

// consulError wraps an error of the Consul API, adding ErrPermissionDenied for a 403.
func consulError(op string, err error) error {
	var status api.StatusError
	if errors.As(err, &status) && status.Code == http.StatusForbidden {
		return fmt.Errorf("meshconfig: %s mesh config entry: %w: %w", op, ErrPermissionDenied, err)
	}
	return fmt.Errorf("meshconfig: %s mesh config entry: %w", op, err)
}
