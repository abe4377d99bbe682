package acl

import (
	"fmt"
	"slices"
	"strings"
)

// Grant is one permission a peering mesh gateway needs.
type Grant struct {
	// Resource is the resource, e.g. ResourcePeering or ResourceService.
	Resource Resource
	// Name is the resource name for a named resource and a single name.
	Name string
	// All is set when every name of the resource is needed (service:read on all
	// services).
	All bool
	// Access is the level needed.
	Access Access
	// Edition is the edition whose evaluation the grant belongs to (EditionCE or
	// EditionEnterprise).
	Edition Edition
	// Scope says where the grant is needed in Consul Enterprise, e.g. "in all
	// partitions"; empty for Consul CE.
	Scope string
}

// String returns the grant in Consul's permission notation, with "*" for every name:
// "peering:read", "service:mesh-gateway:write", "service:*:read in partition default,
// all namespaces".
func (g Grant) String() string {
	s := string(g.Resource)
	switch {
	case g.All:
		s += ":*"
	case g.Name != "":
		s += ":" + g.Name
	}
	s += ":" + string(g.Access)
	if g.Scope != "" {
		s += " " + g.Scope
	}
	return s
}

// Excess is a rule that grants more than a peering mesh gateway needs.
type Excess struct {
	// Rule names the rule with its enclosing blocks, e.g. `service_prefix "" > policy`.
	Rule string
	// Access is the level the rule grants.
	Access Access
	// Reason says why it is more than needed.
	Reason string
}

// String returns `<rule> = "<access>": <reason>`.
func (x Excess) String() string {
	return fmt.Sprintf("%s = %q: %s", x.Rule, string(x.Access), x.Reason)
}

// Report is the result of Check.
type Report struct {
	// Edition is the edition the policy was checked for.
	Edition Edition
	// Gateway is the gateway service name checked for service:write.
	Gateway string
	// Missing lists the grants the gateway needs and the policy does not give, in a
	// fixed order. EditionBoth lists the CE and the Enterprise evaluation.
	Missing []Grant
	// Excess lists the rules that grant more than the gateway needs, in rule order.
	Excess []Excess
	// Ignored lists the Enterprise blocks Consul CE ignores (EditionCE only): rules in
	// them grant nothing there.
	Ignored []string
}

// Sufficient reports whether the policy grants everything the gateway needs.
func (r Report) Sufficient() bool { return len(r.Missing) == 0 }

// LeastPrivilege reports whether the policy grants what the gateway needs and no more.
func (r Report) LeastPrivilege() bool { return r.Sufficient() && len(r.Excess) == 0 }

// String describes the report for humans, one finding a line.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mesh gateway %q (%s): ", r.Gateway, r.Edition)
	switch {
	case r.LeastPrivilege():
		b.WriteString("grants what a peering gateway needs and no more")
	case r.Sufficient():
		b.WriteString("grants what a peering gateway needs, and more")
	default:
		b.WriteString("does not grant what a peering gateway needs")
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		b.WriteString("\n" + title + ":")
		for _, l := range lines {
			b.WriteString("\n  " + l)
		}
	}
	var missing []string
	for _, g := range r.Missing {
		if r.Edition == EditionBoth {
			missing = append(missing, fmt.Sprintf("%s (%s)", g, g.Edition))
			continue
		}
		missing = append(missing, g.String())
	}
	section("missing", missing)
	var excess []string
	for _, x := range r.Excess {
		excess = append(excess, x.String())
	}
	section("more than needed", excess)
	section("ignored by Consul CE", r.Ignored)
	return b.String()
}

// Check parses policy text (HCL or JSON, see Parse) and checks it for a mesh gateway
// that routes peering control-plane traffic; see (*Policy).Check.
func Check(policyText string, e Edition, opts ...Option) (Report, error) {
	p, err := Parse([]byte(policyText), "policy")
	if err != nil {
		return Report{}, err
	}
	return p.Check(e, opts...)
}

// Check reports whether p grants what a mesh gateway needs to route peering
// control-plane traffic on edition e, and which rules grant more.
//
// Needed (Consul's mesh gateway token recipe): mesh:write, peering:read, service:write
// on the gateway's own service, service:read and node:read on every name, and
// agent:read on every node unless WithAgentRead(false). Consul falls back to operator
// when mesh or peering is unset, so operator = "write" also satisfies both, and is
// reported as more than needed. For Consul Enterprise, with the gateway in the default
// partition, peering:read is needed in every partition, service:read in every
// namespace of the default partition, and the rest in the default partition.
// EditionCE ignores partition and namespace blocks, as Consul CE does; EditionBoth
// requires both evaluations to pass.
//
// A rule is more than needed when it grants a resource the gateway does not use (acl,
// keyring, operator, key, event, query, session, namespace management), write where
// read is enough (intentions included), service:write beyond the gateway's own
// service, agent:read without WithAgentRead, or, in Enterprise, access outside the
// default partition other than peering:read.
func (p *Policy) Check(e Edition, opts ...Option) (Report, error) {
	if err := e.check(); err != nil {
		return Report{}, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return Report{}, err
	}
	if err := p.Validate(); err != nil {
		return Report{}, err
	}
	r := Report{Edition: e, Gateway: o.gatewayName}
	if e.ce() {
		r.Missing = append(r.Missing, missingCE(scopes(p, false), o)...)
	}
	if e.enterprise() {
		r.Missing = append(r.Missing, missingEnterprise(scopes(p, true), o)...)
	}
	r.Excess = excess(scopes(p, e.enterprise()), o)
	if e == EditionCE {
		r.Ignored = ignoredByCE(p)
	}
	return r, nil
}

// need is one needed grant and whether the policy gives it.
type need struct {
	grant Grant
	ok    bool
}

func missing(e Edition, needs []need) []Grant {
	var out []Grant
	for _, n := range needs {
		if !n.ok {
			n.grant.Edition = e
			out = append(out, n.grant)
		}
	}
	return out
}

func missingCE(sc []scope, o options) []Grant {
	def := defaultSegment
	needs := []need{
		{Grant{Resource: ResourceMesh, Access: AccessWrite}, resolveWithFallback(sc, def, meshField).Grants(AccessWrite)},
		{Grant{Resource: ResourcePeering, Access: AccessRead}, resolveWithFallback(sc, def, peeringField).Grants(AccessRead)},
		{Grant{Resource: ResourceService, Name: o.gatewayName, Access: AccessWrite}, gatewayWrite(sc, def, o)},
		{Grant{Resource: ResourceService, All: true, Access: AccessRead}, allGranted(sc, def, def, ResourceService, AccessRead)},
		{Grant{Resource: ResourceNode, All: true, Access: AccessRead}, allGranted(sc, def, def, ResourceNode, AccessRead)},
	}
	if o.agentRead {
		needs = append(needs, need{Grant{Resource: ResourceAgent, All: true, Access: AccessRead}, allGranted(sc, def, def, ResourceAgent, AccessRead)})
	}
	return missing(EditionCE, needs)
}

func missingEnterprise(sc []scope, o options) []Grant {
	def := defaultSegment
	const inDefault = "in partition default"
	peering := true
	for _, part := range segments(blockMatchers(sc, func(s scope) matcher { return s.partition }), def) {
		peering = peering && resolveWithFallback(sc, part, peeringField).Grants(AccessRead)
	}
	services := true
	for _, ns := range segments(blockMatchers(sc, func(s scope) matcher { return s.namespace }), def) {
		services = services && allGranted(sc, def, ns, ResourceService, AccessRead)
	}
	needs := []need{
		{Grant{Resource: ResourceMesh, Access: AccessWrite, Scope: inDefault}, resolveWithFallback(sc, def, meshField).Grants(AccessWrite)},
		{Grant{Resource: ResourcePeering, Access: AccessRead, Scope: "in all partitions"}, peering},
		{Grant{Resource: ResourceService, Name: o.gatewayName, Access: AccessWrite, Scope: "in partition default, namespace default"}, gatewayWrite(sc, def, o)},
		{Grant{Resource: ResourceService, All: true, Access: AccessRead, Scope: "in partition default, all namespaces"}, services},
		{Grant{Resource: ResourceNode, All: true, Access: AccessRead, Scope: inDefault}, allGranted(sc, def, def, ResourceNode, AccessRead)},
	}
	if o.agentRead {
		needs = append(needs, need{Grant{Resource: ResourceAgent, All: true, Access: AccessRead, Scope: inDefault}, allGranted(sc, def, def, ResourceAgent, AccessRead)})
	}
	return missing(EditionEnterprise, needs)
}

func meshField(r *Rules) *Access    { return &r.Mesh }
func peeringField(r *Rules) *Access { return &r.Peering }

func gatewayWrite(sc []scope, def segment, o options) bool {
	a, _ := resolve(sc, def, def, namedLookup(ResourceService, segment{name: o.gatewayName, exact: true}))
	return a.Grants(AccessWrite)
}

// blockMatchers returns one matcher of every scope.
func blockMatchers(sc []scope, m func(scope) matcher) []matcher {
	var out []matcher
	for _, s := range sc {
		out = append(out, m(s))
	}
	return out
}

// ignoredByCE lists the Enterprise blocks of p, which Consul CE ignores.
func ignoredByCE(p *Policy) []string {
	var out []string
	for _, s := range scopes(p, true) {
		if s.path != "" && !strings.Contains(s.path, " > ") {
			out = append(out, s.path)
		}
	}
	slices.Sort(out)
	return out
}
