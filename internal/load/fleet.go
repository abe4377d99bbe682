package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// maxMessage is the largest response a client accepts. gRPC's default of 4 MiB is
// below what a gateway of ten thousand peers is sent in one state-of-the-world
// response; Envoy has no such limit by default.
const maxMessage = 256 << 20

// Fleet is many gateway clients of one protocol, each on its own connection, as many
// Envoys of one gateway would be.
type Fleet struct {
	// Addr is the xDS server's address, "host:port".
	Addr string
	// Clients is the number of clients.
	Clients int
	// Protocol is the ADS variant every client speaks.
	Protocol Protocol
	// Gateway describes every client; its OnSynced is the Fleet's.
	Gateway Gateway
	// Ramp bounds how many clients do their initial sync at once; 0 means no bound.
	Ramp int
}

// Outcome is what some clients of a Fleet ended with: the same Holdings summary, or
// the same error.
type Outcome struct {
	// Clients is the number of clients that ended this way.
	Clients int
	// Clusters, Endpoints, Listeners, Removed and Responses are their Holdings' counts.
	Clusters, Endpoints, Listeners, Removed, Responses int
	// Watched lists the addresses of the watched cluster's endpoints, "ip:port".
	Watched []string `json:",omitempty"`
	// Err is the error they ended with.
	Err string `json:",omitempty"`
}

// Run runs the fleet until ctx ends and returns how its clients ended, most common
// first. Every client dials, subscribes and acknowledges as Gateway says; at most Ramp
// of them are between dialing and their initial sync at any time.
func (f Fleet) Run(ctx context.Context) ([]Outcome, error) {
	if f.Clients < 0 || f.Ramp < 0 {
		return nil, fmt.Errorf("%w: %d clients with ramp %d", ErrBadConfig, f.Clients, f.Ramp)
	}
	size := f.Ramp
	if size == 0 {
		size = max(f.Clients, 1)
	}
	ramp := make(chan struct{}, size)
	var (
		mu       sync.Mutex
		outcomes = map[string]*Outcome{}
		wg       sync.WaitGroup
	)
	for range f.Clients {
		select {
		case ramp <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			o := f.client(ctx, ramp)
			key, err := json.Marshal(o)
			if err != nil {
				key = []byte(err.Error())
			}
			mu.Lock()
			defer mu.Unlock()
			if outcomes[string(key)] == nil {
				outcomes[string(key)] = &o
			}
			outcomes[string(key)].Clients++
		})
	}
	wg.Wait()
	out := make([]Outcome, 0, len(outcomes))
	for _, key := range slices.Sorted(maps.Keys(outcomes)) {
		out = append(out, *outcomes[key])
	}
	slices.SortStableFunc(out, func(a, b Outcome) int { return b.Clients - a.Clients })
	return out, nil
}

// client runs one client and releases its place in ramp once it has synced (or ended).
func (f Fleet) client(ctx context.Context, ramp <-chan struct{}) Outcome {
	var once sync.Once
	release := func() { once.Do(func() { <-ramp }) }
	defer release()
	conn, err := grpc.NewClient(f.Addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)))
	if err != nil {
		return Outcome{Err: fmt.Sprintf("load: connect to %s: %v", f.Addr, err)}
	}
	gw := f.Gateway
	gw.OnSynced = release
	run := gw.RunDelta
	if f.Protocol == SotW {
		run = gw.RunSotW
	}
	h, err := run(ctx, conn)
	err = errors.Join(err, conn.Close())
	o := Outcome{
		Clusters: h.Clusters, Endpoints: h.Endpoints, Listeners: h.Listeners,
		Removed: h.Removed, Responses: h.Responses,
	}
	for _, lb := range h.Watched.GetEndpoints() {
		for _, e := range lb.GetLbEndpoints() {
			sa := e.GetEndpoint().GetAddress().GetSocketAddress()
			o.Watched = append(o.Watched, fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()))
		}
	}
	if err != nil {
		o.Err = err.Error()
	}
	return o
}
