package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/gateway/servicedef"
	"github.com/peeringgw/peeringgw/meshconfig"
)

// gatewayFlags describe a gateway registration on the command line.
type gatewayFlags struct {
	name, id, address  string
	port               int
	wanAddr, lanAddr   string
	wanPort, lanPort   int
	partition          string
	tags               stringList
	meta               keyValues
	config             proxyConfig
	connectTimeoutMs   int
	bindTagged, noBind bool
	binds              bindAddresses
}

func (g *gatewayFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.name, "name", gateway.DefaultName, "service `name` of the gateway")
	fs.StringVar(&g.id, "id", "", "service instance `ID` (default the name); Envoy's node ID")
	fs.StringVar(&g.address, "address", "", "LAN `IP` local servers dial and the default listener binds (default the agent's address)")
	fs.IntVar(&g.port, "port", 8443, "the gateway's `port`")
	fs.StringVar(&g.wanAddr, "wan-address", "", "the `address` (IP or DNS name) peers dial: the \"wan\" tagged address")
	fs.IntVar(&g.wanPort, "wan-port", 0, "`port` of the WAN address (default -port)")
	fs.StringVar(&g.lanAddr, "lan-address", "", "the \"lan\" tagged `address`")
	fs.IntVar(&g.lanPort, "lan-port", 0, "`port` of the LAN address (default -port)")
	fs.StringVar(&g.partition, "partition", "", "admin `partition`: empty or default (Consul Enterprise only)")
	fs.Var(&g.tags, "tag", "a service `tag`; repeatable")
	fs.Var(&g.meta, "meta", "service meta `key=value`; repeatable")
	fs.Var(&g.config, "proxy-config", "a Proxy.Config entry `key=value`, the value read as JSON when it is JSON; repeatable")
	fs.IntVar(&g.connectTimeoutMs, "connect-timeout-ms", 0, "connect_timeout_ms: upstream connect timeout in `ms` (Consul's default 5000)")
	fs.BoolVar(&g.bindTagged, "bind-tagged", false, "envoy_gateway_bind_tagged_addresses: also listen on every tagged address")
	fs.BoolVar(&g.noBind, "no-default-bind", false, "envoy_gateway_no_default_bind: do not listen on -address:-port")
	fs.Var(&g.binds, "bind", "envoy_gateway_bind_addresses entry `name=ip:port`; repeatable")
}

// registration returns the gateway the flags describe, and the proxy config keys Consul
// ignores (warnings). Flag syntax was checked by the flag package; what remains are
// usage mistakes (a port without its address) and invalid values.
func (g *gatewayFlags) registration(fs *flag.FlagSet) (gateway.Registration, []error, error) {
	r := gateway.Registration{
		Name: g.name, ID: g.id, Address: g.address, Port: g.port,
		Tags: []string(g.tags), Meta: map[string]string(g.meta), Partition: g.partition,
	}
	var err error
	if r.WAN, err = taggedAddress(fs, "wan", g.wanAddr, g.wanPort, g.port); err != nil {
		return r, nil, err
	}
	if r.LAN, err = taggedAddress(fs, "lan", g.lanAddr, g.lanPort, g.port); err != nil {
		return r, nil, err
	}
	opts, problems := gateway.ParseOptions(map[string]any(g.config))
	var ignored, invalid []error
	for _, p := range problems {
		if errors.Is(p, gateway.ErrUnknownOption) {
			ignored = append(ignored, p)
		} else {
			invalid = append(invalid, p)
		}
	}
	if len(invalid) > 0 {
		return r, nil, fmt.Errorf("invalid -proxy-config:\n%w", errors.Join(invalid...))
	}
	g.applyOptions(fs, &opts)
	r.Options = opts
	return r, ignored, nil
}

// applyOptions sets the options given by their own flags, which win over -proxy-config.
func (g *gatewayFlags) applyOptions(fs *flag.FlagSet, opts *gateway.Options) {
	if isSet(fs, "connect-timeout-ms") {
		opts.ConnectTimeoutMs = g.connectTimeoutMs
	}
	if isSet(fs, "bind-tagged") {
		opts.BindTaggedAddresses = g.bindTagged
	}
	if isSet(fs, "no-default-bind") {
		opts.NoDefaultBind = g.noBind
	}
	if len(g.binds) > 0 {
		opts.BindAddresses = map[string]api.ServiceAddress(g.binds)
	}
}

// taggedAddress returns the tagged address of -<tag>-address and -<tag>-port, the port
// defaulting to the gateway's.
func taggedAddress(fs *flag.FlagSet, tag, addr string, port, defPort int) (*api.ServiceAddress, error) {
	if addr == "" {
		if isSet(fs, tag+"-port") {
			return nil, usagef(fs, "-%s-port needs -%s-address", tag, tag)
		}
		return nil, nil
	}
	if !isSet(fs, tag+"-port") {
		port = defPort
	}
	return &api.ServiceAddress{Address: addr, Port: port}, nil
}

func runRenderGateway(c *cli, args []string) error {
	fs := c.newFlagSet("render gateway", "[flags]", `
Print a mesh gateway's service definition, for "consul services register FILE" or an
agent's configuration directory. Invalid values (a port out of range, a hostname where
Envoy must bind an IP) fail with exit status 1 and every problem listed.`)
	var g gatewayFlags
	g.register(fs)
	format := fs.String("format", "hcl", "output `format`: hcl or json")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "hcl", "json"); err != nil {
		return err
	}
	r, ignored, err := g.registration(fs)
	if err != nil {
		return err
	}
	for _, w := range ignored {
		fmt.Fprintf(c.stderr, "peergw render gateway: warning: %v (Consul ignores it)\n", w)
	}
	render := servicedef.RenderHCL
	if *format == "json" {
		render = servicedef.RenderJSON
	}
	out, err := render(r)
	if err != nil {
		return fmt.Errorf("invalid gateway:\n%w", err)
	}
	return c.writeOut(out)
}

// editions maps the -edition values.
var editions = map[string]acl.Edition{"ce": acl.EditionCE, "enterprise": acl.EditionEnterprise, "both": acl.EditionBoth}

// editionFlag parses -edition.
func editionFlag(fs *flag.FlagSet, v string) (acl.Edition, error) {
	if err := oneOf(fs, "edition", v, "ce", "enterprise", "both"); err != nil {
		return 0, err
	}
	return editions[v], nil
}

func runRenderACL(c *cli, args []string) error {
	fs := c.newFlagSet("render acl", "[flags]", `
Print the ACL policy of a mesh gateway that routes peering control-plane traffic
(Consul's "create a mesh gateway token" recipe), or with -peering-only just the
peering rule the gateway adds to it. Create it with
"consul acl policy create -name mesh-gateway -rules @FILE".`)
	format := fs.String("format", "hcl", "output `format`: hcl or json")
	compact := fs.Bool("compact", false, "the one-line form of Consul's documentation")
	edition := fs.String("edition", "ce", "Consul `edition`: ce, enterprise or both (a policy valid on either)")
	peeringOnly := fs.Bool("peering-only", false, "only the peering rule")
	name := fs.String("gateway-name", acl.DefaultGatewayName, "the gateway's service `name`, which gets service:write")
	agentRead := fs.Bool("agent-read", true, "include agent_prefix \"\" read, needed only when \"consul connect envoy\" starts the gateway")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "hcl", "json"); err != nil {
		return err
	}
	e, err := editionFlag(fs, *edition)
	if err != nil {
		return err
	}
	var p *acl.Policy
	if *peeringOnly {
		if isSet(fs, "gateway-name") || isSet(fs, "agent-read") {
			return usagef(fs, "-gateway-name and -agent-read do not apply to -peering-only")
		}
		p, err = acl.PeeringRead(e)
	} else {
		p, err = acl.MeshGateway(e, acl.WithGatewayName(*name), acl.WithAgentRead(*agentRead))
	}
	if err != nil {
		return err
	}
	out, err := renderPolicy(p, *format, *compact)
	if err != nil {
		return err
	}
	return c.writeOut(out)
}

func renderPolicy(p *acl.Policy, format string, compact bool) ([]byte, error) {
	switch {
	case format == "json" && compact:
		return p.RenderCompactJSON()
	case format == "json":
		return p.RenderJSON()
	case compact:
		return p.RenderCompactHCL()
	}
	return p.RenderHCL()
}

func runRenderMesh(c *cli, args []string) error {
	fs := c.newFlagSet("render mesh", "[flags]", `
Print the mesh config entry that sets Peering.PeerThroughMeshGateways, for
"consul config write FILE". Apply it on the accepting cluster before generating the
peering token, and on the dialing cluster before establishing the peering.`)
	format := fs.String("format", "hcl", "output `format`: hcl, json or yaml")
	enable := fs.Bool("enable", true, "the value of PeerThroughMeshGateways")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "hcl", "json", "yaml"); err != nil {
		return err
	}
	render := map[string]func(*api.MeshConfigEntry) ([]byte, error){
		"hcl": meshconfig.RenderHCL, "json": meshconfig.RenderJSON, "yaml": meshconfig.RenderYAML,
	}[*format]
	out, err := render(meshconfig.New(*enable))
	if err != nil {
		return err
	}
	return c.writeOut(out)
}
