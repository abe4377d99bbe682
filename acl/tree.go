package acl

import (
	"cmp"
	"slices"
)

// itemKind tells what an item is.
type itemKind int

const (
	// itemString is an attribute with a string value.
	itemString itemKind = iota
	// itemBlock is a block with labels and a body.
	itemBlock
)

// item is one attribute or block of policy text, independent of HCL or JSON: both
// renderers write the same items.
type item struct {
	kind   itemKind
	name   string
	labels []string
	value  string
	body   []item
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
