// Package peering models Consul cluster peerings as a mesh gateway sees them.
//
// A Consul cluster that accepts a peering hands out a token; the dialing cluster
// establishes with it and keeps a gRPC stream open to the acceptor's servers. When the
// mesh config entry sets Peering.PeerThroughMeshGateways, that stream goes through mesh
// gateways, which route it by TLS server name (SNI) without decrypting it:
//
//	dialing server ─► local gateway (LAN) ─► peer gateway (WAN) ─► peer servers (grpc_tls_port)
//	        SNI = server.<peer-dc>.peering.<peer-trust-domain>
//
// This package holds the parts of that picture that do not depend on Envoy:
//
//   - [ServerName] builds the SNI a cluster's servers answer to, and [CheckServerName]
//     says whether a name can be used as an SNI match at all;
//   - [Peering] is Consul's peering object (the JSON of GET /v1/peerings) plus the
//     manual server addresses a host program may set;
//   - [DialTargets] derives, from a peering list, the peer servers a gateway must be
//     able to reach, exactly as Consul's mesh gateway does (one target per peer server
//     name, the most recently modified peering wins, manual addresses first, hostnames
//     before IPs), and reports every peering or address it had to skip;
//   - [DecodeToken] decodes a peering token so that a tool can show where a dialing
//     cluster will connect, without ever printing the establishment secret.
//
// # Sources and the watcher
//
// A [State], the input of the xds package, can be read from Consul. [ReadState] reads
// every part once; [NewConsulSources] (from a client configuration) and [ConsulSources]
// (from a client) return one [Source] per part, each a Consul blocking query where the
// endpoint supports one. The peerings source of NewConsulSources decodes only the
// peerings that changed since its last read. A host program may replace any source with
// its own, such as a [SourceFunc] giving peerings kept elsewhere. Reads fail with typed
// errors: a [*PermissionError] (matching [ErrPermissionDenied]) names the ACL rule the
// token lacks, and errors wrap [ErrUnreachable] when Consul cannot be reached or
// [ErrGatewayNotFound] when the agent does not know the gateway.
//
// A [Watcher] keeps a State current: one blocking-read loop per part, bursts of changes
// coalesced into one delivery, a backoff with jitter after errors, and each new State
// handed to a [Sink]. States are not copied: a new State shares the parts that did not
// change with the previous one, and every part is immutable.
//
//	src, err := peering.NewConsulSources(api.DefaultConfig(), "mesh-gateway")
//	if err != nil {
//		return err
//	}
//	sink := peering.SinkFunc(func(ctx context.Context, s *peering.State) {
//		push(builder.Set(s)) // builder is an xds.Builder
//	})
//	w, err := peering.NewWatcher(src, sink, peering.WithErrorHandler(logError))
//	if err != nil {
//		return err
//	}
//	return w.Run(ctx) // until ctx ends
//
// The Watcher delivers its first State once every part has been read, and when a read
// fails it keeps the last good value of that part: it never delivers an empty or partial
// State because Consul was unreachable or refused a request. [Watcher.Err] and
// [Watcher.LastSync] tell whether it is current. [WriteCapture] writes a State as a
// capture file for a bug report, with credentials removed.
package peering
