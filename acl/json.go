package acl

import (
	"bytes"
	"encoding/json"
	"fmt"
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
