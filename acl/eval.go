package acl

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// This file resolves what a policy grants, following Consul's rule matching:
//
//   - for a name, an exact rule beats every prefix rule and a longer prefix beats a
//     shorter one (acl/policy_authorizer.go getPolicy);
//   - several rules with the same keyword and name merge, deny beating write beating
//     list beating read (acl/policy_merger.go takesPrecedenceOver);
//   - mesh and peering fall back to operator when they are unset;
//   - no rule means the default policy decides, taken to be deny (the setting Consul
//     recommends with ACLs enabled), so only a rule can grant.
//
// Consul Enterprise scopes rules by partition and namespace. Its source is not public;
// this package applies the same matching one level up: top-level rules apply to the
// default partition and namespace (where the policy is created), a partition or
// namespace block to the partitions or namespaces it matches, the most specific
// matching block that has a rule for the resource decides, and equally specific blocks
// merge as duplicates do.

// segment stands for a set of names. With exact set it is the one name; otherwise it
// is every name that starts with name, is not the name of an exact rule and does not
// start with a longer prefix of any rule. Checking "every name" means checking the
// segments of every rule plus the empty prefix segment.
type segment struct {
	name  string
	exact bool
}

// matcher is the name or prefix of a block or rule.
type matcher struct {
	name   string
	prefix bool
}

func (m matcher) matches(s segment) bool {
	if m.prefix {
		return strings.HasPrefix(s.name, m.name)
	}
	return s.exact && s.name == m.name
}

func (m matcher) specificity() int {
	if m.prefix {
		return len(m.name)
	}
	return math.MaxInt
}

func (m matcher) segment() segment { return segment{name: m.name, exact: !m.prefix} }

// scope is one block of rules and where it applies.
type scope struct {
	path      string
	partition matcher
	namespace matcher
	nsPolicy  Access
	rules     *Rules
}

var defaultSegment = segment{name: defaultPartition, exact: true}

// scopes returns the blocks of p that the edition reads, most specific first.
func scopes(p *Policy, enterprise bool) []scope {
	def := matcher{name: defaultPartition}
	out := []scope{{partition: def, namespace: def, rules: &p.Rules}}
	if !enterprise {
		return out
	}
	out = append(out, namespaceScopes("", def, p.Namespaces, p.NamespacePrefixes)...)
	for kw, parts := range map[string][]PartitionRules{kwPartition: p.Partitions, kwPartitionPrefix: p.PartitionPrefixes} {
		for i := range parts {
			pr := &parts[i]
			pm := matcher{name: pr.Name, prefix: kw == kwPartitionPrefix}
			path := rulePath("", kw, pr.Name)
			out = append(out, scope{path: path, partition: pm, namespace: def, rules: &pr.Rules})
			out = append(out, namespaceScopes(path, pm, pr.Namespaces, pr.NamespacePrefixes)...)
		}
	}
	slices.SortStableFunc(out, func(a, b scope) int {
		return cmp.Or(
			cmp.Compare(b.partition.specificity(), a.partition.specificity()),
			cmp.Compare(b.namespace.specificity(), a.namespace.specificity()),
			cmp.Compare(a.path, b.path),
		)
	})
	return out
}

func namespaceScopes(parent string, pm matcher, exact, prefixes []NamespaceRules) []scope {
	var out []scope
	for i := range exact {
		ns := &exact[i]
		out = append(out, scope{path: rulePath(parent, kwNamespace, ns.Name), partition: pm, namespace: matcher{name: ns.Name}, nsPolicy: ns.Policy, rules: &ns.Rules})
	}
	for i := range prefixes {
		ns := &prefixes[i]
		out = append(out, scope{path: rulePath(parent, kwNamespacePrefix, ns.Name), partition: pm, namespace: matcher{name: ns.Name, prefix: true}, nsPolicy: ns.Policy, rules: &ns.Rules})
	}
	return out
}

// lookup returns what one block's rules decide for a resource.
type lookup func(*Rules) (Access, bool)

// resolve returns the decision of the most specific scope, among those matching the
// partition and namespace, that has a rule; equally specific scopes merge.
func resolve(scopes []scope, part, ns segment, look lookup) (Access, bool) {
	var (
		found    bool
		acc      Access
		foundKey [2]int
	)
	for _, s := range scopes {
		if !s.partition.matches(part) || !s.namespace.matches(ns) {
			continue
		}
		key := [2]int{s.partition.specificity(), s.namespace.specificity()}
		if found && key != foundKey {
			break
		}
		if a, ok := look(s.rules); ok {
			found, foundKey, acc = true, key, merge(acc, a)
		}
	}
	return acc, found
}

// valueLookup looks up a single-value rule.
func valueLookup(field func(*Rules) *Access) lookup {
	return func(r *Rules) (Access, bool) {
		a := *field(r)
		return a, a != AccessUnset
	}
}

// resolveWithFallback resolves a single-value rule and, when no scope sets it, the
// operator rule, as Consul does for mesh and peering.
func resolveWithFallback(scopes []scope, part segment, field func(*Rules) *Access) Access {
	def := segment{name: defaultNamespace, exact: true}
	if a, ok := resolve(scopes, part, def, valueLookup(field)); ok {
		return a
	}
	a, _ := resolve(scopes, part, def, valueLookup(func(r *Rules) *Access { return &r.Operator }))
	return a
}

// namedLookup looks up the rule of resource res deciding for name.
func namedLookup(res Resource, name segment) lookup {
	return func(r *Rules) (Access, bool) {
		exact, prefixes := namedRules(r, res)
		var acc Access
		found := false
		if name.exact {
			for _, rule := range exact {
				if rule.Name == name.name {
					acc, found = merge(acc, rule.Policy), true
				}
			}
			if found {
				return acc, true
			}
		}
		best := -1
		for _, rule := range prefixes {
			if !strings.HasPrefix(name.name, rule.Name) || len(rule.Name) < best {
				continue
			}
			if len(rule.Name) > best {
				best, acc = len(rule.Name), AccessUnset
			}
			acc = merge(acc, rule.Policy)
		}
		return acc, best >= 0
	}
}

// namedRules returns the exact and prefix rules of resource res, services as plain
// rules.
func namedRules(r *Rules, res Resource) (exact, prefixes []Rule) {
	for _, nk := range namedKinds {
		if nk.resource != res {
			continue
		}
		rules := nk.rules(r)
		if nk.prefix {
			prefixes = rules
		} else {
			exact = rules
		}
	}
	return exact, prefixes
}

// rules returns the rules of kind nk in r; service rules lose their intentions.
func (nk namedKind) rules(r *Rules) []Rule {
	if nk.plain != nil {
		return *nk.plain(r)
	}
	var out []Rule
	for _, s := range *nk.service(r) {
		out = append(out, Rule{Name: s.Name, Policy: s.Policy})
	}
	return out
}

// segments returns the segments that cover every name, given the matchers of every
// rule or block that can apply, plus extra names that must be checked.
func segments(ms []matcher, extra ...segment) []segment {
	out := append([]segment{{name: "", exact: false}}, extra...)
	for _, m := range ms {
		out = append(out, m.segment())
	}
	slices.SortFunc(out, func(a, b segment) int {
		return cmp.Or(strings.Compare(a.name, b.name), compareBool(a.exact, b.exact))
	})
	return slices.Compact(out)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// ruleMatchers returns the names of every rule of resource res in the scopes.
func ruleMatchers(scopes []scope, res Resource) []matcher {
	var ms []matcher
	for _, s := range scopes {
		exact, prefixes := namedRules(s.rules, res)
		for _, r := range exact {
			ms = append(ms, matcher{name: r.Name})
		}
		for _, r := range prefixes {
			ms = append(ms, matcher{name: r.Name, prefix: true})
		}
	}
	return ms
}

// allGranted reports whether every name of res is granted need in the partition and
// namespace.
func allGranted(scopes []scope, part, ns segment, res Resource, need Access) bool {
	for _, name := range segments(ruleMatchers(scopes, res)) {
		if a, _ := resolve(scopes, part, ns, namedLookup(res, name)); !a.Grants(need) {
			return false
		}
	}
	return true
}
