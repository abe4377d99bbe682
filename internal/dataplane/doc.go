// Package dataplane is a test data plane: it executes exactly the subset of Envoy
// configuration that a Consul mesh gateway uses for cluster-peering control-plane
// traffic, carries real TCP traffic with it, and rejects everything else. End-to-end
// tests use it where no Envoy binary is available: it takes its configuration from an
// ADS server over one delta xDS stream ([DataPlane.Run]) or directly
// ([DataPlane.Apply]), and proxies TLS connections by SNI without ever terminating TLS.
//
// # What is executed
//
// Listeners (envoy.config.listener.v3.Listener): name; address.socket_address with an
// IP literal and a port_value, bound on TCP (port 0 binds any free port, see
// [DataPlane.Addr]); listener_filters; filter_chains.
//
//   - Listener filter envoy.filters.listener.tls_inspector (TlsInspector, no options)
//     reads the TLS ClientHello (parsed by crypto/tls) to learn the SNI, without
//     consuming it: the bytes read are replayed upstream first. A connection that is not TLS, or whose ClientHello
//     has no SNI, has no server name. A client that sends nothing is closed after the
//     listener filters timeout (Envoy's listener_filters_timeout default, 15s; see
//     [WithListenerFiltersTimeout]).
//     https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listener_filters/tls_inspector
//   - Filter chain selection on filter_chain_match.server_names, as Envoy does it: a
//     chain listing the SNI exactly wins; then the chain with the longest matching
//     wildcard "*.suffix" (which does not match "suffix" itself); then the chain without
//     server_names; otherwise the connection is closed and counted as
//     no_filter_chain_match. Without tls_inspector only the chain without server_names
//     can match. As in Envoy, a listener is rejected when two chains have overlapping
//     matches (the same server name twice, or two chains without server_names), or
//     when a server name is "*" or a partial wildcard such as "*w.example.com".
//     https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
//   - Network filter envoy.filters.network.sni_cluster (SniCluster, no options): when
//     the connection has an SNI, it sets the upstream cluster to it. As in Envoy, this
//     per-connection cluster wins over the cluster tcp_proxy names.
//     https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/sni_cluster_filter
//   - Network filter envoy.filters.network.tcp_proxy (TcpProxy: stat_prefix, cluster),
//     the terminal filter, which must be last. An unknown cluster (including "" when
//     sni_cluster had no SNI) closes the connection and counts downstream_cx_no_route.
//     Bytes are copied both ways; an EOF half-closes the other side, so each direction
//     ends on its own; an error closes both connections.
//     https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/tcp_proxy_filter
//
// Filters are selected by the type URL of their typed_config, as Envoy does; names are
// not checked.
//
// Clusters (envoy.config.cluster.v3.Cluster): name, type, connect_timeout (default
// 5s), outlier_detection (only empty: accepted, no ejection), circuit_breakers (one
// threshold of the default priority: max_connections and max_requests bound the open
// upstream connections, max_pending_requests those still connecting, as Envoy's TCP
// connection pool counts a proxied connection; one over a limit is closed and counted
// in upstream_cx_overflow; an unset threshold is not enforced, Envoy's defaults of
// 1024 are not applied), and:
//
//   - EDS, with eds_cluster_config.eds_config.ads (resource_api_version V3 or unset,
//     initial_fetch_timeout accepted: this data plane never waits for a cluster to
//     warm, so a cluster whose endpoints have not arrived refuses connections at once,
//     as an Envoy cluster does once that timeout has passed): the endpoints are the
//     ClusterLoadAssignment of the same name.
//   - STRICT_DNS, with an inline load_assignment, dns_lookup_family V4_ONLY or ALL, and
//     dns_refresh_rate (default 5s): every hostname is resolved at once and then every
//     refresh; the hosts are all IPv4 addresses (V4_ONLY) or all addresses (ALL) of all
//     hostnames, in order. A hostname that fails to resolve keeps its previous
//     addresses.
//     https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery#strict-dns
//   - LOGICAL_DNS, the same with exactly one endpoint, of which only the first address
//     is used.
//
// Endpoints (ClusterLoadAssignment): cluster_name and endpoints[].lb_endpoints[]
// .endpoint.address.socket_address {address, port_value}, where EDS addresses must be
// IP literals. All localities are one list. Connections are balanced round robin,
// starting at the first endpoint. When a connect fails (or exceeds connect_timeout),
// tcp_proxy tries the next endpoint, up to one attempt per endpoint (see
// [WithConnectAttempts]; Envoy's default max_connect_attempts is 1, and it relies on
// outlier detection to eject failing hosts over time, which this data plane does not
// do).
//
// # What is rejected
//
// Every message the data plane reads is walked field by field: a set field not listed
// above, an unknown field, an Any of any other type (any other listener or network
// filter, any transport socket or TLS context, ...), or a value not listed (another
// cluster type, another dns_lookup_family, another config source) rejects the resource
// with [ErrNotImplemented]. Configuration Envoy itself rejects (its protoc-gen-validate
// rules, run on every resource and every typed config, and the checks above) is
// rejected with [ErrInvalid]. Config is never silently ignored. A few rules are
// stricter than Envoy, which would accept these: load_assignment or DNS settings on an
// EDS cluster, unknown fields, a filter chain without filters, and a resource whose own
// name differs from its xDS resource name.
//
// Over xDS, as in Envoy, each response is applied resource by resource: the valid ones
// take effect and the response is NACKed (error_detail with code INTERNAL) naming
// every rejected one, which keeps its previous version.
// https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-and-nack-semantics
//
// # Updates
//
// New listeners start accepting; removed ones close their socket while their open
// connections run to completion (Envoy drains them); a listener updated at the same
// address keeps its socket, and new connections use the new chains. Changed clusters
// and endpoints apply to new connections. Clusters are active at once: unlike Envoy, no
// cluster waits (warms) for its first endpoints or DNS answer, so a connection in that
// window counts upstream_cx_none_healthy.
//
// # Stats
//
// [DataPlane.Stats] uses Envoy's names, with ':' replaced by '_':
//
//   - listener.<address>.{downstream_cx_total, downstream_cx_active,
//     no_filter_chain_match, downstream_pre_cx_timeout}, where <address> is the
//     configured one, e.g. listener.127.0.0.1_8443 (the bound port for port 0);
//   - tls_inspector.{tls_found, tls_not_found, sni_found, sni_not_found};
//   - tcp.<stat_prefix>.{downstream_cx_total, downstream_cx_no_route,
//     downstream_cx_rx_bytes_total, downstream_cx_tx_bytes_total}, the byte counts
//     added when a connection ends;
//   - cluster.<name>.{upstream_cx_total, upstream_cx_active, upstream_cx_connect_fail,
//     upstream_cx_connect_timeout, upstream_cx_none_healthy, membership_total}, and for
//     DNS clusters update_attempt, update_success and update_failure, and for EDS
//     update_attempt, update_success and update_rejected;
//   - cluster_manager.active_clusters, cluster_manager.cds.update_{attempt, success,
//     rejected}, listener_manager.total_listeners_active,
//     listener_manager.lds.update_{attempt, success, rejected}, and
//     control_plane.connected_state.
//
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/stats and
// https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats
// describe them. [DataPlane.WaitStat] polls one until a condition holds, for tests.
package dataplane
