package acl

import (
	"errors"
	"fmt"
	"strconv"
)

// Policy is the rules of a Consul ACL policy, the text Consul keeps in a policy's Rules
// field, as typed values. The zero value is the empty policy, which grants nothing.
//
// The top-level Rules apply to the partition and namespace the policy is created in
// (default, for the policies this package builds). Namespaces and partitions are Consul
// Enterprise blocks. Consul CE 1.14.8 parses rules with HCL 1 into its CE structure and
// silently ignores every key it does not know, so it accepts policy text with partition
// and namespace blocks but ignores them: rules nested in such blocks grant nothing in CE.
//
// The order of rules means nothing to Consul. RenderHCL and RenderJSON write them sorted
// (single-value rules first, then blocks by keyword, then by name, keeping the relative
// order of rules with the same name) and the parsers return them in that order, so a
// policy built in sorted order survives a render and parse unchanged.
type Policy struct {
	Rules
	// Namespaces are namespace "<name>" blocks (Enterprise).
	Namespaces []NamespaceRules
	// NamespacePrefixes are namespace_prefix "<prefix>" blocks (Enterprise).
	NamespacePrefixes []NamespaceRules
	// Partitions are partition "<name>" blocks (Enterprise).
	Partitions []PartitionRules
	// PartitionPrefixes are partition_prefix "<prefix>" blocks (Enterprise).
	PartitionPrefixes []PartitionRules
}

// Rules is the set of rules a policy, a partition block or a namespace block holds.
// Each XxxPrefixes slice holds xxx_prefix rules, whose Name is a prefix: "" matches every
// name. For a given name an exact rule beats every prefix rule and a longer prefix beats
// a shorter one.
type Rules struct {
	// ACL is acl = "<access>": the ACL API.
	ACL Access
	// Keyring is keyring = "<access>": the gossip keyring API.
	Keyring Access
	// Mesh is mesh = "<access>": mesh-wide config entries and gateways. When unset,
	// Consul falls back to Operator.
	Mesh Access
	// Operator is operator = "<access>": cluster-level operations.
	Operator Access
	// Peering is peering = "<access>": the cluster peering API. When unset, Consul
	// falls back to Operator.
	Peering Access

	// Agents are agent rules, keyed by node name.
	Agents []Rule
	// AgentPrefixes are agent_prefix rules.
	AgentPrefixes []Rule
	// Events are event rules, keyed by user event name.
	Events []Rule
	// EventPrefixes are event_prefix rules.
	EventPrefixes []Rule
	// Keys are key rules, keyed by KV key; they also accept AccessList.
	Keys []Rule
	// KeyPrefixes are key_prefix rules; they also accept AccessList.
	KeyPrefixes []Rule
	// Nodes are node rules, keyed by node name.
	Nodes []Rule
	// NodePrefixes are node_prefix rules.
	NodePrefixes []Rule
	// Queries are query rules, keyed by prepared query name.
	Queries []Rule
	// QueryPrefixes are query_prefix rules.
	QueryPrefixes []Rule
	// Services are service rules, keyed by service name.
	Services []ServiceRule
	// ServicePrefixes are service_prefix rules.
	ServicePrefixes []ServiceRule
	// Sessions are session rules, keyed by node name.
	Sessions []Rule
	// SessionPrefixes are session_prefix rules.
	SessionPrefixes []Rule
}

// Rule is a named rule: `<keyword> "<Name>" { policy = "<Policy>" }`.
type Rule struct {
	// Name is the resource name, or the prefix for a prefix rule.
	Name string
	// Policy is the access the rule grants; required.
	Policy Access
}

// ServiceRule is a service or service_prefix rule.
type ServiceRule struct {
	// Name is the service name, or the prefix for service_prefix.
	Name string
	// Policy is the access to the service; required.
	Policy Access
	// Intentions is the access to intentions whose destination is the service. When
	// unset Consul uses read for a read or write Policy and deny otherwise.
	Intentions Access
}

// NamespaceRules is a namespace or namespace_prefix block (Consul Enterprise). It holds
// the namespaced rules (services, keys, sessions, ...) for the namespaces it matches;
// mesh and peering rules are not allowed in it.
type NamespaceRules struct {
	// Name is the namespace name, or the prefix for namespace_prefix.
	Name string
	// Policy is the access to the namespace itself (creating and editing it).
	Policy Access
	Rules
}

// PartitionRules is a partition or partition_prefix block (Consul Enterprise). Its rules
// apply in the admin partitions it matches; mesh and peering are partition-level.
type PartitionRules struct {
	// Name is the partition name, or the prefix for partition_prefix.
	Name string
	Rules
	// Namespaces are namespace blocks inside the partition.
	Namespaces []NamespaceRules
	// NamespacePrefixes are namespace_prefix blocks inside the partition.
	NamespacePrefixes []NamespaceRules
}

// valueKind is one single-value rule keyword.
type valueKind struct {
	keyword  string
	resource Resource
	// partitionLevel rules (mesh, peering) are not allowed in namespace blocks.
	partitionLevel bool
	field          func(*Rules) *Access
}

// valueKinds lists the single-value rules in rendering order.
var valueKinds = []valueKind{
	{"acl", ResourceACL, false, func(r *Rules) *Access { return &r.ACL }},
	{"keyring", ResourceKeyring, false, func(r *Rules) *Access { return &r.Keyring }},
	{"mesh", ResourceMesh, true, func(r *Rules) *Access { return &r.Mesh }},
	{"operator", ResourceOperator, false, func(r *Rules) *Access { return &r.Operator }},
	{"peering", ResourcePeering, true, func(r *Rules) *Access { return &r.Peering }},
}

// namedKind is one named-rule keyword (agent, agent_prefix, ...).
type namedKind struct {
	keyword   string
	resource  Resource
	prefix    bool
	allowList bool
	// Exactly one of plain and service is set.
	plain   func(*Rules) *[]Rule
	service func(*Rules) *[]ServiceRule
}

// namedKinds lists the named rules in rendering order: by keyword, each exact form
// before its prefix form.
var namedKinds = []namedKind{
	{keyword: "agent", resource: ResourceAgent, plain: func(r *Rules) *[]Rule { return &r.Agents }},
	{keyword: "agent_prefix", resource: ResourceAgent, prefix: true, plain: func(r *Rules) *[]Rule { return &r.AgentPrefixes }},
	{keyword: "event", resource: ResourceEvent, plain: func(r *Rules) *[]Rule { return &r.Events }},
	{keyword: "event_prefix", resource: ResourceEvent, prefix: true, plain: func(r *Rules) *[]Rule { return &r.EventPrefixes }},
	{keyword: "key", resource: ResourceKey, allowList: true, plain: func(r *Rules) *[]Rule { return &r.Keys }},
	{keyword: "key_prefix", resource: ResourceKey, prefix: true, allowList: true, plain: func(r *Rules) *[]Rule { return &r.KeyPrefixes }},
	{keyword: "node", resource: ResourceNode, plain: func(r *Rules) *[]Rule { return &r.Nodes }},
	{keyword: "node_prefix", resource: ResourceNode, prefix: true, plain: func(r *Rules) *[]Rule { return &r.NodePrefixes }},
	{keyword: "query", resource: ResourceQuery, plain: func(r *Rules) *[]Rule { return &r.Queries }},
	{keyword: "query_prefix", resource: ResourceQuery, prefix: true, plain: func(r *Rules) *[]Rule { return &r.QueryPrefixes }},
	{keyword: "service", resource: ResourceService, service: func(r *Rules) *[]ServiceRule { return &r.Services }},
	{keyword: "service_prefix", resource: ResourceService, prefix: true, service: func(r *Rules) *[]ServiceRule { return &r.ServicePrefixes }},
	{keyword: "session", resource: ResourceSession, plain: func(r *Rules) *[]Rule { return &r.Sessions }},
	{keyword: "session_prefix", resource: ResourceSession, prefix: true, plain: func(r *Rules) *[]Rule { return &r.SessionPrefixes }},
}

// Block keywords and attributes that are not rules of Rules.
const (
	kwNamespace       = "namespace"
	kwNamespacePrefix = "namespace_prefix"
	kwPartition       = "partition"
	kwPartitionPrefix = "partition_prefix"
	kwPolicy          = "policy"
	kwIntentions      = "intentions"
)

// rulePath names a rule inside its enclosing blocks, for error messages.
func rulePath(parent, keyword string, label ...string) string {
	s := keyword
	for _, l := range label {
		s += " " + strconv.Quote(l)
	}
	if parent == "" {
		return s
	}
	return parent + " > " + s
}

// Validate reports every rule Consul would reject: invalid access levels (list outside
// key rules included), named rules without a policy, and mesh or peering rules in
// namespace blocks. The errors are *ValidationError values joined with errors.Join.
func (p *Policy) Validate() error {
	var errs []error
	add := func(path string, err error) {
		if err != nil {
			errs = append(errs, &ValidationError{Field: path, Err: err})
		}
	}
	p.Rules.validate("", false, add)
	validateNamespaces("", p.Namespaces, p.NamespacePrefixes, add)
	for _, part := range p.Partitions {
		part.validate(rulePath("", kwPartition, part.Name), add)
	}
	for _, part := range p.PartitionPrefixes {
		part.validate(rulePath("", kwPartitionPrefix, part.Name), add)
	}
	return errors.Join(errs...)
}

func (pr *PartitionRules) validate(path string, add func(string, error)) {
	pr.Rules.validate(path, false, add)
	validateNamespaces(path, pr.Namespaces, pr.NamespacePrefixes, add)
}

func validateNamespaces(parent string, exact, prefixes []NamespaceRules, add func(string, error)) {
	for _, ns := range exact {
		ns.validate(rulePath(parent, kwNamespace, ns.Name), add)
	}
	for _, ns := range prefixes {
		ns.validate(rulePath(parent, kwNamespacePrefix, ns.Name), add)
	}
}

func (ns *NamespaceRules) validate(path string, add func(string, error)) {
	add(rulePath(path, kwPolicy), ns.Policy.checkOptional(false))
	ns.Rules.validate(path, true, add)
}

func (r *Rules) validate(path string, inNamespace bool, add func(string, error)) {
	for _, vk := range valueKinds {
		a := *vk.field(r)
		if inNamespace && vk.partitionLevel && a != AccessUnset {
			add(rulePath(path, vk.keyword), fmt.Errorf("%w: %s is partition-level and cannot be nested in a namespace", ErrRuleNotAllowed, vk.keyword))
			continue
		}
		add(rulePath(path, vk.keyword), a.checkOptional(false))
	}
	for _, nk := range namedKinds {
		if nk.plain != nil {
			for _, rule := range *nk.plain(r) {
				add(rulePath(rulePath(path, nk.keyword, rule.Name), kwPolicy), checkPolicy(rule.Policy, nk.allowList))
			}
			continue
		}
		for _, rule := range *nk.service(r) {
			rp := rulePath(path, nk.keyword, rule.Name)
			add(rulePath(rp, kwPolicy), checkPolicy(rule.Policy, false))
			add(rulePath(rp, kwIntentions), rule.Intentions.checkOptional(false))
		}
	}
}

// checkPolicy checks the required policy attribute of a named rule.
func checkPolicy(a Access, allowList bool) error {
	if a == AccessUnset {
		return ErrMissingPolicy
	}
	return a.check(allowList)
}
