package meshconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/consul/api"
)

// RenderJSON returns e as JSON with two-space indentation and a final newline, in the form
// of Consul's documentation and of the HTTP API (PUT /v1/config):
//
//	{
//	  "Kind": "mesh",
//	  "Peering": {
//	    "PeerThroughMeshGateways": true
//	  }
//	}
//
// Kind comes first, then every set field in the order api.MeshConfigEntry declares it.
// All three renderers leave out zero values (empty strings, false, empty maps and lists,
// nil pointers, structs with nothing set) and the read-only CreateIndex and ModifyIndex;
// a non-nil pointer to an empty struct is written as an empty object, and a Peering block
// always shows PeerThroughMeshGateways, even when false. It returns ErrNilEntry for a nil
// entry.
func RenderJSON(e *api.MeshConfigEntry) ([]byte, error) {
	tree, err := entryTree(e)
	if err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := writeJSON(&compact, tree); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("meshconfig: indent JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// writeJSON writes v compactly: a []node as an object in node order, anything else with
// encoding/json (which sorts map keys). HTML characters are not escaped.
func writeJSON(buf *bytes.Buffer, v any) error {
	fields, ok := v.([]node)
	if !ok {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("meshconfig: encode JSON: %w", err)
		}
		buf.Truncate(buf.Len() - 1) // Encode appends a newline
		return nil
	}
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeJSON(buf, f.key); err != nil {
			return err
		}
		buf.WriteByte(':')
		if err := writeJSON(buf, f.value); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// ParseJSON reads a JSON mesh config entry: the body of PUT /v1/config, the output of
// `consul config read`, or what RenderJSON writes. Keys follow the rules of `consul config
// write` (see the package documentation). name identifies the input in errors, which are
// *ParseError values; syntax errors carry a line, other errors do not, because
// encoding/json does not report key positions. As in Consul, when a key is repeated with
// the same spelling the last value wins.
func ParseJSON(src []byte, name string) (*api.MeshConfigEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, jsonError(name, src, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &ParseError{
			Filename: name,
			Line:     lineAt(src, dec.InputOffset()),
			Err:      fmt.Errorf("%w: data after the top-level object", ErrSyntax),
		}
	}
	doc := &document{name: name}
	return doc.decode(raw)
}

// jsonError converts an encoding/json error, with the line of its offset where it has one.
func jsonError(name string, src []byte, err error) error {
	line := 0
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line = lineAt(src, syntax.Offset)
	case errors.As(err, &typ):
		line = lineAt(src, typ.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line = lineAt(src, int64(len(src)))
	}
	return &ParseError{Filename: name, Line: line, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
}

// lineAt returns the 1-based line of byte offset off in src.
func lineAt(src []byte, off int64) int {
	off = min(max(off, 0), int64(len(src)))
	return bytes.Count(src[:off], []byte{'\n'}) + 1
}
