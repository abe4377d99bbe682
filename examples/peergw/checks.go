package main

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// Fixes shared by several findings.
const (
	fixMesh = "apply the entry: peergw render mesh > mesh.hcl && consul config write mesh.hcl"
	fixACL  = "give the gateway's token the policy of peergw render acl (-edition enterprise on Consul Enterprise), " +
		"e.g. consul acl policy update -name mesh-gateway -rules @policy.hcl"
)

// diagnose runs every check on the clusters: each one's own, then those across the two.
func diagnose(clusters []*cluster, opts doctorOptions) []finding {
	var out []finding
	for _, cl := range clusters {
		out = append(out, checkMesh(cl)...)
		out = append(out, checkGateways(cl, opts)...)
		out = append(out, checkInputs(cl)...)
		out = append(out, checkToken(cl)...)
		out = append(out, checkPeerings(cl)...)
	}
	if len(clusters) == 2 {
		out = append(out, checkPair(clusters[0], clusters[1])...)
	}
	return out
}

// dcName names a cluster in messages.
func dcName(cl *cluster) string {
	if cl.Datacenter == "" {
		return "the " + cl.Label + " cluster"
	}
	return cl.Datacenter
}

// flagOn reports whether Consul routes peering traffic through mesh gateways: the flag
// is set in the default partition's entry.
func flagOn(e *api.MeshConfigEntry) bool {
	return meshconfig.Enabled(e) && peering.IsDefaultPartition(e.Partition)
}

// peeringRoles splits the live peerings into those this cluster accepted and those it
// dialed.
func peeringRoles(ps []peering.Peering) (accepting, dialing []peering.Peering) {
	for _, p := range ps {
		switch {
		case p.DeletedAt != nil:
		case p.Dialing():
			dialing = append(dialing, p)
		default:
			accepting = append(accepting, p)
		}
	}
	return accepting, dialing
}

func peeringNames(ps []peering.Peering) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Key()
	}
	return strings.Join(names, ", ")
}

func checkMesh(cl *cluster) []finding {
	accepting, dialing := peeringRoles(cl.Peerings)
	if flagOn(cl.Mesh) {
		var out []finding
		for _, p := range accepting {
			if p.State == api.PeeringStatePending && p.CreateIndex < cl.Mesh.ModifyIndex {
				out = append(out, newFinding(idMeshEntryAfterToken, cl.Label, p.Key(),
					fmt.Sprintf("the token of pending peering %q was generated before the mesh config entry was last changed", p.Name),
					"if that change set PeerThroughMeshGateways, the token lists the Consul servers' addresses, "+
						"so the dialing cluster's secret handshake goes straight to the servers, not through the mesh gateways",
					fmt.Sprintf("generate a new token for %q (consul peering generate-token -name %s) and establish with that one", p.Name, p.Name)))
			}
		}
		return out
	}
	id, what := idMeshFlagOff, dcName(cl)+"'s mesh config entry does not set Peering.PeerThroughMeshGateways"
	switch {
	case cl.Mesh == nil:
		id, what = idMeshEntryMissing, dcName(cl)+" has no mesh config entry, so peering traffic does not go through mesh gateways"
	case meshconfig.Enabled(cl.Mesh):
		what = fmt.Sprintf("%s's mesh config entry is in partition %q; Consul reads PeerThroughMeshGateways only in the default partition", dcName(cl), cl.Mesh.Partition)
	}
	return []finding{newFinding(id, cl.Label, "", what, orderReasons(cl.Mesh, accepting, dialing), fixMesh)}
}

// orderReasons explains, with meshconfig.NextStep, what the missing flag means for the
// cluster's peerings, or for the next one when it has none.
func orderReasons(e *api.MeshConfigEntry, accepting, dialing []peering.Peering) string {
	var reasons []string
	if len(accepting) > 0 {
		reasons = append(reasons, "as the accepting cluster of "+peeringNames(accepting)+": "+
			meshconfig.NextStep(meshconfig.RoleAccepting, meshconfig.StageAfter, e).Reason)
	}
	if len(dialing) > 0 {
		reasons = append(reasons, "as the dialing cluster of "+peeringNames(dialing)+": "+
			meshconfig.NextStep(meshconfig.RoleDialing, meshconfig.StageAfter, e).Reason)
	}
	if len(reasons) == 0 {
		reasons = append(reasons,
			"before generating a peering token: "+meshconfig.NextStep(meshconfig.RoleAccepting, meshconfig.StageBefore, e).Reason,
			"before establishing a peering: "+meshconfig.NextStep(meshconfig.RoleDialing, meshconfig.StageBefore, e).Reason)
	}
	return strings.Join(reasons, "\n")
}

func checkGateways(cl *cluster, opts doctorOptions) []finding {
	if len(cl.Gateways) == 0 {
		why := "with PeerThroughMeshGateways set, generating a peering token fails (\"no mesh gateway instances are " +
			"registered\"), this cluster's servers have no local gateway to dial peers through, and peers have no " +
			"address that reaches these servers"
		if cl.GatewaysFiltered {
			why += "; ACLs hid some catalog services from this token, which needs service:read on all services to see the gateways"
		}
		return []finding{newFinding(idGatewayMissing, cl.Label, "",
			"no mesh gateway is registered in "+dcName(cl)+"'s default partition", why,
			"register one (peergw render gateway -address LAN_IP -wan-address WAN_ADDR > gw.hcl && consul services register gw.hcl) "+
				"and run its Envoy (peergw serve and peergw bootstrap, or consul connect envoy -gateway=mesh)")}
	}
	var out []finding
	for _, g := range cl.Gateways {
		if p := g.Entry.Service.Partition; !peering.IsDefaultPartition(p) {
			out = append(out, newFinding(idGatewayNotDefault, cl.Label, g.Name(),
				fmt.Sprintf("mesh gateway %s is in partition %q", g.Name(), p),
				"Consul sends peering control-plane traffic only through the mesh gateways of the default partition, "+
					"where the servers are; this gateway gets no peering routes",
				"register a mesh gateway in the default partition (peergw render gateway -partition default)"))
		}
		out = append(out, checkWAN(cl.Label, g, opts)...)
		out = append(out, checkOptions(cl.Label, g)...)
	}
	return out
}

// checkWAN checks the address peers are given for gateway g.
func checkWAN(label string, g meshGateway, opts doctorOptions) []finding {
	var out []finding
	fixWAN := "register the gateway with a wan tagged address peers can reach: " +
		"peergw render gateway -wan-address ADDR -wan-port PORT ..., then consul services register"
	if g.WANSource != fromWANTag {
		out = append(out, newFinding(idGatewayNoWAN, label, g.Name(),
			fmt.Sprintf("mesh gateway %s has no wan tagged address: peers are given %s, %s", g.Name(), g.WAN, g.WANSource),
			"an accepting cluster that peers through mesh gateways gives every gateway's WAN address to its peers, "+
				"in the token and over the peering stream; without a wan tagged address that is a LAN address, "+
				"which a peer in another network cannot reach", fixWAN))
	}
	ip, err := netip.ParseAddr(g.WANHost)
	switch {
	case g.WANHost == "" || err == nil && ip.IsUnspecified():
		out = append(out, newFinding(idGatewayWANUnspecified, label, g.Name(),
			fmt.Sprintf("mesh gateway %s gives peers the address %s", g.Name(), g.WAN),
			"an unspecified address is one to listen on, not to dial: peers cannot connect to it", fixWAN))
	case err == nil && ip.IsLoopback() && !opts.allowLoopback:
		out = append(out, newFinding(idGatewayWANLoopback, label, g.Name(),
			fmt.Sprintf("mesh gateway %s gives peers the loopback address %s", g.Name(), g.WAN),
			"a peer dialing a loopback address reaches its own host, not this gateway (unless both clusters run on "+
				"one host, as in tests and demos: then run doctor with -allow-loopback)", fixWAN))
	}
	return out
}

// checkOptions checks gateway g's Proxy.Config.
func checkOptions(label string, g meshGateway) []finding {
	svc := g.Entry.Service
	var config map[string]any
	if svc.Proxy != nil {
		config = svc.Proxy.Config
	}
	opts, problems := gateway.ParseOptions(config)
	var invalid []error
	ineffective := opts.PeeringIneffective()
	for _, p := range problems {
		if ve, ok := errors.AsType[*gateway.ValidationError](p); ok && errors.Is(p, gateway.ErrUnknownOption) {
			ineffective = append(ineffective, ve.Field+" (unknown to Consul)")
			continue
		}
		invalid = append(invalid, p)
	}
	invalid = append(invalid, flatten(opts.Validate())...)
	_, bindProblems := gateway.BindAddresses(svc, opts)
	for _, p := range bindProblems {
		// A bind repeating an earlier address is dropped, as Consul does; it is the norm
		// with bound tagged addresses (Consul adds lan_ipv4 and wan_ipv4 copies).
		if !errors.Is(p, gateway.ErrDuplicateBind) {
			invalid = append(invalid, p)
		}
	}
	var out []finding
	if msgs := uniqueMessages(invalid); len(msgs) > 0 {
		out = append(out, newFinding(idGatewayOptionInvalid, label, g.Name(),
			fmt.Sprintf("mesh gateway %s has Proxy.Config values Consul ignores, misreads or Envoy rejects:\n%s", g.Name(), strings.Join(msgs, "\n")),
			"Consul silently replaces or drops such values (a bad connect_timeout_ms becomes 5000, a bind address that is not an IP gives no listener)",
			"correct the values and register the gateway again (peergw render gateway validates them)"))
	}
	if len(ineffective) > 0 {
		out = append(out, newFinding(idGatewayOptionIneffective, label, g.Name(),
			fmt.Sprintf("mesh gateway %s sets options that do not affect peering control-plane traffic: %s", g.Name(), strings.Join(ineffective, ", ")),
			"of the gateway options only connect_timeout_ms and the bind options change the Envoy resources that carry peering traffic; "+
				"the others may still apply to service traffic through the same gateway",
			"nothing, if they are meant for service traffic; otherwise remove them"))
	}
	return out
}

// flatten returns the errors joined in err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func uniqueMessages(errs []error) []string {
	var msgs []string
	for _, e := range errs {
		if m := e.Error(); !slices.Contains(msgs, m) {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// doctorGateway stands for the cluster's gateways when doctor builds the Envoy
// resources to check the servers and peerings: those do not depend on the gateway.
var doctorGateway = &api.AgentService{Kind: api.ServiceKindMeshGateway, ID: "peergw-doctor", Service: "peergw-doctor", Port: 8443}

// checkInputs checks the servers and the peerings the way the Envoy resources are
// generated from them (xds.Build): a server peers cannot reach, a peer address skipped.
func checkInputs(cl *cluster) []finding {
	state := &peering.State{
		Datacenter: cl.Datacenter, TrustDomain: cl.TrustDomain, Gateway: doctorGateway,
		MeshConfig: meshconfig.New(true), Servers: cl.Servers, Peerings: cl.Peerings,
	}
	res, diags := xds.Build(state)
	var out []finding
	for _, d := range diags {
		if f, ok := inputFinding(cl.Label, d); ok {
			out = append(out, f)
		}
	}
	return append(out, checkServerSet(cl, res)...)
}

// inputFinding turns a diagnostic about a server or a peering into a finding.
func inputFinding(label string, d xds.Diagnostic) (finding, bool) {
	switch {
	case d.Part == xds.PartServers:
		id := idServerUnusable
		if errors.Is(d, xds.ErrMissingGRPCTLSPort) || errors.Is(d, peering.ErrBadPort) {
			id = idServerNoGRPCTLSPort
		}
		return newFinding(id, label, d.Input,
			fmt.Sprintf("%s cannot be reached by peers through the mesh gateways: %v", d.Input, d.Err),
			"the gateways forward peers' connections to the servers' grpc_tls_port at their LAN IP address; this server is left out",
			"enable the servers' gRPC TLS port (ports { grpc_tls = 8503 } in the server agents' configuration) and give them IP addresses"), true
	case d.Part == xds.PartPeerings:
		subject := ""
		if ie, ok := errors.AsType[*peering.InputError](d.Err); ok {
			subject = ie.Peering
		}
		return newFinding(idPeeringAddressSkipped, label, subject,
			fmt.Sprintf("a peer address cannot be used: %v", d.Err),
			"the gateways route to the peer only through the addresses they can use; a peering left without one gets no route",
			"check the addresses the peer sends (peergw token inspect on its token, peergw doctor -peer-addr) and the peering's ServerExternalAddresses"), true
	}
	return finding{}, false
}

// checkServerSet checks that peers can reach some server at all.
func checkServerSet(cl *cluster, res *xds.Resources) []finding {
	if len(cl.Servers) == 0 {
		return nil // not readable: reported as a token finding
	}
	voters := 0
	for _, s := range cl.Servers {
		if peering.IsVoter(s) {
			voters++
		}
	}
	why := "peers reach this cluster's servers through its mesh gateways at the voting servers' grpc_tls_port; " +
		"with none usable, every peering this cluster accepts fails to connect"
	switch {
	case voters == 0:
		return []finding{newFinding(idServersOnlyReadReplicas, cl.Label, "",
			fmt.Sprintf("all %s of %s are read replicas", plural(len(cl.Servers), "server", "servers"), dcName(cl)), why,
			"peering traffic goes only to voting servers: check the servers' read_replica setting")}
	case cl.serverName() != "" && endpointCount(res, cl.serverName()) == 0:
		return []finding{newFinding(idServersNoneUsable, cl.Label, "",
			fmt.Sprintf("none of the %s of %s can be reached by peers", plural(voters, "voting server", "voting servers"), dcName(cl)), why,
			"enable the servers' gRPC TLS port (ports { grpc_tls = 8503 }) so that they publish grpc_tls_port")}
	}
	return nil
}

// endpointCount counts the endpoints of cluster name in res.
func endpointCount(res *xds.Resources, name string) int {
	n := 0
	for _, cla := range res.Endpoints {
		if cla.GetClusterName() == name {
			for _, l := range cla.GetEndpoints() {
				n += len(l.GetLbEndpoints())
			}
		}
	}
	return n
}

func checkToken(cl *cluster) []finding {
	var out []finding
	for _, pe := range cl.Denied {
		switch {
		case pe.Resource == peering.ResourcePeerings:
			out = append(out, newFinding(idTokenPeeringRead, cl.Label, "",
				"the token may not list the peerings (Consul answered 403): it lacks peering:read",
				"a mesh gateway lists every peering to build its routes: with this token its Envoy gets no route to "+
					"any peer, and doctor cannot check the peerings", fixACL))
		case pe.Rule == "":
			out = append(out, newFinding(idTokenPermission, cl.Label, pe.Resource,
				"Consul does not know the token (ACL not found)", "every read is refused", "use a valid token"))
		default:
			out = append(out, newFinding(idTokenPermission, cl.Label, pe.Resource,
				fmt.Sprintf("the token may not read %s: it needs %s", pe.Resource, pe.Rule),
				"a gateway reads it to build its configuration, and doctor cannot check it", fixACL))
		}
	}
	if cl.Policy != nil && !cl.Policy.Sufficient() {
		missing := make([]string, len(cl.Policy.Missing))
		for i, g := range cl.Policy.Missing {
			missing[i] = g.String()
		}
		out = append(out, newFinding(idTokenPolicyInsufficient, cl.Label, "",
			fmt.Sprintf("the token's policies, checked for %s, lack: %s", cl.Policy.Edition, strings.Join(missing, "; ")),
			"a mesh gateway that routes peering traffic needs these grants (Consul's mesh gateway token recipe)", fixACL))
	}
	return out
}

func checkPeerings(cl *cluster) []finding {
	var out []finding
	for _, p := range cl.Peerings {
		if p.DeletedAt != nil || p.State == api.PeeringStateActive {
			continue
		}
		id, why, fix := idPeeringNotActive, "the peering stream is not up: no data is exchanged with this peer",
			"check both clusters with peergw doctor -peer-addr, the gateways' Envoy configuration (peergw xds) and the servers' logs"
		switch p.State {
		case api.PeeringStatePending:
			id, why, fix = idPeeringPending, "a token was generated but no cluster has established with it yet",
				"establish it on the dialing cluster (consul peering establish -name NAME -peering-token TOKEN), or delete it"
		case api.PeeringStateEstablishing:
			id, why, fix = idPeeringPending, "the dialing cluster is connecting for the first time", "wait a few seconds; if it stays, check as for a failing peering"
		case api.PeeringStateTerminated:
			why, fix = "the peer deleted its side of the peering", "delete it here too, or generate a new token and establish again"
		}
		out = append(out, newFinding(id, cl.Label, p.Key(),
			fmt.Sprintf("peering %q is %s; %s", p.Name, p.State, roleText(p)), why, fix))
	}
	return out
}

func roleText(p peering.Peering) string {
	if !p.Dialing() {
		return "this cluster accepted it, so the dialing cluster holds the addresses"
	}
	return "this cluster dials " + strings.Join(p.Addresses(), ", ")
}

// checkPair checks the peerings between the two clusters: each one's dialing peering
// toward the other must dial the other's mesh gateways.
func checkPair(a, b *cluster) []finding {
	if a.serverName() == "" || b.serverName() == "" || deniedPeerings(a) || deniedPeerings(b) {
		return nil // cannot tell
	}
	var out []finding
	linked := false
	for _, pair := range [][2]*cluster{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		_, dialing := peeringRoles(from.Peerings)
		for _, p := range dialing {
			if p.PeerServerName != to.serverName() {
				continue
			}
			linked = true
			if f, ok := notGateways(from, to, p); ok {
				out = append(out, f)
			}
		}
	}
	if !linked {
		out = append(out, newFinding(idPeerNotPeered, clusterLocal, dcName(b),
			fmt.Sprintf("no established peering connects %s and %s", dcName(a), dcName(b)),
			"the checks across the two clusters need a peering established between them",
			"generate a token on the accepting cluster and establish with it on the dialing one, or check -peer-addr"))
	}
	return out
}

func deniedPeerings(cl *cluster) bool {
	return slices.ContainsFunc(cl.Denied, func(pe *peering.PermissionError) bool { return pe.Resource == peering.ResourcePeerings })
}

// notGateways reports dialing peering p of from when its addresses are not to's mesh
// gateways.
func notGateways(from, to *cluster, p peering.Peering) (finding, bool) {
	cs := classify(p.Addresses(), to.Gateways, serverAddresses(to.Servers))
	v := verdict(cs)
	if v == "gateways" {
		return finding{}, false
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s (%s %s)", c.Address, c.Kind, c.Owner)
	}
	why := fmt.Sprintf("%s gives its peers its mesh gateways' WAN addresses only while PeerThroughMeshGateways is set there; "+
		"these addresses go around its mesh gateways", dcName(to))
	if v != "servers" {
		why = fmt.Sprintf("some addresses are neither %s's mesh gateways nor its servers (manual ServerExternalAddresses, "+
			"a load balancer?): the peering may not go through the gateways", dcName(to))
	}
	return newFinding(idPeeringNotGateways, from.Label, p.Key(),
		fmt.Sprintf("peering %q dials %s: %s", p.Name, dcName(to), strings.Join(parts, ", ")), why,
		fmt.Sprintf("set PeerThroughMeshGateways on %s (%s): an established peering moves to its gateways within seconds; "+
			"a token not yet used must be generated again", dcName(to), fixMesh)), true
}
