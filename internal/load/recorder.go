package load

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// Recorder follows, as go-control-plane server callbacks, every ADS stream of a server:
// what each response carried and when the client acknowledged it. It tells when every
// client has synced, and how long each took to acknowledge one changed resource.
//
// A stream is synced once its client has acknowledged, per type, at least as many
// resources as Want gives (state-of-the-world clusters and listeners are counted per
// response, since each response holds them all).
type Recorder struct {
	serverv3.CallbackFuncs

	want map[string]int

	mu      sync.Mutex
	streams map[streamKey]*streamState
	open    int
	synced  [2]int // by protocol
	nacks   int
	change  *change
	times   [2][]time.Duration // convergence times by protocol
}

var _ serverv3.Callbacks = (*Recorder)(nil)

// Protocol is a variant of ADS.
type Protocol int

const (
	// Delta is incremental ADS (DeltaAggregatedResources).
	Delta Protocol = iota
	// SotW is state-of-the-world ADS (StreamAggregatedResources).
	SotW
)

// String returns "delta" or "sotw".
func (p Protocol) String() string {
	if p == SotW {
		return "sotw"
	}
	return "delta"
}

// streamKey identifies a stream: go-control-plane numbers state-of-the-world and delta
// streams separately, each from 1.
type streamKey struct {
	proto Protocol
	id    int64
}

// streamState is what the Recorder knows of one stream.
type streamState struct {
	proto   Protocol
	pending map[string]sent // by nonce
	acked   map[string]int  // resources acknowledged by type
	synced  bool
	done    bool // acknowledged the change
}

// sent is one response a stream has not acknowledged yet.
type sent struct {
	typeURL   string
	version   string
	resources int
	change    bool
}

// change is the resource whose delivery the Recorder times.
type change struct {
	name  string
	value []byte
	start time.Time
}

// NewRecorder returns a Recorder for clients that sync once they have acknowledged
// want[typeURL] resources of each type.
func NewRecorder(want map[string]int) *Recorder {
	return &Recorder{want: want, streams: map[streamKey]*streamState{}}
}

// Measure starts timing the delivery of the resource name whose wire form is value:
// each stream converges when its client acknowledges a response carrying it, and its
// time is counted from start.
func (r *Recorder) Measure(name string, value []byte, start time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.change = &change{name: name, value: value, start: start}
}

// Open returns the number of open streams.
func (r *Recorder) Open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.open
}

// Synced returns the number of streams of protocol p that have synced, open or not.
func (r *Recorder) Synced(p Protocol) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.synced[p]
}

// Converged returns the convergence time of every stream of protocol p that has
// acknowledged the measured change, in the order they did.
func (r *Recorder) Converged(p Protocol) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.times[p])
}

// Nacks returns the number of responses clients rejected.
func (r *Recorder) Nacks() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nacks
}

func (r *Recorder) opened(k streamKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.streams[k] = &streamState{proto: k.proto, pending: map[string]sent{}, acked: map[string]int{}}
	r.open++
}

func (r *Recorder) closed(k streamKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.streams[k]; ok {
		delete(r.streams, k)
		r.open--
	}
}

// responded records a response sent on stream k.
func (r *Recorder) responded(k streamKey, nonce string, s sent, names func(yield func(string, []byte) bool)) {
	r.mu.Lock()
	c := r.change
	r.mu.Unlock()
	if c != nil && s.typeURL == resourcev3.EndpointType {
		for name, value := range names {
			if name == c.name && bytes.Equal(value, c.value) {
				s.change = true
				break
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.streams[k]; st != nil {
		st.pending[nonce] = s
	}
}

// requested records a request on stream k that answers nonce; ack says whether it
// accepts the response.
func (r *Recorder) requested(k streamKey, nonce, version string, ack bool) {
	if nonce == "" {
		return
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.streams[k]
	if st == nil {
		return
	}
	s, ok := st.pending[nonce]
	if !ok {
		return
	}
	delete(st.pending, nonce)
	if !ack || (st.proto == SotW && version != s.version) {
		r.nacks++
		return
	}
	if st.proto == SotW && s.typeURL != resourcev3.EndpointType {
		st.acked[s.typeURL] = s.resources
	} else {
		st.acked[s.typeURL] += s.resources
	}
	if !st.synced && r.isSynced(st) {
		st.synced = true
		r.synced[st.proto]++
	}
	if s.change && !st.done {
		st.done = true
		r.times[st.proto] = append(r.times[st.proto], now.Sub(r.change.start))
	}
}

func (r *Recorder) isSynced(st *streamState) bool {
	for typ, n := range r.want {
		if st.acked[typ] < n {
			return false
		}
	}
	return true
}

// OnStreamOpen implements serverv3.Callbacks.
func (r *Recorder) OnStreamOpen(_ context.Context, id int64, _ string) error {
	r.opened(streamKey{SotW, id})
	return nil
}

// OnDeltaStreamOpen implements serverv3.Callbacks.
func (r *Recorder) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	r.opened(streamKey{Delta, id})
	return nil
}

// OnStreamClosed implements serverv3.Callbacks.
func (r *Recorder) OnStreamClosed(id int64, _ *corev3.Node) { r.closed(streamKey{SotW, id}) }

// OnDeltaStreamClosed implements serverv3.Callbacks.
func (r *Recorder) OnDeltaStreamClosed(id int64, _ *corev3.Node) { r.closed(streamKey{Delta, id}) }

// OnStreamRequest implements serverv3.Callbacks.
func (r *Recorder) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	r.requested(streamKey{SotW, id}, req.GetResponseNonce(), req.GetVersionInfo(), req.GetErrorDetail() == nil)
	return nil
}

// OnStreamDeltaRequest implements serverv3.Callbacks.
func (r *Recorder) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	r.requested(streamKey{Delta, id}, req.GetResponseNonce(), "", req.GetErrorDetail() == nil)
	return nil
}

// OnStreamResponse implements serverv3.Callbacks.
func (r *Recorder) OnStreamResponse(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	s := sent{typeURL: resp.GetTypeUrl(), version: resp.GetVersionInfo(), resources: len(resp.GetResources())}
	r.responded(streamKey{SotW, id}, resp.GetNonce(), s, func(yield func(string, []byte) bool) {
		for _, a := range resp.GetResources() {
			name, err := ResourceName(a.GetValue())
			if err == nil && !yield(name, a.GetValue()) {
				return
			}
		}
	})
}

// OnStreamDeltaResponse implements serverv3.Callbacks.
func (r *Recorder) OnStreamDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	s := sent{typeURL: resp.GetTypeUrl(), resources: len(resp.GetResources())}
	r.responded(streamKey{Delta, id}, resp.GetNonce(), s, func(yield func(string, []byte) bool) {
		for _, res := range resp.GetResources() {
			if !yield(res.GetName(), res.GetResource().GetValue()) {
				return
			}
		}
	})
}
