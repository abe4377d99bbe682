package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"sigs.k8s.io/yaml"

	"github.com/peeringgw/peeringgw/gateway"
)

// xdsClusterName is the bootstrap's static cluster for the xDS server.
const xdsClusterName = "peergw_xds"

// httpProtocolOptionsKey is where Envoy looks for a cluster's HTTP protocol options.
const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// bootstrapArgs describe the bootstrap.
type bootstrapArgs struct {
	nodeID, cluster string
	xdsHost         string
	xdsPort         int
	adminAddr       netip.AddrPort
	connectTimeout  time.Duration
	xdsTLS          bootstrapTLS
	token           string // sent as x-consul-token; empty for none
}

func runBootstrap(c *cli, args []string) error {
	fs := c.newFlagSet("bootstrap", "[flags]", `
Print the Envoy bootstrap that points a mesh gateway's Envoy at "peergw serve": the node
ID is the gateway's service ID, listeners and clusters come over delta ADS (v3) from
-xds-addr, reached through a static HTTP/2 cluster, and the admin interface listens on
-admin-addr. Run Envoy with "envoy -c bootstrap.json".

With -grpc-ca-file the xDS cluster uses TLS and verifies the server with those CAs
(inlined), with -grpc-client-cert-file and -grpc-client-key-file it presents a client
certificate, and the ACL token (-token, -token-file, $CONSUL_HTTP_TOKEN_FILE or
$CONSUL_HTTP_TOKEN) is sent as gRPC metadata x-consul-token, as
"consul connect envoy -bootstrap" does. The bootstrap then holds the token: keep it
private.`)
	var a bootstrapArgs
	fs.StringVar(&a.nodeID, "gateway-id", gateway.DefaultName, "service instance `ID` of the gateway: the Envoy node ID")
	fs.StringVar(&a.cluster, "cluster", gateway.DefaultName, "Envoy node `cluster`: the gateway's service name")
	xdsAddr := fs.String("xds-addr", "127.0.0.1:18000", "`host:port` of peergw serve's xDS server (an IP or a DNS name)")
	admin := fs.String("admin-addr", "127.0.0.1:19000", "`ip:port` of Envoy's admin interface")
	fs.DurationVar(&a.connectTimeout, "connect-timeout", time.Second, "connect timeout to the xDS server")
	format := fs.String("format", "json", "output `format`: json or yaml")
	var sec bootstrapSecurityFlags
	sec.register(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "json", "yaml"); err != nil {
		return err
	}
	var err error
	if a.xdsHost, a.xdsPort, err = splitHostPort(*xdsAddr); err != nil {
		return usagef(fs, "-xds-addr: %v", err)
	}
	adminHost, adminPort, err := splitHostPort(*admin)
	if err != nil {
		return usagef(fs, "-admin-addr: %v", err)
	}
	if a.adminAddr, err = checkAddresses(a, adminHost, adminPort); err != nil {
		return err
	}
	if a.nodeID == "" || a.connectTimeout <= 0 {
		return usagef(fs, "-gateway-id must not be empty and -connect-timeout must be positive")
	}
	if a.xdsTLS, a.token, err = sec.resolve(fs, os.Getenv); err != nil {
		return err
	}
	b, err := buildBootstrap(a)
	if err != nil {
		return err
	}
	if err := b.ValidateAll(); err != nil {
		return fmt.Errorf("invalid bootstrap: %w", err)
	}
	out, err := marshalProto(b, *format)
	if err != nil {
		return err
	}
	return c.writeOut(out)
}

// checkAddresses checks the ports, that the xDS host is set, and that Envoy's admin
// address is an IP, which Envoy needs to listen.
func checkAddresses(a bootstrapArgs, adminHost string, adminPort int) (netip.AddrPort, error) {
	for _, p := range []struct {
		flag string
		port int
	}{{"xds-addr", a.xdsPort}, {"admin-addr", adminPort}} {
		if p.port < 1 || p.port > 65535 {
			return netip.AddrPort{}, fmt.Errorf("-%s: port %d out of range 1..65535", p.flag, p.port)
		}
	}
	if a.xdsHost == "" {
		return netip.AddrPort{}, fmt.Errorf("-xds-addr: empty host")
	}
	ip, err := netip.ParseAddr(adminHost)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("-admin-addr: %q is not an IP address: Envoy listens on IP addresses", adminHost)
	}
	return netip.AddrPortFrom(ip, uint16(adminPort)), nil
}

func socketAddress(host string, port int) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
	}}}
}

func buildBootstrap(a bootstrapArgs) (*bootstrapv3.Bootstrap, error) {
	xdsc, err := xdsCluster(a)
	if err != nil {
		return nil, err
	}
	ads := &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
	return &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: a.nodeID, Cluster: a.cluster},
		Admin: &bootstrapv3.Admin{
			Address: socketAddress(a.adminAddr.Addr().String(), int(a.adminAddr.Port())),
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{xdsc}},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_DELTA_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
						EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: xdsClusterName},
					},
					InitialMetadata: tokenMetadata(a.token),
				}},
				SetNodeOnFirstMessageOnly: true,
			},
			CdsConfig: ads,
			LdsConfig: ads,
		},
	}, nil
}

// xdsCluster is the static cluster of the xDS server: HTTP/2, STATIC for an IP address
// and LOGICAL_DNS for a DNS name.
func xdsCluster(a bootstrapArgs) (*clusterv3.Cluster, error) {
	typ := clusterv3.Cluster_LOGICAL_DNS
	if _, err := netip.ParseAddr(a.xdsHost); err == nil {
		typ = clusterv3.Cluster_STATIC
	}
	opts, err := anypb.New(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				},
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("http protocol options: %w", err)
	}
	transport, err := a.xdsTLS.transportSocket()
	if err != nil {
		return nil, err
	}
	return &clusterv3.Cluster{
		Name:                          xdsClusterName,
		TransportSocket:               transport,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: typ},
		ConnectTimeout:                durationpb.New(a.connectTimeout),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptionsKey: opts},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: xdsClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: socketAddress(a.xdsHost, a.xdsPort),
				}},
			}}}},
		},
	}, nil
}

// marshalProto writes b as indented JSON (protojson's whitespace, which varies on
// purpose, normalised) or as YAML.
func marshalProto(b *bootstrapv3.Bootstrap, format string) ([]byte, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		return nil, err
	}
	if format == "yaml" {
		return yaml.JSONToYAML(raw)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
