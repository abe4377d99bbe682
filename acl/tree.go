package acl

import (
	"cmp"
	"fmt"
	"slices"
)

// itemKind tells what an item is.
type itemKind int

const (
	// itemString is an attribute with a string value.
	itemString itemKind = iota
	// itemOther is an attribute or block body of a shape no rule has (a number, a list
	// of strings, a label whose body is not an object, ...).
	itemOther
	// itemBlock is a block with labels and a body.
	itemBlock
)

// item is one attribute or block of policy text, independent of HCL or JSON. The
// renderers write items and the parsers read them, so both syntaxes share one grammar.
type item struct {
	kind   itemKind
	name   string
	labels []string
	value  string
	body   []item
	line   int
}

// keywordOrder is the rendering order of attributes and then of block keywords.
var keywordOrder = func() map[string]int {
	order := []string{kwPolicy, kwIntentions}
	for _, vk := range valueKinds {
		order = append(order, vk.keyword)
	}
	for _, nk := range namedKinds {
		order = append(order, nk.keyword)
	}
	order = append(order, kwNamespace, kwNamespacePrefix, kwPartition, kwPartitionPrefix)
	m := make(map[string]int, len(order))
	for i, k := range order {
		m[k] = i
	}
	return m
}()

// sortItems sorts items and their bodies: attributes before blocks, then by keyword
// order (unknown keywords last, by name), then by label. The sort is stable.
func sortItems(items []item) {
	rank := func(it item) int {
		if r, ok := keywordOrder[it.name]; ok {
			return r
		}
		return len(keywordOrder)
	}
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(
			cmp.Compare(a.kind, b.kind),
			cmp.Compare(rank(a), rank(b)),
			cmp.Compare(a.name, b.name),
			slices.Compare(a.labels, b.labels),
		)
	})
	for i := range items {
		sortItems(items[i].body)
	}
}

// encodePolicy converts p to sorted items.
func encodePolicy(p *Policy) []item {
	items := encodeRules(&p.Rules)
	items = append(items, encodeNamespaces(p.Namespaces, p.NamespacePrefixes)...)
	for _, part := range p.Partitions {
		items = append(items, block(kwPartition, part.Name, encodePartition(&part)))
	}
	for _, part := range p.PartitionPrefixes {
		items = append(items, block(kwPartitionPrefix, part.Name, encodePartition(&part)))
	}
	sortItems(items)
	return items
}

func encodePartition(pr *PartitionRules) []item {
	return append(encodeRules(&pr.Rules), encodeNamespaces(pr.Namespaces, pr.NamespacePrefixes)...)
}

func encodeNamespaces(exact, prefixes []NamespaceRules) []item {
	var items []item
	for _, ns := range exact {
		items = append(items, block(kwNamespace, ns.Name, encodeNamespace(&ns)))
	}
	for _, ns := range prefixes {
		items = append(items, block(kwNamespacePrefix, ns.Name, encodeNamespace(&ns)))
	}
	return items
}

func encodeNamespace(ns *NamespaceRules) []item {
	var items []item
	if ns.Policy != AccessUnset {
		items = append(items, attr(kwPolicy, ns.Policy))
	}
	return append(items, encodeRules(&ns.Rules)...)
}

func encodeRules(r *Rules) []item {
	var items []item
	for _, vk := range valueKinds {
		if a := *vk.field(r); a != AccessUnset {
			items = append(items, attr(vk.keyword, a))
		}
	}
	for _, nk := range namedKinds {
		if nk.plain != nil {
			for _, rule := range *nk.plain(r) {
				items = append(items, block(nk.keyword, rule.Name, []item{attr(kwPolicy, rule.Policy)}))
			}
			continue
		}
		for _, rule := range *nk.service(r) {
			body := []item{attr(kwPolicy, rule.Policy)}
			if rule.Intentions != AccessUnset {
				body = append(body, attr(kwIntentions, rule.Intentions))
			}
			items = append(items, block(nk.keyword, rule.Name, body))
		}
	}
	return items
}

func attr(name string, a Access) item {
	return item{kind: itemString, name: name, value: string(a)}
}

func block(name, label string, body []item) item {
	return item{kind: itemBlock, name: name, labels: []string{label}, body: body}
}

// decoder builds a Policy from items and collects every error as a *ParseError.
type decoder struct {
	filename string
	errs     []error
}

func (d *decoder) fail(it item, path string, err error) {
	d.errs = append(d.errs, &ParseError{Filename: d.filename, Line: it.line, Rule: path, Err: err})
}

// policy decodes the items of a whole policy.
func (d *decoder) policy(items []item) *Policy {
	sortItems(items)
	p := &Policy{}
	for _, it := range items {
		switch it.name {
		case kwPartition, kwPartitionPrefix:
			if label, body, ok := d.block(it, ""); ok {
				part := d.partition(label, body, rulePath("", it.name, label))
				if it.name == kwPartition {
					p.Partitions = append(p.Partitions, part)
				} else {
					p.PartitionPrefixes = append(p.PartitionPrefixes, part)
				}
			}
		case kwNamespace, kwNamespacePrefix:
			d.namespaceItem(it, "", &p.Namespaces, &p.NamespacePrefixes)
		default:
			d.rule(it, "", false, &p.Rules)
		}
	}
	return p
}

func (d *decoder) partition(name string, body []item, path string) PartitionRules {
	pr := PartitionRules{Name: name}
	for _, it := range body {
		switch it.name {
		case kwNamespace, kwNamespacePrefix:
			d.namespaceItem(it, path, &pr.Namespaces, &pr.NamespacePrefixes)
		case kwPartition, kwPartitionPrefix:
			d.fail(it, rulePath(path, it.name, it.labels...), fmt.Errorf("%w: partitions cannot be nested", ErrRuleNotAllowed))
		default:
			d.rule(it, path, false, &pr.Rules)
		}
	}
	return pr
}

func (d *decoder) namespaceItem(it item, parent string, exact, prefixes *[]NamespaceRules) {
	label, body, ok := d.block(it, parent)
	if !ok {
		return
	}
	path := rulePath(parent, it.name, label)
	ns := NamespaceRules{Name: label}
	for _, in := range body {
		switch in.name {
		case kwPolicy:
			if d.duplicate(in, path, ns.Policy) {
				continue
			}
			ns.Policy = d.access(in, path, false)
		case kwNamespace, kwNamespacePrefix, kwPartition, kwPartitionPrefix:
			d.fail(in, rulePath(path, in.name, in.labels...), fmt.Errorf("%w: %s cannot be nested in a namespace", ErrRuleNotAllowed, in.name))
		default:
			d.rule(in, path, true, &ns.Rules)
		}
	}
	if it.name == kwNamespace {
		*exact = append(*exact, ns)
	} else {
		*prefixes = append(*prefixes, ns)
	}
}

// rule decodes a single-value or named rule into r, or reports it as unknown.
func (d *decoder) rule(it item, parent string, inNamespace bool, r *Rules) {
	for _, vk := range valueKinds {
		if vk.keyword != it.name {
			continue
		}
		path := rulePath(parent, it.name)
		if inNamespace && vk.partitionLevel {
			d.fail(it, path, fmt.Errorf("%w: %s is partition-level and cannot be nested in a namespace", ErrRuleNotAllowed, it.name))
			return
		}
		field := vk.field(r)
		if d.duplicate(it, parent, *field) {
			return
		}
		*field = d.access(it, parent, false)
		return
	}
	for _, nk := range namedKinds {
		if nk.keyword == it.name {
			d.named(it, parent, nk, r)
			return
		}
	}
	d.fail(it, rulePath(parent, it.name, it.labels...), fmt.Errorf("%w %q", ErrUnknownRule, it.name))
}

// named decodes a named rule block such as service "web" { policy = "read" }.
func (d *decoder) named(it item, parent string, nk namedKind, r *Rules) {
	label, body, ok := d.block(it, parent)
	if !ok {
		return
	}
	path := rulePath(parent, it.name, label)
	var policy, intentions Access
	hasPolicy := false
	for _, in := range body {
		switch {
		case in.name == kwPolicy:
			if d.duplicate(in, path, policy) {
				continue
			}
			hasPolicy = true
			policy = d.access(in, path, nk.allowList)
		case in.name == kwIntentions && nk.service != nil:
			if d.duplicate(in, path, intentions) {
				continue
			}
			intentions = d.access(in, path, false)
		default:
			d.fail(in, rulePath(path, in.name, in.labels...), fmt.Errorf("%w %q", ErrUnknownRule, in.name))
		}
	}
	if !hasPolicy {
		d.fail(it, path, ErrMissingPolicy)
		return
	}
	if nk.plain != nil {
		*nk.plain(r) = append(*nk.plain(r), Rule{Name: label, Policy: policy})
		return
	}
	*nk.service(r) = append(*nk.service(r), ServiceRule{Name: label, Policy: policy, Intentions: intentions})
}

// block checks that it is a block with exactly one label.
func (d *decoder) block(it item, parent string) (string, []item, bool) {
	if it.kind != itemBlock || len(it.labels) != 1 {
		d.fail(it, rulePath(parent, it.name, it.labels...), fmt.Errorf("%w: want a block with one label: %s \"<name>\" { ... }", ErrRuleShape, it.name))
		return "", nil, false
	}
	return it.labels[0], it.body, true
}

// access decodes a string attribute holding an access level; it returns AccessUnset
// after reporting an error.
func (d *decoder) access(it item, parent string, allowList bool) Access {
	if it.kind != itemString {
		d.fail(it, rulePath(parent, it.name, it.labels...), fmt.Errorf("%w: want a literal string: %s = \"<access>\"", ErrRuleShape, it.name))
		return AccessUnset
	}
	a, err := parseAccess(it.value, allowList)
	if err != nil {
		d.fail(it, rulePath(parent, it.name), err)
	}
	return a
}

// duplicate reports, and returns true for, a single-value rule that is already set.
func (d *decoder) duplicate(it item, parent string, current Access) bool {
	if current == AccessUnset {
		return false
	}
	d.fail(it, rulePath(parent, it.name), fmt.Errorf("%w: %s is already set", ErrDuplicateRule, it.name))
	return true
}
