package xds

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// entry is one resource as served: encoded once, when a response first carries it or
// when it is stored without a version, and shared by every response that carries it (a
// protobuf message is safe to encode from several goroutines at once).
type entry struct {
	typeURL string
	name    string
	version string // the Builder's content version, or a hash of the encoding
	key     uint64 // entryKey(name, version)

	once  sync.Once
	res   types.Resource // the message, until it is encoded
	any   *anypb.Any
	delta *discoveryv3.Resource
	err   error
}

// item is a resource to store, with its version when its maker knows it.
type item struct {
	name    string
	res     types.Resource
	version string
}

// encodeEntriesPerWorker is the fewest resources to encode that make one more goroutine
// worth starting.
const encodeEntriesPerWorker = 512

// newEntries returns the entries of items, by name. An item with a version is encoded
// later, when a response first carries it; the others are encoded now, outside any
// lock, to compute their version: on up to GOMAXPROCS goroutines when they are many.
func newEntries(typeURL string, items []item) (map[string]*entry, error) {
	out := make(map[string]*entry, len(items))
	var unversioned []*entry
	for _, it := range items {
		e := &entry{typeURL: typeURL, name: it.name, res: it.res, version: it.version}
		if e.version == "" {
			unversioned = append(unversioned, e)
		} else {
			e.key = entryKey(e.name, e.version)
		}
		out[e.name] = e
	}
	if err := encodeEntries(unversioned); err != nil {
		return nil, err
	}
	for _, e := range unversioned {
		e.version = cachev3.HashResource(e.any.GetValue())
		e.key = entryKey(e.name, e.version)
		e.delta.Version = e.version
	}
	return out, nil
}

// encodeEntries encodes the entries not encoded yet, on up to GOMAXPROCS goroutines
// when they are many, and returns the first error.
func encodeEntries(entries []*entry) error {
	workers := min(runtime.GOMAXPROCS(0), len(entries)/encodeEntriesPerWorker)
	if workers <= 1 {
		for _, e := range entries {
			if err := e.encode(); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, e := range entries[w*len(entries)/workers : (w+1)*len(entries)/workers] {
				if err := e.encode(); err != nil && errs[w] == nil {
					errs[w] = err
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// encode encodes the entry's resource once, and lets go of the message.
func (e *entry) encode() error {
	e.once.Do(func() {
		b, err := cachev3.MarshalResource(e.res)
		if err != nil {
			e.err = fmt.Errorf("xds: encode %s %q: %w", e.typeURL, e.name, err)
			return
		}
		e.any = &anypb.Any{TypeUrl: e.typeURL, Value: b}
		e.delta = &discoveryv3.Resource{Name: e.name, Version: e.version, Resource: e.any}
		e.res = nil
	})
	return e.err
}

// payload encodes the entries not encoded yet and returns part of each, in order: what
// a response carries.
func payload[T any](entries []*entry, part func(*entry) T) ([]T, error) {
	if err := encodeEntries(entries); err != nil {
		return nil, err
	}
	out := make([]T, len(entries))
	for i, e := range entries {
		out[i] = part(e)
	}
	return out, nil
}

// sotwResponse is a state-of-the-world response of a typeCache.
type sotwResponse struct {
	req      *cachev3.Request
	entries  []*entry
	version  string
	returned map[string]string

	once sync.Once
	resp *discoveryv3.DiscoveryResponse
	err  error
}

var _ cachev3.Response = (*sotwResponse)(nil)

func (r *sotwResponse) GetDiscoveryResponse() (*discoveryv3.DiscoveryResponse, error) {
	r.once.Do(func() {
		resources, err := payload(r.entries, func(e *entry) *anypb.Any { return e.any })
		if r.err = err; err == nil {
			r.resp = &discoveryv3.DiscoveryResponse{VersionInfo: r.version, Resources: resources, TypeUrl: r.req.GetTypeUrl()}
		}
	})
	return r.resp, r.err
}

func (r *sotwResponse) GetRequest() *cachev3.Request            { return r.req }
func (r *sotwResponse) GetVersion() (string, error)             { return r.version, nil }
func (r *sotwResponse) GetResponseVersion() string              { return r.version }
func (r *sotwResponse) GetReturnedResources() map[string]string { return r.returned }
func (r *sotwResponse) GetContext() context.Context             { return context.Background() }

// deltaResponse is a delta response of a typeCache.
type deltaResponse struct {
	req     *cachev3.DeltaRequest
	entries []*entry
	removed []string
	version string
	next    map[string]string

	once sync.Once
	resp *discoveryv3.DeltaDiscoveryResponse
	err  error
}

var _ cachev3.DeltaResponse = (*deltaResponse)(nil)

func (r *deltaResponse) GetDeltaDiscoveryResponse() (*discoveryv3.DeltaDiscoveryResponse, error) {
	r.once.Do(func() {
		resources, err := payload(r.entries, func(e *entry) *discoveryv3.Resource { return e.delta })
		if r.err = err; err == nil {
			r.resp = &discoveryv3.DeltaDiscoveryResponse{
				Resources: resources, RemovedResources: r.removed,
				TypeUrl: r.req.GetTypeUrl(), SystemVersionInfo: r.version,
			}
		}
	})
	return r.resp, r.err
}

func (r *deltaResponse) GetDeltaRequest() *cachev3.DeltaRequest  { return r.req }
func (r *deltaResponse) GetSystemVersion() (string, error)       { return r.version, nil }
func (r *deltaResponse) GetResponseVersion() string              { return r.version }
func (r *deltaResponse) GetNextVersionMap() map[string]string    { return r.next }
func (r *deltaResponse) GetReturnedResources() map[string]string { return r.next }
func (r *deltaResponse) GetContext() context.Context             { return context.Background() }
