package xds

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// entry is one resource as served: encoded once, and shared by every response that
// carries it (a protobuf message is safe to encode from several goroutines at once).
type entry struct {
	name    string
	version string // go-control-plane's content hash of the deterministic encoding
	key     uint64 // entryKey(name, version)
	any     *anypb.Any
	delta   *discoveryv3.Resource
}

// encodeEntriesPerWorker is the fewest resources to encode that make one more goroutine
// worth starting.
const encodeEntriesPerWorker = 512

// newEntries encodes resources, by name, outside any lock: on up to GOMAXPROCS
// goroutines when they are many (a gateway's first set).
func newEntries(typeURL string, resources map[string]types.Resource) (map[string]*entry, error) {
	names := make([]string, 0, len(resources))
	for name := range resources {
		names = append(names, name)
	}
	entries := make([]*entry, len(names))
	errs := make([]error, len(names))
	encode := func(lo, hi int) {
		for k := lo; k < hi; k++ {
			entries[k], errs[k] = newEntry(typeURL, names[k], resources[names[k]])
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(names)/encodeEntriesPerWorker)
	if workers <= 1 {
		encode(0, len(names))
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { encode(w*len(names)/workers, (w+1)*len(names)/workers) })
		}
		wg.Wait()
	}
	out := make(map[string]*entry, len(names))
	for k, e := range entries {
		if errs[k] != nil {
			return nil, errs[k]
		}
		out[e.name] = e
	}
	return out, nil
}

// newEntry encodes one resource.
func newEntry(typeURL, name string, res types.Resource) (*entry, error) {
	b, err := cachev3.MarshalResource(res)
	if err != nil {
		return nil, fmt.Errorf("xds: encode %s %q: %w", typeURL, name, err)
	}
	version := cachev3.HashResource(b)
	a := &anypb.Any{TypeUrl: typeURL, Value: b}
	return &entry{
		name: name, version: version, key: entryKey(name, version), any: a,
		delta: &discoveryv3.Resource{Name: name, Version: version, Resource: a},
	}, nil
}

// sotwResponse is a state-of-the-world response of a typeCache.
type sotwResponse struct {
	req      *cachev3.Request
	entries  []*entry
	version  string
	returned map[string]string

	once sync.Once
	resp *discoveryv3.DiscoveryResponse
}

var _ cachev3.Response = (*sotwResponse)(nil)

func (r *sotwResponse) GetDiscoveryResponse() (*discoveryv3.DiscoveryResponse, error) {
	r.once.Do(func() {
		resources := make([]*anypb.Any, len(r.entries))
		for i, e := range r.entries {
			resources[i] = e.any
		}
		r.resp = &discoveryv3.DiscoveryResponse{
			VersionInfo: r.version, Resources: resources, TypeUrl: r.req.GetTypeUrl(),
		}
	})
	return r.resp, nil
}

func (r *sotwResponse) GetRequest() *cachev3.Request             { return r.req }
func (r *sotwResponse) GetVersion() (string, error)              { return r.version, nil }
func (r *sotwResponse) GetResponseVersion() string               { return r.version }
func (r *sotwResponse) GetReturnedResources() map[string]string  { return r.returned }
func (r *sotwResponse) GetContext() context.Context              { return context.Background() }
func (r *deltaResponse) GetDeltaRequest() *cachev3.DeltaRequest  { return r.req }
func (r *deltaResponse) GetSystemVersion() (string, error)       { return r.version, nil }
func (r *deltaResponse) GetResponseVersion() string              { return r.version }
func (r *deltaResponse) GetNextVersionMap() map[string]string    { return r.next }
func (r *deltaResponse) GetReturnedResources() map[string]string { return r.next }
func (r *deltaResponse) GetContext() context.Context             { return context.Background() }

// deltaResponse is a delta response of a typeCache.
type deltaResponse struct {
	req     *cachev3.DeltaRequest
	entries []*entry
	removed []string
	version string
	next    map[string]string

	once sync.Once
	resp *discoveryv3.DeltaDiscoveryResponse
}

var _ cachev3.DeltaResponse = (*deltaResponse)(nil)

func (r *deltaResponse) GetDeltaDiscoveryResponse() (*discoveryv3.DeltaDiscoveryResponse, error) {
	r.once.Do(func() {
		resources := make([]*discoveryv3.Resource, len(r.entries))
		for i, e := range r.entries {
			resources[i] = e.delta
		}
		r.resp = &discoveryv3.DeltaDiscoveryResponse{
			Resources: resources, RemovedResources: r.removed,
			TypeUrl: r.req.GetTypeUrl(), SystemVersionInfo: r.version,
		}
	})
	return r.resp, nil
}
