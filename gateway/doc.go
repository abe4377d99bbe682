// Package gateway builds the Consul registration of a mesh gateway that carries
// cluster-peering control-plane traffic, and reads and checks its Envoy options.
//
// A mesh gateway is a Consul service of kind mesh-gateway. Its Proxy.Config holds opaque
// Envoy options (Consul's "Gateway Options" and bootstrap options). With the mesh config
// entry's Peering.PeerThroughMeshGateways set, Consul servers send their peering traffic
// through the gateways of the default partition: local servers dial a gateway's address,
// peers dial its "wan" tagged address.
//
// This package has three parts, none of which does I/O:
//
//   - [Registration] describes a gateway; [Registration.Build] returns the
//     *api.AgentServiceRegistration to pass to Agent().ServiceRegister.
//     [Registration.Validate] reports every problem as a [*ValidationError]. The
//     sub-package [github.com/peeringgw/peeringgw/gateway/servicedef] writes a
//     Registration as the HCL or JSON service definition file `consul services
//     register` reads, and reads it back; this package itself depends on no text
//     format, so a program that only generates configuration (the xds package) does
//     not carry an HCL parser.
//   - [Options] types every Proxy.Config key Consul reads for a gateway.
//     [ParseOptions] decodes a Proxy.Config exactly as leniently as Consul does (legacy
//     aliases, numbers and booleans written as strings) but reports what Consul silently
//     ignores; [Options.ProxyConfig] writes it back with the canonical keys.
//     [Options.PeeringIneffective] lists the options that have no effect on peering
//     traffic: of all of them only connect_timeout_ms and the bind options change the
//     Envoy resources that carry it.
//   - [BindAddresses] computes the addresses the gateway's Envoy listens on, as Consul
//     does, without ever producing one that Envoy rejects (a hostname, a bad port).
//
// Where this package is stricter than Consul 1.14.8, it says so in the function's
// documentation; the Consul behaviour is described in Consul's agent/xds/config.go,
// agent/xds/listeners.go and command/connect/envoy/bootstrap_config.go.
package gateway
