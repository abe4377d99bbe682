package meshconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"
	"go.yaml.in/yaml/v3"
)

// RenderYAML returns e as YAML with the same CamelCase keys as the HCL and JSON forms
// (Consul's documentation shows this form for the flag: "Kind: mesh" then
// "Peering:" with "PeerThroughMeshGateways: true" indented by two spaces), indented by two
// spaces. The order and the zero-value rules are those of RenderJSON. It returns
// ErrNilEntry for a nil entry.
func RenderYAML(e *api.MeshConfigEntry) ([]byte, error) {
	tree, err := entryTree(e)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(yamlNode(tree)); err != nil {
		return nil, fmt.Errorf("meshconfig: encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("meshconfig: encode YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// yamlNode converts a node value; strings are tagged !!str so that the encoder quotes
// those that would read back as another type ("true", "1").
func yamlNode(v any) *yaml.Node {
	switch v := v.(type) {
	case []node:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range v {
			n.Content = append(n.Content, yamlScalar("!!str", f.key), yamlNode(f.value))
		}
		return n
	case map[string]string:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			n.Content = append(n.Content, yamlScalar("!!str", k), yamlScalar("!!str", v[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, elem := range v {
			n.Content = append(n.Content, yamlNode(elem))
		}
		return n
	case string:
		return yamlScalar("!!str", v)
	case bool:
		return yamlScalar("!!bool", strconv.FormatBool(v))
	case int64:
		return yamlScalar("!!int", strconv.FormatInt(v, 10))
	case uint64:
		return yamlScalar("!!int", strconv.FormatUint(v, 10))
	case float64:
		return yamlScalar("!!float", strconv.FormatFloat(v, 'g', -1, 64))
	}
	return yamlScalar("!!null", "null")
}

// yamlScalar returns a scalar node. Multi-line strings and strings with tabs are
// double-quoted: the encoder would write
// them as literal blocks, which its own decoder refuses when a line starts with a tab.
func yamlScalar(tag, value string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	if strings.ContainsAny(value, "\n\t\r") {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// ParseYAML reads a YAML mesh config entry with the keys RenderYAML writes or their
// snake_case forms (see the package documentation). The input must hold one document.
// name identifies the input in errors, which are *ParseError values with the line of the
// problem.
func ParseYAML(src []byte, name string) (*api.MeshConfigEntry, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(name, err)
		}
		return nil, &ParseError{Filename: name, Line: extra.Line, Err: fmt.Errorf("%w: more than one document", ErrSyntax)}
	}
	doc := &document{name: name, lines: map[string]int{}}
	var raw map[string]any
	if root.Kind != 0 {
		yamlLines(&root, "", doc.lines)
		if err := root.Decode(&raw); err != nil {
			return nil, yamlError(name, err)
		}
	}
	return doc.decode(raw)
}

// yamlLines records the line of every mapping key under n.
func yamlLines(n *yaml.Node, prefix string, lines map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			yamlLines(c, prefix, lines)
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			yamlLines(n.Alias, prefix, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			if _, seen := lines[prefix+key.Value]; !seen {
				lines[prefix+key.Value] = key.Line
			}
			yamlLines(n.Content[i+1], prefix+key.Value+".", lines)
		}
	}
}

// yamlLinePattern finds the line yaml.v3 puts at the start of its messages ("line 3: ...").
var yamlLinePattern = regexp.MustCompile(`^line (\d+): `)

// yamlError converts a yaml.v3 error. yaml.v3 reports positions only in its message text
// ("yaml: line 3: ..."), so the line is taken from there and removed from the message.
func yamlError(name string, err error) error {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		msgs = slices.Clone(typeErr.Errors)
	}
	line := 0
	for i, msg := range msgs {
		m := yamlLinePattern.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		msgs[i] = msg[len(m[0]):]
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && line == 0 {
			line = n
		}
	}
	return &ParseError{Filename: name, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, strings.Join(msgs, "; "))}
}
