package acl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// RenderJSON returns the policy in Consul's JSON rules form, indented by two spaces and
// ending with a newline, keys sorted: {"peering": "read", "service": {"web": {"policy":
// "write"}}}. Several rules with the same keyword and name are written as a list of
// bodies ({"service": {"web": [{...}, {...}]}}), which Consul also accepts. It fails
// with a *ValidationError if the policy is invalid.
func (p *Policy) RenderJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonObject(encodePolicy(p))); err != nil {
		return nil, fmt.Errorf("acl: encode policy: %w", err)
	}
	return buf.Bytes(), nil
}

// RenderCompactJSON returns the policy as one line of JSON with a space inside braces
// and after colons and commas, keys sorted, no final newline: the form Consul's
// documentation uses for short policies, e.g. { "peering": "read" }. It fails with a
// *ValidationError if the policy is invalid.
func (p *Policy) RenderCompactJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeCompactJSON(&buf, jsonObject(encodePolicy(p))); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonObject converts items to the value encoding/json writes: attributes become strings
// and blocks become {keyword: {label: body}}, or {label: [body, ...]} for repeated labels.
func jsonObject(items []item) map[string]any {
	obj := map[string]any{}
	for _, it := range items {
		if it.kind == itemString {
			obj[it.name] = it.value
			continue
		}
		labels, _ := obj[it.name].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
			obj[it.name] = labels
		}
		label := strings.Join(it.labels, "")
		body := jsonObject(it.body)
		switch prev := labels[label].(type) {
		case nil:
			labels[label] = body
		case []any:
			labels[label] = append(prev, body)
		default:
			labels[label] = []any{prev, body}
		}
	}
	return obj
}

// writeCompactJSON writes v, a value built by jsonObject, on one line.
func writeCompactJSON(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case string:
		return writeJSONString(buf, v)
	case []any:
		buf.WriteString("[ ")
		for i, e := range v {
			if i > 0 {
				buf.WriteString(", ")
			}
			if err := writeCompactJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteString(" ]")
	case map[string]any:
		if len(v) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{ ")
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				buf.WriteString(", ")
			}
			if err := writeJSONString(buf, k); err != nil {
				return err
			}
			buf.WriteString(": ")
			if err := writeCompactJSON(buf, v[k]); err != nil {
				return err
			}
		}
		buf.WriteString(" }")
	default:
		return fmt.Errorf("acl: unexpected JSON value %T", v)
	}
	return nil
}

// writeJSONString writes s quoted by encoding/json, without HTML escaping.
func writeJSONString(buf *bytes.Buffer, s string) error {
	var q bytes.Buffer
	enc := json.NewEncoder(&q)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("acl: encode string: %w", err)
	}
	buf.Write(bytes.TrimSuffix(q.Bytes(), []byte("\n")))
	return nil
}

// ParseJSON parses policy rules written in Consul's JSON form into a Policy. A rule's
// body may be an object or a list of objects ({"service": {"web": [{"policy":
// "read"}]}}), as in Consul's documentation. filename is used in error messages only.
// Keywords and errors are as for ParseHCL; lines come from the byte offsets that
// encoding/json reports.
func ParseJSON(src []byte, filename string) (*Policy, error) {
	r := &jsonReader{src: src, dec: json.NewDecoder(bytes.NewReader(src)), filename: filename}
	r.dec.UseNumber()
	v, err := r.value()
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, err
	}
	if v.kind != jsonObjectKind {
		return nil, &ParseError{Filename: filename, Line: v.line, Err: fmt.Errorf("%w: a JSON policy must be an object", ErrRuleShape)}
	}
	d := &decoder{filename: filename}
	p := d.policy(v.items())
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return p, nil
}

// Parse parses policy rules in either syntax: text whose first non-blank character is
// "{" is JSON, anything else HCL: the same test Consul's HCL parser makes.
func Parse(src []byte, filename string) (*Policy, error) {
	if trimmed := bytes.TrimLeft(src, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		return ParseJSON(src, filename)
	}
	return ParseHCL(src, filename)
}

type jsonKind int

const (
	jsonOtherKind jsonKind = iota
	jsonStringKind
	jsonObjectKind
	jsonArrayKind
)

// jsonValue is a JSON value with the line it ends on.
type jsonValue struct {
	kind    jsonKind
	line    int
	str     string
	members []jsonMember
	elems   []jsonValue
}

type jsonMember struct {
	key   string
	line  int
	value jsonValue
}

// jsonReader reads JSON tokens and remembers where they are.
type jsonReader struct {
	src      []byte
	dec      *json.Decoder
	filename string
}

// line returns the 1-based line of byte offset off.
func (r *jsonReader) line(off int64) int {
	off = min(max(off, 0), int64(len(r.src)))
	return bytes.Count(r.src[:off], []byte("\n")) + 1
}

func (r *jsonReader) token() (json.Token, int, error) {
	tok, err := r.dec.Token()
	if err != nil {
		off := r.dec.InputOffset()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		if errors.Is(err, io.EOF) {
			off, err = int64(len(r.src)), io.ErrUnexpectedEOF
		}
		return nil, 0, &ParseError{Filename: r.filename, Line: r.line(off), Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	return tok, r.line(r.dec.InputOffset()), nil
}

func (r *jsonReader) value() (jsonValue, error) {
	tok, line, err := r.token()
	if err != nil {
		return jsonValue{}, err
	}
	switch tok := tok.(type) {
	case string:
		return jsonValue{kind: jsonStringKind, line: line, str: tok}, nil
	case json.Delim:
		if tok == '{' {
			return r.object(line)
		}
		if tok == '[' {
			return r.array(line)
		}
	}
	return jsonValue{kind: jsonOtherKind, line: line}, nil
}

func (r *jsonReader) object(line int) (jsonValue, error) {
	v := jsonValue{kind: jsonObjectKind, line: line}
	for r.dec.More() {
		tok, keyLine, err := r.token()
		if err != nil {
			return v, err
		}
		key, _ := tok.(string)
		val, err := r.value()
		if err != nil {
			return v, err
		}
		v.members = append(v.members, jsonMember{key: key, line: keyLine, value: val})
	}
	_, _, err := r.token()
	return v, err
}

func (r *jsonReader) array(line int) (jsonValue, error) {
	v := jsonValue{kind: jsonArrayKind, line: line}
	for r.dec.More() {
		e, err := r.value()
		if err != nil {
			return v, err
		}
		v.elems = append(v.elems, e)
	}
	_, _, err := r.token()
	return v, err
}

// end checks that nothing but blanks follows the top-level value.
func (r *jsonReader) end() error {
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		return &ParseError{Filename: r.filename, Line: r.line(r.dec.InputOffset()), Err: fmt.Errorf("%w: data after the policy object", ErrSyntax)}
	}
	return nil
}

// items converts the members of a JSON object to items. A string member is an
// attribute; an object member is a block keyword whose keys are labels and whose values
// are bodies (or lists of bodies); a list member is a list of such objects.
func (v jsonValue) items() []item {
	var items []item
	for _, m := range v.members {
		name := strings.ToLower(m.key)
		switch m.value.kind {
		case jsonStringKind:
			items = append(items, item{kind: itemString, name: name, value: m.value.str, line: m.line})
		case jsonObjectKind:
			items = append(items, m.value.blocks(name)...)
		case jsonArrayKind:
			for _, e := range m.value.elems {
				if e.kind != jsonObjectKind {
					items = append(items, item{kind: itemOther, name: name, line: e.line})
					continue
				}
				items = append(items, e.blocks(name)...)
			}
		default:
			items = append(items, item{kind: itemOther, name: name, line: m.line})
		}
	}
	return items
}

// blocks converts {label: body | [body, ...]} to blocks named name.
func (v jsonValue) blocks(name string) []item {
	var items []item
	for _, m := range v.members {
		bodies := []jsonValue{m.value}
		if m.value.kind == jsonArrayKind {
			bodies = m.value.elems
		}
		for _, b := range bodies {
			it := item{kind: itemBlock, name: name, labels: []string{m.key}, line: m.line}
			if b.kind == jsonObjectKind {
				it.body = b.items()
			} else {
				it.kind = itemOther
			}
			items = append(items, it)
		}
	}
	return items
}
