// Package load measures the xds package's Server under many clients of one mesh gateway.
//
// [State] is the input of the xds benchmarks (and of Consul's own generator benchmark)
// with any number of peers. A [Gateway] is one client that subscribes as a gateway's
// Envoy does, over delta ADS ([Gateway.RunDelta], with package xdsclient) or
// state-of-the-world ADS ([Gateway.RunSotW], raw StreamAggregatedResources): every
// cluster and listener, and the endpoints of every EDS cluster ([Full]) or of one
// cluster only ([Watched]). A [Fleet] runs many of them, each on its own connection.
// A [Recorder], installed as the server's callbacks, sees on the server side when each
// stream has synced and when it acknowledged a given change.
//
// TestLoad serves a State of many peers to a fleet of delta clients and a fleet of
// state-of-the-world clients, all as the same gateway node, changes one peer
// (xds.Builder.Set with the changed State, then xds.Server.Apply) and waits until every client has
// acknowledged the new ClusterLoadAssignment. The fleets run in child processes (the
// test binary again), so that the server's heap and goroutines, measured after a
// garbage collection, are the server's alone. It logs the figures, checks that every
// client ended holding the change and nothing else, that no response was rejected, and
// that no goroutine outlives the clients (go.uber.org/goleak).
//
// Its size comes from the environment:
//
//	PEERINGGW_LOAD_CLIENTS     clients per protocol (default 200; 100 with -race; 20 with -short)
//	PEERINGGW_LOAD_PEERS       peers in the State (default 10000; 100 with -short)
//	PEERINGGW_LOAD_SUBSCRIBE   full or watched (default watched)
//	PEERINGGW_LOAD_RAMP        clients of a fleet doing their initial sync at once (default 8)
//	PEERINGGW_LOAD_TIMEOUT     bound of each wait (default 5m)
//	PEERINGGW_LOAD_CPUPROFILE  file for a CPU profile of the change's delivery
//	PEERINGGW_LOAD_PROTOCOLS   delta, sotw or both (default both)
//
// The default, 200 + 200 clients of 10,000 peers with the watched subscription, keeps
// go test ./... quick. The full size, 1000 + 1000 clients, takes 40 to 70 s and about
// 2.3 GB on two cores:
//
//	PEERINGGW_LOAD_CLIENTS=1000 go test -run '^TestLoad$' -v -timeout 30m ./internal/load/
//
// The full subscription, every client holding every endpoint as Envoy does, is run with:
//
//	PEERINGGW_LOAD_CLIENTS=1000 PEERINGGW_LOAD_SUBSCRIBE=full PEERINGGW_LOAD_TIMEOUT=15m go test -run '^TestLoad$' -v -timeout 60m ./internal/load/
//
// It takes about 4 minutes and 13 GB of memory at that size.
//
// # Figures
//
// Measured on two cores, 10,000 peers, one gateway node; "server CPU" is the CPU the
// server's process spent delivering the one change:
//
//	subscription  clients        sync (delta / sotw)   heap per client (delta / sotw)   one change acknowledged by all (p50 / max)   server CPU
//	watched       1000 + 1000    30 s / 21 s           0.65 MB / 0.65 MB                149 ms / 207 ms
//	full          1000 + 1000    46 s / 54 s           2.5 MB / 2.6 MB                  0.56 s / 1.9 s
//	full (delta)  1000           47 s                  2.5 MB                           123 ms / 166 ms                              138 ms
//
// The last row with go-control-plane's LinearCache, which the server used before its
// own cache, in the same session: 8.2 s / 16.7 s to deliver and 17.8 s of server CPU; it
// walked every name each watching stream holds, on the change and again on each
// acknowledgement. Now a change costs each stream the names that changed, and a delta
// acknowledgement the names changed since that stream's last response. A
// state-of-the-world client still costs what it holds: its protocol repeats every name
// in each request and every cluster in each response. Each client costs the server 7
// goroutines.
package load
