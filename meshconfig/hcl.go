package meshconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// RenderHCL returns e as HCL in the form of Consul's documentation, which
// `consul config write` reads:
//
//	Kind = "mesh"
//	Peering {
//	  PeerThroughMeshGateways = true
//	}
//
// Keys are CamelCase, nested structs are blocks and maps (Meta) are object attributes. Zero
// values are left out (see RenderJSON for the exact rules). It returns ErrNilEntry for a nil
// entry.
func RenderHCL(e *api.MeshConfigEntry) ([]byte, error) {
	tree, err := entryTree(e)
	if err != nil {
		return nil, err
	}
	if err := checkNFC(tree, ""); err != nil {
		return nil, err
	}
	f := hclwrite.NewEmptyFile()
	writeHCLBody(f.Body(), tree)
	return hclwrite.Format(f.Bytes()), nil
}

func writeHCLBody(body *hclwrite.Body, nodes []node) {
	for _, n := range nodes {
		if fields, ok := n.value.([]node); ok {
			writeHCLBody(body.AppendNewBlock(n.key, nil).Body(), fields)
			continue
		}
		body.SetAttributeValue(n.key, ctyValue(n.value))
	}
}

// checkNFC refuses strings that HCL would change: cty, under HCL, normalises every string
// to Unicode NFC, so a string in another form would not read back as written (e.g.
// U+2000 EN QUAD becomes U+2002 EN SPACE). JSON and YAML carry such strings unchanged.
func checkNFC(nodes []node, prefix string) error {
	var errs []error
	bad := func(path, s string) {
		if cty.StringVal(s).AsString() != s {
			errs = append(errs, fmt.Errorf("%w: %s: %q is not in Unicode NFC form, which HCL would change; use JSON or YAML", ErrInvalidValue, path, s))
		}
	}
	for _, n := range nodes {
		path := prefix + n.key
		switch v := n.value.(type) {
		case []node:
			errs = append(errs, checkNFC(v, path+"."))
		case string:
			bad(path, v)
		case []any:
			for _, elem := range v {
				if s, ok := elem.(string); ok {
					bad(path, s)
				}
			}
		case map[string]string:
			for k, s := range v {
				bad(path+"."+k, k)
				bad(path+"."+k, s)
			}
		}
	}
	return errors.Join(errs...)
}

// ctyValue converts a scalar, list or map node value.
func ctyValue(v any) cty.Value {
	switch v := v.(type) {
	case string:
		return cty.StringVal(v)
	case bool:
		return cty.BoolVal(v)
	case int64:
		return cty.NumberIntVal(v)
	case uint64:
		return cty.NumberUIntVal(v)
	case float64:
		return cty.NumberFloatVal(v)
	case []any:
		elems := make([]cty.Value, len(v))
		for i, elem := range v {
			elems[i] = ctyValue(elem)
		}
		return cty.TupleVal(elems)
	case map[string]string:
		elems := make(map[string]cty.Value, len(v))
		for k, s := range v {
			elems[k] = cty.StringVal(s)
		}
		return cty.MapVal(elems)
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// ParseHCL reads an HCL mesh config entry, as `consul config write` accepts it: CamelCase
// or snake_case keys (Peering { PeerThroughMeshGateways = true } or
// peering { peer_through_mesh_gateways = true }), nested settings as blocks or as object
// attributes. The syntax is HCL's native syntax (hcl/v2); Consul's CLI reads HCL 1, which
// writes this entry the same way. Attributes may hold only literal values: no variables and
// no function calls. name identifies the input in errors. Errors are *ParseError values with
// the line of the problem. The package documentation lists the keys accepted.
func ParseHCL(src []byte, name string) (*api.MeshConfigEntry, error) {
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagError(name, ErrSyntax, diags)
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil, &ParseError{Filename: name, Err: fmt.Errorf("%w: unexpected body %T", ErrSyntax, file.Body)}
	}
	doc := &document{name: name, lines: map[string]int{}}
	raw, err := doc.hclBody(body, "")
	if err != nil {
		return nil, err
	}
	return doc.decode(raw)
}

// hclBody converts a body to a generic map: attributes become their values, blocks nested
// maps.
func (d *document) hclBody(body *hclsyntax.Body, prefix string) (map[string]any, error) {
	out := make(map[string]any, len(body.Attributes)+len(body.Blocks))
	var errs []error
	attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		attrs = append(attrs, a)
	}
	slices.SortFunc(attrs, func(a, b *hclsyntax.Attribute) int { return a.NameRange.Start.Byte - b.NameRange.Start.Byte })
	for _, a := range attrs {
		d.lines[prefix+a.Name] = a.NameRange.Start.Line
		v, err := d.hclAttribute(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[a.Name] = v
	}
	for _, b := range body.Blocks {
		path := prefix + b.Type
		if _, dup := out[b.Type]; dup {
			d.lines[path] = b.TypeRange.Start.Line
			errs = append(errs, d.errorAt(path, keyError(ErrDuplicateKey, path)))
			continue
		}
		d.lines[path] = b.TypeRange.Start.Line
		if len(b.Labels) > 0 {
			errs = append(errs, d.errorAt(path, fmt.Errorf("%w: block %q takes no labels", ErrInvalidValue, path)))
			continue
		}
		nested, err := d.hclBody(b.Body, path+".")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[b.Type] = nested
	}
	return out, errors.Join(errs...)
}

// hclAttribute evaluates an attribute, which may hold only literal values (no variables or
// functions), and converts it to a generic value.
func (d *document) hclAttribute(a *hclsyntax.Attribute) (any, error) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return nil, diagError(d.name, ErrInvalidValue, diags)
	}
	b, err := ctyjson.SimpleJSONValue{Value: v}.MarshalJSON()
	if err != nil {
		return nil, &ParseError{Filename: d.name, Line: a.NameRange.Start.Line, Err: fmt.Errorf("%w: %w", ErrInvalidValue, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, &ParseError{Filename: d.name, Line: a.NameRange.Start.Line, Err: fmt.Errorf("%w: %w", ErrInvalidValue, err)}
	}
	return out, nil
}

// diagError converts the error diagnostics to *ParseError values wrapping sentinel.
func diagError(name string, sentinel error, diags hcl.Diagnostics) error {
	var errs []error
	for _, diag := range diags {
		if diag.Severity != hcl.DiagError {
			continue
		}
		line := 0
		if diag.Subject != nil {
			line = diag.Subject.Start.Line
		}
		msg := diag.Summary
		if diag.Detail != "" {
			msg += ": " + diag.Detail
		}
		errs = append(errs, &ParseError{Filename: name, Line: line, Err: fmt.Errorf("%w: %s", sentinel, msg)})
	}
	return errors.Join(errs...)
}
