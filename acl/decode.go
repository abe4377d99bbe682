package acl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
)

// Consul decodes policy text with HCL 1's reflection decoder (hcl.Decode) into its
// policy structs, then validates the strings it got. The decoder is lenient in ways a
// grammar does not show: keys match their field case-insensitively (strings.EqualFold),
// a key set twice keeps its last value, a rule may be written as a block (service "web"
// { ... }) or as an object (service = { web = { ... } }), a block without a label takes
// the first key of its body as its name, a block with three or more labels keeps the
// first, numbers are read as strings, and keys no field has are ignored. This file walks
// the HCL 1 syntax tree the way that decoder walks it, for the structs Consul declares,
// so that a policy reads here exactly as it reads in Consul, and notes a warning for
// everything the decoder ignores or overrides.

// hclField is a field of a struct Consul decodes a policy into: a string, or a list of
// labelled structs.
type hclField struct {
	name string
	elem *hclSchema // nil for a string field
}

// hclSchema is a struct Consul decodes a policy or a part of it into.
type hclSchema struct {
	// labelled structs keep their block's first label (a `hcl:",key"` field).
	labelled bool
	// nested structs (partition and namespace blocks) hold other blocks. In JSON, they
	// read keys after their label as blocks nested inside: HCL 1 joins the keys of JSON
	// objects that hold only objects ({"partition": {"p": {"namespace": {"n":
	// {...}}}}}) into one item, which its decoder would cut after the label.
	nested bool
	fields []hclField
}

// The structs of Consul's policy: CE's PolicyRules and rule structs, and the partition
// and namespace blocks of Consul Enterprise, as its documentation describes them.
var (
	plainRuleSchema   = &hclSchema{labelled: true, fields: []hclField{{name: kwPolicy}}}
	serviceRuleSchema = &hclSchema{labelled: true, fields: []hclField{{name: kwPolicy}, {name: kwIntentions}}}
	namespaceSchema   = &hclSchema{labelled: true, nested: true, fields: append([]hclField{{name: kwPolicy}}, ruleFields()...)}
	partitionSchema   = &hclSchema{labelled: true, nested: true, fields: append(ruleFields(),
		hclField{name: kwNamespace, elem: namespaceSchema}, hclField{name: kwNamespacePrefix, elem: namespaceSchema})}
	policySchema = &hclSchema{fields: append(ruleFields(),
		hclField{name: kwNamespace, elem: namespaceSchema}, hclField{name: kwNamespacePrefix, elem: namespaceSchema},
		hclField{name: kwPartition, elem: partitionSchema}, hclField{name: kwPartitionPrefix, elem: partitionSchema})}
)

// ruleFields are the fields of Consul's PolicyRules.
func ruleFields() []hclField {
	var fields []hclField
	for _, vk := range valueKinds {
		fields = append(fields, hclField{name: vk.keyword})
	}
	for _, nk := range namedKinds {
		elem := plainRuleSchema
		if nk.service != nil {
			elem = serviceRuleSchema
		}
		fields = append(fields, hclField{name: nk.keyword, elem: elem})
	}
	return fields
}

// hclValue is a decoded string field and the line of its key.
type hclValue struct {
	value string
	line  int
}

// hclStruct is a decoded struct: its label, the line of its label, its string fields and
// its lists, keyed by field name, in the decoder's order.
type hclStruct struct {
	name   string
	line   int
	values map[string]hclValue
	lists  map[string][]*hclStruct
}

// decoder decodes an HCL 1 syntax tree into a Policy and collects every error and
// warning as a *ParseError.
type decoder struct {
	filename string
	// json holds where the keys and string literals of a JSON policy are, which the tree
	// lacks (HCL 1's JSON parser keeps no positions); nil for HCL.
	json     map[ast.Node]jsonToken
	errs     []*ParseError
	warnings []*ParseError
}

func (d *decoder) finding(line int, rule string, err error) *ParseError {
	return &ParseError{Filename: d.filename, Line: max(line, 1), Rule: rule, Err: err}
}

func (d *decoder) fail(line int, rule string, err error) {
	d.errs = append(d.errs, d.finding(line, rule, err))
}

func (d *decoder) warn(line int, rule string, err error) {
	d.warnings = append(d.warnings, d.finding(line, rule, err))
}

// sortFindings puts errors and warnings in line order.
func (d *decoder) sortFindings() {
	sortByLine(d.errs)
	sortByLine(d.warnings)
}

func sortByLine(errs []*ParseError) {
	slices.SortStableFunc(errs, func(a, b *ParseError) int { return cmp.Compare(a.Line, b.Line) })
}

// keyLine is the line of a key.
func (d *decoder) keyLine(k *ast.ObjectKey) int {
	if t, ok := d.json[k]; ok {
		return t.pos.Line
	}
	return k.Token.Pos.Line
}

// nodeLine is the line of a value, or fallback if the tree does not know it.
func (d *decoder) nodeLine(n ast.Node, fallback int) int {
	line := 0
	switch n := n.(type) {
	case *ast.ObjectItem:
		if len(n.Keys) > 0 {
			line = d.keyLine(n.Keys[0])
		}
	case *ast.LiteralType:
		if t, ok := d.json[n]; ok {
			line = t.pos.Line
		} else {
			line = n.Token.Pos.Line
		}
	case *ast.ObjectType:
		line = n.Lbrace.Line
	case *ast.ListType:
		line = n.Lbrack.Line
	}
	if line > 0 {
		return line
	}
	return fallback
}

// tokenValue is HCL 1's value of a key or literal. HCL 1 panics on a few tokens its
// scanner accepts but it cannot unquote; Consul then fails, and so does tokenValue.
func tokenValue(t token.Token) (v any, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return t.Value(), true
}

// key returns the string value of k, reporting an error if HCL 1 cannot read it.
func (d *decoder) key(k *ast.ObjectKey, path string) (string, bool) {
	v, ok := tokenValue(k.Token)
	s, isString := v.(string)
	if !ok || !isString {
		d.fail(d.keyLine(k), path, fmt.Errorf("%w: unreadable key %s", ErrSyntax, k.Token.Text))
		return "", false
	}
	return s, true
}

// labels returns the values of keys for messages, or their text when HCL 1 cannot read
// them.
func labels(keys []*ast.ObjectKey) []string {
	var out []string
	for _, k := range keys {
		if v, ok := tokenValue(k.Token); ok {
			if s, ok := v.(string); ok {
				out = append(out, s)
				continue
			}
		}
		out = append(out, k.Token.Text)
	}
	return out
}

// match is an item whose first key names a field, and the item without that key.
type match struct {
	item, rest *ast.ObjectItem
}

// decodeStruct decodes node, an item (a labelled block) or a body, into a struct of
// schema s, as HCL 1's decodeStruct does. parent and keyword name the struct in
// messages; line is used when the tree has none. It returns nil after reporting an
// error that leaves no struct.
func (d *decoder) decodeStruct(parent, keyword string, node ast.Node, s *hclSchema, line int) *hclStruct {
	path := parent
	if keyword != "" {
		path = rulePath(parent, keyword)
	}
	var item *ast.ObjectItem
	if it, ok := node.(*ast.ObjectItem); ok {
		item, node = it, it.Val
	}
	out := &hclStruct{line: d.nodeLine(node, line), values: map[string]hclValue{}, lists: map[string][]*hclStruct{}}
	if item != nil {
		out.line = d.nodeLine(item, out.line)
	}
	if s.labelled {
		if item == nil || len(item.Keys) == 0 {
			d.fail(out.line, path, fmt.Errorf("%w: want a block with a label: %s \"<name>\" { ... }", ErrRuleShape, keyword))
			return nil
		}
		name, ok := d.key(item.Keys[0], path)
		if !ok {
			return nil
		}
		out.name, out.line = name, d.keyLine(item.Keys[0])
		path = rulePath(parent, keyword, name)
		if extra := item.Keys[1:]; len(extra) > 0 {
			if s.nested && d.json != nil {
				node = &ast.ObjectList{Items: []*ast.ObjectItem{{Keys: extra, Val: item.Val}}}
			} else {
				d.warn(d.keyLine(extra[0]), path, fmt.Errorf("%w: only the first label counts; Consul ignores %s", ErrRuleShape, quoteAll(labels(extra))))
			}
		}
	}
	if ot, ok := node.(*ast.ObjectType); ok {
		node = ot.List
		if ot.List == nil {
			node = &ast.ObjectList{}
		}
	}
	literal := false
	if _, ok := node.(*ast.LiteralType); ok && item != nil {
		// HCL 1 reads `service = { web = "read" }` as service "web" with a body that is
		// the item itself.
		node, literal = &ast.ObjectList{Items: []*ast.ObjectItem{item}}, true
	}
	list, ok := node.(*ast.ObjectList)
	if !ok {
		d.fail(d.nodeLine(node, out.line), path, fmt.Errorf("%w: want a block: %s", ErrRuleShape, blockSyntax(keyword)))
		return nil
	}

	// Every field of the struct filters the items by their first key, which HCL 1 reads
	// for every item: one it cannot read fails the whole policy.
	keys := make([]string, len(list.Items))
	for i, it := range list.Items {
		if len(it.Keys) == 0 {
			continue
		}
		k, ok := d.key(it.Keys[0], path)
		if !ok {
			return nil
		}
		keys[i] = k
	}
	used := make([]bool, len(list.Items))
	for _, f := range s.fields {
		var prefix, matches []match
		for i, it := range list.Items {
			if len(it.Keys) == 0 || (keys[i] != f.name && !strings.EqualFold(keys[i], f.name)) {
				continue
			}
			used[i] = true
			m := match{item: it, rest: &ast.ObjectItem{Keys: it.Keys[1:], Val: it.Val}}
			if len(m.rest.Keys) > 0 {
				prefix = append(prefix, m)
			} else {
				matches = append(matches, m)
			}
		}
		if f.elem == nil {
			d.decodeString(path, f.name, prefix, matches, out)
			continue
		}
		d.decodeList(path, f, prefix, matches, out)
	}
	for i, it := range list.Items {
		if !used[i] && len(it.Keys) > 0 && !literal {
			d.ignored(path, s, keys[i], it)
		}
	}
	if s.labelled && literal {
		for _, f := range s.fields {
			if strings.EqualFold(out.name, f.name) {
				d.warn(out.line, path, fmt.Errorf("%w: the rule is named %q: a block without a label takes its first key as the name", ErrRuleShape, out.name))
				break
			}
		}
	}
	return out
}

// decodeList decodes the items naming a list field: blocks (keyword "label" { ... })
// first, then objects (keyword = { ... }), in the order HCL 1 appends them.
func (d *decoder) decodeList(path string, f hclField, prefix, matches []match, out *hclStruct) {
	rests := make([]*ast.ObjectItem, len(prefix))
	for i, m := range prefix {
		rests[i] = m.rest
	}
	for _, it := range d.joinSplit(f.elem, rests) {
		d.decodeElem(path, f, it, out)
	}
	for _, m := range matches {
		switch v := m.rest.Val.(type) {
		case *ast.ObjectType:
			if v.List != nil {
				for _, it := range d.joinSplit(f.elem, v.List.Items) {
					d.decodeElem(path, f, it, out)
				}
			}
		case *ast.ListType:
			for _, e := range v.List {
				d.decodeElem(path, f, e, out)
			}
		default:
			line := d.nodeLine(m.rest.Val, d.keyLine(m.item.Keys[0]))
			d.fail(line, rulePath(path, f.name), fmt.Errorf("%w: want a block: %s", ErrRuleShape, blockSyntax(f.name)))
		}
	}
}

// decodeString decodes the items naming a string field. HCL 1 keeps the last value and
// reads numbers as their text; other values are errors.
func (d *decoder) decodeString(path, name string, prefix, matches []match, out *hclStruct) {
	rule := rulePath(path, name)
	for _, m := range prefix {
		d.fail(d.keyLine(m.item.Keys[0]), rulePath(path, name, labels(m.rest.Keys)...), fmt.Errorf("%w: want a value, not a block: %s = \"<access>\"", ErrRuleShape, name))
	}
	for i, m := range matches {
		line := d.keyLine(m.item.Keys[0])
		v, ok := stringValue(m.rest.Val)
		if !ok {
			d.fail(d.nodeLine(m.rest.Val, line), rule, fmt.Errorf("%w: want a string: %s = \"<access>\"", ErrRuleShape, name))
			continue
		}
		if i < len(matches)-1 {
			d.warn(line, rule, fmt.Errorf("%w: %s is set again on line %d; Consul keeps the last value", ErrDuplicateRule, name, d.keyLine(matches[len(matches)-1].item.Keys[0])))
		}
		out.values[name] = hclValue{value: v, line: line}
	}
}

// stringValue is HCL 1's decodeString: a string or heredoc is its value, a whole number
// its text; anything else is not a string.
func stringValue(n ast.Node) (string, bool) {
	lit, ok := n.(*ast.LiteralType)
	if !ok {
		return "", false
	}
	switch lit.Token.Type {
	case token.NUMBER:
		return lit.Token.Text, true
	case token.STRING, token.HEREDOC:
		v, ok := tokenValue(lit.Token)
		s, isString := v.(string)
		return s, ok && isString
	}
	return "", false
}

// joinSplit joins again the partition and namespace blocks that HCL 1 split when it
// read them from JSON. HCL 1 replaces a JSON object whose members are all objects by one
// item per member, each with the keys of both levels, so
// {"partition": {"p": {"namespace": {...}, "node": {...}}}} comes out as two blocks
// partition "p" "namespace" ... and partition "p" "node" ...; for s nested, items whose
// first key is the same key of the source and whose second keys share an object are one
// block again. Items that are separate in the source (two blocks, or two bodies of a
// list) stay separate.
func (d *decoder) joinSplit(s *hclSchema, items []*ast.ObjectItem) []*ast.ObjectItem {
	if !s.nested || d.json == nil {
		return items
	}
	type origin struct {
		label     *ast.ObjectKey
		enclosing int
	}
	var out []*ast.ObjectItem
	groups := map[origin]*ast.ObjectList{}
	for _, it := range items {
		if len(it.Keys) < 2 {
			out = append(out, it)
			continue
		}
		inner, ok := d.json[it.Keys[1]]
		if !ok {
			out = append(out, it)
			continue
		}
		member := &ast.ObjectItem{Keys: it.Keys[1:], Val: it.Val}
		o := origin{label: it.Keys[0], enclosing: inner.enclosing}
		if body, ok := groups[o]; ok {
			body.Add(member)
			continue
		}
		body := &ast.ObjectList{Items: []*ast.ObjectItem{member}}
		groups[o] = body
		out = append(out, &ast.ObjectItem{Keys: it.Keys[:1], Val: &ast.ObjectType{List: body}})
	}
	return out
}

// decodeElem decodes one element of a list field, as HCL 1's decodeSlice does: an item
// with two keys (a JSON object holding one object) is first split into a block holding
// a block.
func (d *decoder) decodeElem(path string, f hclField, n ast.Node, out *hclStruct) {
	if it, ok := n.(*ast.ObjectItem); ok && len(it.Keys) == 2 {
		n = &ast.ObjectItem{Keys: it.Keys[:1], Val: &ast.ObjectType{List: &ast.ObjectList{Items: []*ast.ObjectItem{{Keys: it.Keys[1:], Val: it.Val}}}}}
	}
	if e := d.decodeStruct(path, f.name, n, f.elem, 0); e != nil {
		out.lists[f.name] = append(out.lists[f.name], e)
	}
}

// ignored notes a warning for an item no field of s reads.
func (d *decoder) ignored(path string, s *hclSchema, key string, it *ast.ObjectItem) {
	rule := rulePath(path, key, labels(it.Keys[1:])...)
	line := d.keyLine(it.Keys[0])
	for _, kw := range []string{kwPartition, kwPartitionPrefix, kwNamespace, kwNamespacePrefix} {
		if strings.EqualFold(key, kw) {
			d.warn(line, rule, fmt.Errorf("%w: %s blocks cannot be nested here; Consul ignores it", ErrRuleNotAllowed, kw))
			return
		}
	}
	what := "rule"
	if s == plainRuleSchema || s == serviceRuleSchema {
		what = "attribute"
	}
	d.warn(line, rule, fmt.Errorf("%w %q: Consul ignores this %s", ErrUnknownRule, key, what))
}

// blockSyntax shows the block form of keyword for messages.
func blockSyntax(keyword string) string {
	if keyword == "" {
		return "{ ... }"
	}
	return keyword + ` "<name>" { ... }`
}

// quoteAll quotes and joins labels for messages.
func quoteAll(labels []string) string {
	q := make([]string, len(labels))
	for i, l := range labels {
		q[i] = fmt.Sprintf("%q", l)
	}
	return strings.Join(q, " ")
}

// policy decodes a whole policy and validates it as Consul does.
func (d *decoder) policy(root ast.Node) *Policy {
	p := &Policy{}
	s := d.decodeStruct("", "", root, policySchema, 1)
	if s == nil {
		return p
	}
	d.rules(s, "", false, &p.Rules)
	p.Namespaces = d.namespaces(s.lists[kwNamespace], "", kwNamespace)
	p.NamespacePrefixes = d.namespaces(s.lists[kwNamespacePrefix], "", kwNamespacePrefix)
	p.Partitions = d.partitions(s.lists[kwPartition], kwPartition)
	p.PartitionPrefixes = d.partitions(s.lists[kwPartitionPrefix], kwPartitionPrefix)
	return p
}

func (d *decoder) partitions(elems []*hclStruct, keyword string) []PartitionRules {
	var out []PartitionRules
	for _, e := range elems {
		path := rulePath("", keyword, e.name)
		pr := PartitionRules{Name: e.name}
		d.rules(e, path, false, &pr.Rules)
		pr.Namespaces = d.namespaces(e.lists[kwNamespace], path, kwNamespace)
		pr.NamespacePrefixes = d.namespaces(e.lists[kwNamespacePrefix], path, kwNamespacePrefix)
		out = append(out, pr)
	}
	slices.SortStableFunc(out, func(a, b PartitionRules) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (d *decoder) namespaces(elems []*hclStruct, parent, keyword string) []NamespaceRules {
	var out []NamespaceRules
	for _, e := range elems {
		path := rulePath(parent, keyword, e.name)
		ns := NamespaceRules{Name: e.name}
		ns.Policy = d.access(e, kwPolicy, path, false, false)
		d.rules(e, path, true, &ns.Rules)
		out = append(out, ns)
	}
	slices.SortStableFunc(out, func(a, b NamespaceRules) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// rules validates and converts the rules of a decoded policy, partition or namespace.
func (d *decoder) rules(s *hclStruct, path string, inNamespace bool, r *Rules) {
	for _, vk := range valueKinds {
		v, ok := s.values[vk.keyword]
		if !ok || v.value == "" {
			continue
		}
		if inNamespace && vk.partitionLevel {
			d.fail(v.line, rulePath(path, vk.keyword), fmt.Errorf("%w: %s is partition-level and cannot be nested in a namespace", ErrRuleNotAllowed, vk.keyword))
			continue
		}
		*vk.field(r) = d.access(s, vk.keyword, path, false, false)
	}
	for _, nk := range namedKinds {
		for _, e := range s.lists[nk.keyword] {
			rp := rulePath(path, nk.keyword, e.name)
			policy := d.access(e, kwPolicy, rp, nk.allowList, true)
			if nk.plain != nil {
				*nk.plain(r) = append(*nk.plain(r), Rule{Name: e.name, Policy: policy})
				continue
			}
			*nk.service(r) = append(*nk.service(r), ServiceRule{Name: e.name, Policy: policy, Intentions: d.access(e, kwIntentions, rp, false, false)})
		}
		if nk.plain != nil {
			slices.SortStableFunc(*nk.plain(r), func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
		} else {
			slices.SortStableFunc(*nk.service(r), func(a, b ServiceRule) int { return strings.Compare(a.Name, b.Name) })
		}
	}
}

// access validates the access level in field name of s, which Consul lower-cases. An
// empty or missing level is no rule, and an error if required.
func (d *decoder) access(s *hclStruct, name, path string, allowList, required bool) Access {
	v, ok := s.values[name]
	if !ok || v.value == "" {
		if required {
			d.fail(s.line, path, ErrMissingPolicy)
		}
		return AccessUnset
	}
	a, err := parseAccess(v.value, allowList)
	if err != nil {
		d.fail(v.line, rulePath(path, name), err)
	}
	return a
}
