package gateway

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// The Proxy.Config keys Consul reads for a mesh gateway.
//
// The xDS keys are decoded by the agent when it builds the gateway's Envoy resources
// (Consul's agent/xds GatewayConfig); the bootstrap keys are decoded by
// `consul connect envoy` when it writes Envoy's bootstrap file.
const (
	keyConnectTimeout      = "connect_timeout_ms"
	keyBindTagged          = "envoy_gateway_bind_tagged_addresses"
	keyBindAddresses       = "envoy_gateway_bind_addresses"
	keyNoDefaultBind       = "envoy_gateway_no_default_bind"
	keyDNSDiscoveryType    = "envoy_dns_discovery_type"
	keyKeepalive           = "envoy_gateway_remote_tcp_enable_keepalive"
	keyKeepaliveTime       = "envoy_gateway_remote_tcp_keepalive_time"
	keyKeepaliveInterval   = "envoy_gateway_remote_tcp_keepalive_interval"
	keyKeepaliveProbes     = "envoy_gateway_remote_tcp_keepalive_probes"
	keyXDSFetchTimeout     = "xds_fetch_timeout_ms"
	keyStatsdURL           = "envoy_statsd_url"
	keyDogstatsdURL        = "envoy_dogstatsd_url"
	keyStatsTags           = "envoy_stats_tags"
	keyPrometheusBindAddr  = "envoy_prometheus_bind_addr"
	keyStatsBindAddr       = "envoy_stats_bind_addr"
	keyBootstrapTemplate   = "envoy_bootstrap_json_tpl"
	keyStaticClustersJSON  = "envoy_extra_static_clusters_json"
	keyStaticListenersJSON = "envoy_extra_static_listeners_json"
	keyStatsSinksJSON      = "envoy_extra_stats_sinks_json"
	keyStatsConfigJSON     = "envoy_stats_config_json"
	keyStatsFlushInterval  = "envoy_stats_flush_interval"
	keyTracingJSON         = "envoy_tracing_json"

	// legacyPrefix replaces "envoy_gateway_" in the pre-1.8 aliases of the bind keys.
	legacyPrefix = "envoy_mesh_gateway_"
)

// DefaultConnectTimeout is the connect timeout Consul uses when connect_timeout_ms is
// absent or below 1.
const DefaultConnectTimeout = 5 * time.Second

// maxMillis is the largest millisecond count a time.Duration can hold.
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// Options are the Envoy options Consul reads from a mesh gateway's Proxy.Config, typed.
//
// Each field names its Proxy.Config key. A zero value means "not set": [Options.ProxyConfig]
// omits it and Consul applies its default. The fields are documented in Consul's
// "Envoy proxy configuration" reference, sections Gateway Options, Bootstrap
// configuration and Advanced Bootstrap Options:
// https://developer.hashicorp.com/consul/docs/connect/proxies/envoy#gateway-options
//
// Of all of them only ConnectTimeoutMs, BindTaggedAddresses, BindAddresses and
// NoDefaultBind change the Envoy resources that carry peering control-plane traffic in
// Consul 1.14; from Consul 1.15.8, 1.16.4 and 1.17.1 XDSFetchTimeoutMs does too (the
// initial fetch timeout of the EDS clusters). See [Options.PeeringIneffective].
type Options struct {
	// ConnectTimeoutMs (connect_timeout_ms) is the timeout, in milliseconds, of new
	// upstream connections, including those to the local servers and to peer gateways.
	// Values below 1 mean the default, 5000; see [Options.ConnectTimeout].
	ConnectTimeoutMs int
	// BindTaggedAddresses (envoy_gateway_bind_tagged_addresses, legacy
	// envoy_mesh_gateway_bind_tagged_addresses) adds a listener on every tagged address of
	// the service. The addresses must then be IP addresses of interfaces Envoy can see.
	BindTaggedAddresses bool
	// BindAddresses (envoy_gateway_bind_addresses, legacy
	// envoy_mesh_gateway_bind_addresses) adds one listener per entry, named by the key.
	BindAddresses map[string]api.ServiceAddress
	// NoDefaultBind (envoy_gateway_no_default_bind, legacy
	// envoy_mesh_gateway_no_default_bind) drops the listener on the service address and
	// port.
	NoDefaultBind bool
	// DNSDiscoveryType (envoy_dns_discovery_type) is LOGICAL_DNS (Consul's default) or
	// STRICT_DNS, in any letter case, for clusters of hostnames. Consul ignores it for
	// peering clusters.
	DNSDiscoveryType string
	// TCPKeepalive (envoy_gateway_remote_tcp_enable_keepalive) enables TCP keepalive on
	// connections to remote gateways. Consul does not apply it to peering clusters.
	TCPKeepalive bool
	// TCPKeepaliveTime (envoy_gateway_remote_tcp_keepalive_time) is the idle time, in
	// seconds, before keepalive probes start; 0 leaves Envoy's default.
	TCPKeepaliveTime int
	// TCPKeepaliveInterval (envoy_gateway_remote_tcp_keepalive_interval) is the time, in
	// seconds, between keepalive probes; 0 leaves Envoy's default.
	TCPKeepaliveInterval int
	// TCPKeepaliveProbes (envoy_gateway_remote_tcp_keepalive_probes) is the number of
	// unanswered probes before the connection is dropped; 0 leaves Envoy's default.
	TCPKeepaliveProbes int
	// XDSFetchTimeoutMs (xds_fetch_timeout_ms) is how long, in milliseconds, Envoy waits
	// for EDS and RDS data: nil or negative leaves Envoy's default, 0 waits forever.
	// Consul reads it from 1.15.8, 1.16.4 and 1.17.1 on (GH-19871; never in 1.14.x).
	XDSFetchTimeoutMs *int

	// StatsdURL (envoy_statsd_url) is a udp://ip:port StatsD sink, or $ENV_VAR naming one.
	StatsdURL string
	// DogstatsdURL (envoy_dogstatsd_url) is a udp://ip:port or unix:///path DogStatsD
	// sink, or $ENV_VAR naming one.
	DogstatsdURL string
	// StatsTags (envoy_stats_tags) are "name=value" (or "name") tags added to all metrics.
	StatsTags []string
	// PrometheusBindAddr (envoy_prometheus_bind_addr) is the "ip:port" of a listener that
	// serves /metrics.
	PrometheusBindAddr string
	// StatsBindAddr (envoy_stats_bind_addr) is the "ip:port" of a listener that serves
	// /stats.
	StatsBindAddr string
	// BootstrapTemplate (envoy_bootstrap_json_tpl) replaces Consul's whole bootstrap
	// template (a Go text/template).
	BootstrapTemplate string
	// StaticClustersJSON (envoy_extra_static_clusters_json) holds clusters appended to the
	// bootstrap's static clusters: one JSON object, or several separated by commas.
	StaticClustersJSON string
	// StaticListenersJSON (envoy_extra_static_listeners_json) holds listeners appended to
	// the bootstrap's static listeners, in the same form.
	StaticListenersJSON string
	// StatsSinksJSON (envoy_extra_stats_sinks_json) holds stats sinks appended to the
	// bootstrap's, in the same form.
	StatsSinksJSON string
	// StatsConfigJSON (envoy_stats_config_json) replaces the bootstrap's stats_config
	// object, overriding StatsTags.
	StatsConfigJSON string
	// StatsFlushInterval (envoy_stats_flush_interval) is Envoy's stats_flush_interval as
	// a protobuf JSON duration, e.g. "5s".
	StatsFlushInterval string
	// TracingJSON (envoy_tracing_json) replaces the bootstrap's tracing object.
	TracingJSON string

	// Extra holds Proxy.Config keys this package does not know, verbatim. Consul ignores
	// them for mesh gateways; they are kept so that nothing is lost between
	// [ParseOptions] and [Options.ProxyConfig]. Values must be JSON-like: strings, bools,
	// numbers, slices and string-keyed maps of those.
	Extra map[string]any
}

// ConnectTimeout returns the connect timeout Consul applies: ConnectTimeoutMs
// milliseconds, or [DefaultConnectTimeout] when ConnectTimeoutMs is below 1. Values too
// large for a time.Duration give the largest one.
func (o Options) ConnectTimeout() time.Duration {
	ms := int64(o.ConnectTimeoutMs)
	switch {
	case ms < 1:
		return DefaultConnectTimeout
	case ms > maxMillis:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// ProxyConfig returns the options as a Proxy.Config map with Consul's canonical keys
// (never the legacy aliases), or nil when nothing is set. Unset fields are omitted. Bind
// addresses are maps with the keys "address" and "port". The entries of Extra are copied
// first, so a typed field wins over an Extra entry of the same key.
func (o Options) ProxyConfig() map[string]any {
	m := maps.Clone(o.Extra)
	if m == nil {
		m = map[string]any{}
	}
	setInt(m, keyConnectTimeout, o.ConnectTimeoutMs)
	setBool(m, keyBindTagged, o.BindTaggedAddresses)
	if len(o.BindAddresses) > 0 {
		binds := make(map[string]any, len(o.BindAddresses))
		for name, a := range o.BindAddresses {
			binds[name] = map[string]any{"address": a.Address, "port": a.Port}
		}
		m[keyBindAddresses] = binds
	}
	setBool(m, keyNoDefaultBind, o.NoDefaultBind)
	setString(m, keyDNSDiscoveryType, o.DNSDiscoveryType)
	setBool(m, keyKeepalive, o.TCPKeepalive)
	setInt(m, keyKeepaliveTime, o.TCPKeepaliveTime)
	setInt(m, keyKeepaliveInterval, o.TCPKeepaliveInterval)
	setInt(m, keyKeepaliveProbes, o.TCPKeepaliveProbes)
	if o.XDSFetchTimeoutMs != nil {
		m[keyXDSFetchTimeout] = *o.XDSFetchTimeoutMs
	}
	for key, v := range o.bootstrapStrings() {
		setString(m, key, *v)
	}
	if len(o.StatsTags) > 0 {
		m[keyStatsTags] = slices.Clone(o.StatsTags)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// bootstrapStrings returns the string-typed bootstrap options by key.
func (o *Options) bootstrapStrings() map[string]*string {
	return map[string]*string{
		keyStatsdURL:           &o.StatsdURL,
		keyDogstatsdURL:        &o.DogstatsdURL,
		keyPrometheusBindAddr:  &o.PrometheusBindAddr,
		keyStatsBindAddr:       &o.StatsBindAddr,
		keyBootstrapTemplate:   &o.BootstrapTemplate,
		keyStaticClustersJSON:  &o.StaticClustersJSON,
		keyStaticListenersJSON: &o.StaticListenersJSON,
		keyStatsSinksJSON:      &o.StatsSinksJSON,
		keyStatsConfigJSON:     &o.StatsConfigJSON,
		keyStatsFlushInterval:  &o.StatsFlushInterval,
		keyTracingJSON:         &o.TracingJSON,
	}
}

func setInt(m map[string]any, key string, v int) {
	if v != 0 {
		m[key] = v
	}
}

func setBool(m map[string]any, key string, v bool) {
	if v {
		m[key] = true
	}
}

func setString(m map[string]any, key, v string) {
	if v != "" {
		m[key] = v
	}
}

// PeeringIneffective returns the keys of the options that are set but have no effect on
// the Envoy resources that carry peering control-plane traffic, sorted: the DNS
// discovery type (peer hostnames always get this library's STRICT_DNS cluster) and the
// TCP keepalive options (Consul builds peering clusters as local, not remote,
// clusters). The xDS fetch timeout is not listed: from Consul 1.15.8, 1.16.4 and 1.17.1
// (and so with the xds package's default target, 1.22) it sets the initial fetch
// timeout of the peering EDS clusters; only generation for Consul 1.14 ignores it (the
// xds package's generation rules, RULES.md §11). The bootstrap options are not listed:
// they configure Envoy itself (stats, tracing, extra static resources), not the peering
// routes.
func (o Options) PeeringIneffective() []string {
	var keys []string
	add := func(set bool, key string) {
		if set {
			keys = append(keys, key)
		}
	}
	add(o.DNSDiscoveryType != "", keyDNSDiscoveryType)
	add(o.TCPKeepalive, keyKeepalive)
	add(o.TCPKeepaliveTime != 0, keyKeepaliveTime)
	add(o.TCPKeepaliveInterval != 0, keyKeepaliveInterval)
	add(o.TCPKeepaliveProbes != 0, keyKeepaliveProbes)
	slices.Sort(keys)
	return keys
}

// Validate reports every option value that Consul or Envoy would reject or misread,
// joined with errors.Join; each is a [*ValidationError] whose Field is the Proxy.Config
// key path. It checks that:
//
//   - connect_timeout_ms is not negative and fits a time.Duration (Consul silently
//     replaces a negative value by 5000);
//   - envoy_dns_discovery_type is LOGICAL_DNS or STRICT_DNS in any letter case (Consul
//     silently treats anything else as LOGICAL_DNS);
//   - the keepalive numbers are in 0..4294967295 (Consul converts them to uint32);
//   - xds_fetch_timeout_ms fits a time.Duration;
//   - every bind address is a non-empty IP literal with a port in 1..65535;
//   - envoy_prometheus_bind_addr and envoy_stats_bind_addr are "ip:port";
//   - no Extra key is one of the known keys or their aliases, in any letter case, and
//     every Extra value is JSON-like.
func (o Options) Validate() error {
	return errors.Join(o.validate()...)
}

// validate returns the problems Validate reports.
func (o Options) validate() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if o.ConnectTimeoutMs < 0 || int64(o.ConnectTimeoutMs) > maxMillis {
		add(invalid(keyConnectTimeout, strconv.Itoa(o.ConnectTimeoutMs), fmt.Errorf("%w: milliseconds must be in 0..%d", ErrOptionValue, maxMillis)))
	}
	if t := o.DNSDiscoveryType; t != "" && !strings.EqualFold(t, "logical_dns") && !strings.EqualFold(t, "strict_dns") {
		add(invalid(keyDNSDiscoveryType, t, fmt.Errorf("%w: must be LOGICAL_DNS or STRICT_DNS", ErrOptionValue)))
	}
	add(checkUint32(keyKeepaliveTime, o.TCPKeepaliveTime))
	add(checkUint32(keyKeepaliveInterval, o.TCPKeepaliveInterval))
	add(checkUint32(keyKeepaliveProbes, o.TCPKeepaliveProbes))
	if p := o.XDSFetchTimeoutMs; p != nil && int64(*p) > maxMillis {
		add(invalid(keyXDSFetchTimeout, strconv.Itoa(*p), fmt.Errorf("%w: milliseconds must be at most %d", ErrOptionValue, maxMillis)))
	}
	for _, name := range slices.Sorted(maps.Keys(o.BindAddresses)) {
		errs = append(errs, checkBindAddress(bindField(name), o.BindAddresses[name])...)
	}
	add(checkHostPort(keyPrometheusBindAddr, o.PrometheusBindAddr))
	add(checkHostPort(keyStatsBindAddr, o.StatsBindAddr))
	return append(errs, o.checkExtra()...)
}

// bindField returns the Proxy.Config key path of custom bind address name.
func bindField(name string) string {
	return keyBindAddresses + "[" + name + "]"
}

func checkUint32(key string, v int) error {
	if v < 0 || int64(v) > math.MaxUint32 {
		return invalid(key, strconv.Itoa(v), fmt.Errorf("%w: must be in 0..%d", ErrOptionValue, uint32(math.MaxUint32)))
	}
	return nil
}

// checkBindAddress checks a custom bind address: an IP literal and a port in 1..65535.
func checkBindAddress(field string, a api.ServiceAddress) []error {
	var errs []error
	switch {
	case a.Address == "":
		errs = append(errs, invalid(field+".address", "", ErrEmptyAddress))
	case !isIP(a.Address):
		errs = append(errs, invalid(field+".address", a.Address, ErrNotIP))
	}
	if !validPort(a.Port) {
		errs = append(errs, invalid(field+".port", strconv.Itoa(a.Port), ErrPortRange))
	}
	return errs
}

// checkHostPort checks an "ip:port" option; empty means unset.
func checkHostPort(key, v string) error {
	if v == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return invalid(key, v, fmt.Errorf("%w: want ip:port", ErrBadAddress))
	}
	if !isIP(host) {
		return invalid(key, v, fmt.Errorf("%w: host is not an IP address", ErrBadAddress))
	}
	if p, err := strconv.Atoi(port); err != nil || !validPort(p) {
		return invalid(key, v, fmt.Errorf("%w: %w", ErrBadAddress, ErrPortRange))
	}
	return nil
}

// checkExtra reports Extra keys that shadow known keys and Extra values that are not
// JSON-like.
func (o Options) checkExtra() []error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(o.Extra)) {
		if known, ok := knownKey(key); ok {
			errs = append(errs, invalid(key, "", fmt.Errorf("%w: %s is a typed option; set the Options field instead", ErrDuplicateOption, known)))
			continue
		}
		if err := checkJSONLike(o.Extra[key]); err != nil {
			errs = append(errs, invalid(key, "", fmt.Errorf("%w: %w", ErrOptionType, err)))
		}
	}
	return errs
}

// knownKey reports whether key names a typed option, ignoring letter case and accepting
// the legacy aliases, and returns the canonical key.
func knownKey(key string) (string, bool) {
	for _, spec := range optionSpecs {
		if strings.EqualFold(key, spec.key) || (spec.alias != "" && strings.EqualFold(key, spec.alias)) {
			return spec.key, true
		}
	}
	return "", false
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

func isIP(s string) bool { return net.ParseIP(s) != nil }
