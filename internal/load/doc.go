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
// Measured on two cores, 10,000 peers, one gateway node (initial sync about 4.4 MB per
// client watched, 5.8 MB full):
//
//	subscription  clients        sync (delta / sotw)   heap per client (delta / sotw)   one change acknowledged by all (p50 / max)
//	watched       1000 + 1000    24 s / 15 s           0.66 MB / 0.65 MB                116 ms / 163 ms
//	full            50 +   50    2.4 s / 1.6 s         2.8 MB / 3.7 MB                  0.6 s / 1.1 s
//	full           200 +  200    8.7 s / 7.4 s         2.8 MB / 3.8 MB                  2.6 s / 5.3 s
//	full          1000 + 1000    61 s / 53 s           3.0 MB / 3.9 MB                  17 s / 33 s
//
// (On a busier machine the watched run took 34 s / 30 s to sync and 190 ms / 310 ms to
// deliver the change.) Each client costs the server 5 goroutines. With the full subscription the delivery
// of one changed resource grows with clients × subscribed names: go-control-plane's
// LinearCache, under one lock inside xds.Server.Apply, walks every subscribed name of
// every watch of the changed resource, and again when each client acknowledges.
package load
