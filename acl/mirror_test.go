package acl_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl"

	"github.com/peeringgw/peeringgw/acl"
)

// This file decodes policy text the way Consul 1.14.8 does, with the plain HCL 1
// decoder (hcl.Decode) into structs shaped like Consul's, and then checks the values as
// Consul's validation does. The structs are written from Consul's acl/policy.go
// (PolicyRules and the rule structs: a `hcl:",key"` label and Policy, plus Intentions
// for services); the Enterprise ones follow the partition and namespace rules of
// Consul's documentation. The parser under test must agree with them.

// mirrorRule is Consul's AgentRule, KeyRule, NodeRule, SessionRule, EventRule and
// PreparedQueryRule.
type mirrorRule struct {
	Name   string `hcl:",key"`
	Policy string
}

// mirrorServiceRule is Consul's ServiceRule.
type mirrorServiceRule struct {
	Name       string `hcl:",key"`
	Policy     string
	Intentions string
}

// mirrorRules is Consul's PolicyRules.
type mirrorRules struct {
	ACL                   string               `hcl:"acl"`
	Agents                []*mirrorRule        `hcl:"agent"`
	AgentPrefixes         []*mirrorRule        `hcl:"agent_prefix"`
	Keys                  []*mirrorRule        `hcl:"key"`
	KeyPrefixes           []*mirrorRule        `hcl:"key_prefix"`
	Nodes                 []*mirrorRule        `hcl:"node"`
	NodePrefixes          []*mirrorRule        `hcl:"node_prefix"`
	Services              []*mirrorServiceRule `hcl:"service"`
	ServicePrefixes       []*mirrorServiceRule `hcl:"service_prefix"`
	Sessions              []*mirrorRule        `hcl:"session"`
	SessionPrefixes       []*mirrorRule        `hcl:"session_prefix"`
	Events                []*mirrorRule        `hcl:"event"`
	EventPrefixes         []*mirrorRule        `hcl:"event_prefix"`
	PreparedQueries       []*mirrorRule        `hcl:"query"`
	PreparedQueryPrefixes []*mirrorRule        `hcl:"query_prefix"`
	Keyring               string               `hcl:"keyring"`
	Operator              string               `hcl:"operator"`
	Mesh                  string               `hcl:"mesh"`
	Peering               string               `hcl:"peering"`
}

// mirrorCE is Consul CE's Policy.
type mirrorCE struct {
	mirrorRules `hcl:",squash"`
}

// mirrorNamespace is a namespace or namespace_prefix block of Consul Enterprise.
type mirrorNamespace struct {
	Name        string `hcl:",key"`
	Policy      string
	mirrorRules `hcl:",squash"`
}

// mirrorPartition is a partition or partition_prefix block of Consul Enterprise.
type mirrorPartition struct {
	Name              string `hcl:",key"`
	mirrorRules       `hcl:",squash"`
	Namespaces        []*mirrorNamespace `hcl:"namespace"`
	NamespacePrefixes []*mirrorNamespace `hcl:"namespace_prefix"`
}

// mirrorEnterprise is Consul Enterprise's Policy as its documentation describes it.
type mirrorEnterprise struct {
	mirrorRules       `hcl:",squash"`
	Namespaces        []*mirrorNamespace `hcl:"namespace"`
	NamespacePrefixes []*mirrorNamespace `hcl:"namespace_prefix"`
	Partitions        []*mirrorPartition `hcl:"partition"`
	PartitionPrefixes []*mirrorPartition `hcl:"partition_prefix"`
}

// hclDecode is hcl.Decode, with a panic (HCL 1 panics on a few inputs) as an error.
func hclDecode(out any, src []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hcl.Decode panicked: %v", r)
		}
	}()
	return hcl.Decode(out, string(src))
}

// errInvalid is a value Consul's validation rejects.
var errInvalid = errors.New("invalid")

// mirrorAccess checks an access level as Consul's isPolicyValid does, allowing the empty
// level when optional, and returns it lower-cased.
func mirrorAccess(s string, allowList, optional bool) (acl.Access, error) {
	if s == "" && optional {
		return acl.AccessUnset, nil
	}
	switch l := strings.ToLower(s); l {
	case "deny", "read", "write":
		return acl.Access(l), nil
	case "list":
		if allowList {
			return acl.AccessList, nil
		}
	}
	return acl.AccessUnset, fmt.Errorf("%w access level %q", errInvalid, s)
}

// convert validates m as Consul does and returns it as acl.Rules, in the order the
// parser returns rules (by name, equal names in decoding order). inNamespace rejects
// the partition-level rules.
func (m *mirrorRules) convert(inNamespace bool) (acl.Rules, error) {
	var r acl.Rules
	var errs []error
	value := func(dst *acl.Access, s string, partitionLevel bool) {
		a, err := mirrorAccess(s, false, true)
		if err == nil && inNamespace && partitionLevel && a != acl.AccessUnset {
			err = fmt.Errorf("%w: partition-level rule in a namespace", errInvalid)
		}
		errs = append(errs, err)
		*dst = a
	}
	value(&r.ACL, m.ACL, false)
	value(&r.Keyring, m.Keyring, false)
	value(&r.Mesh, m.Mesh, true)
	value(&r.Operator, m.Operator, false)
	value(&r.Peering, m.Peering, true)
	named := func(dst *[]acl.Rule, src []*mirrorRule, allowList bool) {
		for _, e := range src {
			a, err := mirrorAccess(e.Policy, allowList, false)
			errs = append(errs, err)
			*dst = append(*dst, acl.Rule{Name: e.Name, Policy: a})
		}
		slices.SortStableFunc(*dst, func(a, b acl.Rule) int { return strings.Compare(a.Name, b.Name) })
	}
	services := func(dst *[]acl.ServiceRule, src []*mirrorServiceRule) {
		for _, e := range src {
			a, err := mirrorAccess(e.Policy, false, false)
			errs = append(errs, err)
			in, err := mirrorAccess(e.Intentions, false, true)
			errs = append(errs, err)
			*dst = append(*dst, acl.ServiceRule{Name: e.Name, Policy: a, Intentions: in})
		}
		slices.SortStableFunc(*dst, func(a, b acl.ServiceRule) int { return strings.Compare(a.Name, b.Name) })
	}
	named(&r.Agents, m.Agents, false)
	named(&r.AgentPrefixes, m.AgentPrefixes, false)
	named(&r.Events, m.Events, false)
	named(&r.EventPrefixes, m.EventPrefixes, false)
	named(&r.Keys, m.Keys, true)
	named(&r.KeyPrefixes, m.KeyPrefixes, true)
	named(&r.Nodes, m.Nodes, false)
	named(&r.NodePrefixes, m.NodePrefixes, false)
	named(&r.Queries, m.PreparedQueries, false)
	named(&r.QueryPrefixes, m.PreparedQueryPrefixes, false)
	services(&r.Services, m.Services)
	services(&r.ServicePrefixes, m.ServicePrefixes)
	named(&r.Sessions, m.Sessions, false)
	named(&r.SessionPrefixes, m.SessionPrefixes, false)
	return r, errors.Join(errs...)
}

// consulCE reads src as Consul CE 1.14.8 does: the rules it grants, or an error if it
// refuses the policy.
func consulCE(src []byte) (acl.Rules, error) {
	var m mirrorCE
	if err := hclDecode(&m, src); err != nil {
		return acl.Rules{}, err
	}
	return m.convert(false)
}

// consulEnterprise reads src as Consul Enterprise would with the documented structure:
// the whole policy, or an error.
func consulEnterprise(src []byte) (*acl.Policy, error) {
	var m mirrorEnterprise
	if err := hclDecode(&m, src); err != nil {
		return nil, err
	}
	p := &acl.Policy{}
	var errs []error
	var err error
	p.Rules, err = m.convert(false)
	errs = append(errs, err)
	namespaces := func(src []*mirrorNamespace) []acl.NamespaceRules {
		var out []acl.NamespaceRules
		for _, ns := range src {
			a, err := mirrorAccess(ns.Policy, false, true)
			errs = append(errs, err)
			r, err := ns.convert(true)
			errs = append(errs, err)
			out = append(out, acl.NamespaceRules{Name: ns.Name, Policy: a, Rules: r})
		}
		slices.SortStableFunc(out, func(a, b acl.NamespaceRules) int { return strings.Compare(a.Name, b.Name) })
		return out
	}
	partitions := func(src []*mirrorPartition) []acl.PartitionRules {
		var out []acl.PartitionRules
		for _, part := range src {
			r, err := part.convert(false)
			errs = append(errs, err)
			out = append(out, acl.PartitionRules{Name: part.Name, Rules: r, Namespaces: namespaces(part.Namespaces), NamespacePrefixes: namespaces(part.NamespacePrefixes)})
		}
		slices.SortStableFunc(out, func(a, b acl.PartitionRules) int { return strings.Compare(a.Name, b.Name) })
		return out
	}
	p.Namespaces = namespaces(m.Namespaces)
	p.NamespacePrefixes = namespaces(m.NamespacePrefixes)
	p.Partitions = partitions(m.Partitions)
	p.PartitionPrefixes = partitions(m.PartitionPrefixes)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// plainEnterpriseReading reports whether HCL 1's decoder reads the partition and
// namespace blocks of src as written, so that consulEnterprise is the reference for
// them: src is HCL, not JSON, whose objects that hold only objects HCL 1 flattens into
// items its decoder cuts short (Parse reads them as nested blocks).
func plainEnterpriseReading(src []byte) bool {
	return !isJSONText(src)
}

// isJSONText reports whether HCL 1 reads src as JSON.
func isJSONText(src []byte) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(string(src), unicode.IsSpace), "{")
}

// enterpriseOnly reports whether every error in err is inside a partition or namespace
// block, which Consul CE ignores.
func enterpriseOnly(err error) bool {
	var all []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		all = joined.Unwrap()
	} else {
		all = []error{err}
	}
	for _, e := range all {
		var pe *acl.ParseError
		if !errors.As(e, &pe) {
			return false
		}
		if !strings.HasPrefix(pe.Rule, "partition") && !strings.HasPrefix(pe.Rule, "namespace") {
			return false
		}
	}
	return true
}

// checkAgainstConsul parses src with acl.Parse and with the mirrors, and fails t where
// they disagree:
//
//   - Parse accepts src only if Consul CE does, with the same top-level rules;
//   - Parse rejects src that Consul CE accepts only for a mistake inside a partition or
//     namespace block (which Consul CE ignores);
//   - where HCL 1 reads the Enterprise blocks as written (plainEnterpriseReading), Parse
//     accepts src exactly when the Enterprise mirror does, with the same policy.
//
// It returns the parsed policy, nil if Parse rejected src.
func checkAgainstConsul(t testing.TB, src []byte) *acl.Policy {
	t.Helper()
	got, err := acl.Parse(src, "policy")
	ce, ceErr := consulCE(src)
	switch {
	case err == nil && ceErr != nil:
		t.Fatalf("Parse accepted a policy Consul CE refuses (%v):\n%s", ceErr, src)
	case err != nil && ceErr == nil && !enterpriseOnly(err):
		t.Fatalf("Parse refused a policy Consul CE accepts: %v\n%s", err, src)
	case err == nil:
		if diff := cmp.Diff(ce, got.Rules); diff != "" {
			t.Fatalf("Parse and Consul CE read different rules (-consul +parse):\n%s\n%s", diff, src)
		}
	}
	if !plainEnterpriseReading(src) {
		return got
	}
	ent, entErr := consulEnterprise(src)
	switch {
	case err == nil && entErr != nil:
		t.Fatalf("Parse accepted a policy the Enterprise reading refuses (%v):\n%s", entErr, src)
	case err != nil && entErr == nil:
		t.Fatalf("Parse refused a policy the Enterprise reading accepts: %v\n%s", err, src)
	case err == nil:
		if diff := cmp.Diff(ent, got); diff != "" {
			t.Fatalf("Parse and the Enterprise reading differ (-enterprise +parse):\n%s\n%s", diff, src)
		}
	}
	return got
}
