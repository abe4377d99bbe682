package acl

import (
	"cmp"
	"fmt"
	"slices"
)

// Reasons a rule grants more than a peering mesh gateway needs.
const (
	reasonWrite        = "write where read is enough"
	reasonOutside      = "grants access outside partition default, where the gateway runs"
	reasonServiceWrite = "service:write beyond the gateway's own service"
	reasonAgent        = "agent:read is only needed when consul connect envoy discovers the agent's gRPC settings"
	reasonOperator     = "operator grants cluster-wide operations; mesh = \"write\" and peering = \"read\" are enough"
	reasonNamespace    = "manages namespaces, which the gateway never does"
	reasonIntentions   = "manages intentions, which the gateway never does"
)

// excess lists the rules in the scopes that grant more than the gateway needs.
func excess(sc []scope, o options) []Excess {
	sc = slices.Clone(sc)
	slices.SortStableFunc(sc, func(a, b scope) int { return cmp.Compare(a.path, b.path) })
	var out []Excess
	add := func(path string, a Access, reason string) {
		if reason != "" && a != AccessDeny && a != AccessUnset {
			out = append(out, Excess{Rule: path, Access: a, Reason: reason})
		}
	}
	for _, s := range sc {
		add(rulePath(s.path, kwPolicy), s.nsPolicy, reasonNamespace)
		for _, vk := range valueKinds {
			a := *vk.field(s.rules)
			add(rulePath(s.path, vk.keyword), a, valueExcess(s, vk.resource, a))
		}
		for _, nk := range namedKinds {
			for _, rule := range nk.rules(s.rules) {
				add(rulePath(rulePath(s.path, nk.keyword, rule.Name), kwPolicy), rule.Policy, namedExcess(s, nk, rule.Name, rule.Policy, o))
			}
			if nk.service == nil {
				continue
			}
			for _, rule := range *nk.service(s.rules) {
				if rule.Intentions == AccessWrite {
					add(rulePath(rulePath(s.path, nk.keyword, rule.Name), kwIntentions), rule.Intentions, reasonIntentions)
				}
			}
		}
	}
	return out
}

func (s scope) inDefaultPartition() bool { return s.partition == matcher{name: defaultPartition} }
func (s scope) inDefaultNamespace() bool { return s.namespace == matcher{name: defaultNamespace} }

// valueExcess returns why a single-value rule is more than needed, or "".
func valueExcess(s scope, res Resource, a Access) string {
	switch res {
	case ResourceMesh:
		if !s.inDefaultPartition() {
			return reasonOutside
		}
		return ""
	case ResourcePeering:
		if a == AccessWrite {
			return reasonWrite
		}
		return ""
	case ResourceOperator:
		return reasonOperator
	}
	return needsNone(res)
}

// namedExcess returns why a named rule is more than needed, or "".
func namedExcess(s scope, nk namedKind, name string, a Access, o options) string {
	switch nk.resource {
	case ResourceService:
		if a == AccessWrite && (nk.prefix || name != o.gatewayName || !s.inDefaultPartition() || !s.inDefaultNamespace()) {
			return reasonServiceWrite
		}
	case ResourceNode:
		if a == AccessWrite {
			return reasonWrite
		}
	case ResourceAgent:
		if a == AccessWrite {
			return reasonWrite
		}
		if !o.agentRead {
			return reasonAgent
		}
	default:
		return needsNone(nk.resource)
	}
	if !s.inDefaultPartition() {
		return reasonOutside
	}
	return ""
}

func needsNone(res Resource) string {
	return fmt.Sprintf("a peering gateway needs no %s access", res)
}
