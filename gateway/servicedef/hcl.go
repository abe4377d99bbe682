package servicedef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"regexp"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/peeringgw/peeringgw/gateway"
)

// RenderHCL validates r and returns it as an HCL service definition, the
// form `consul services register` and the agent's -config-file read:
//
//	service {
//	  name = "mesh-gateway"
//	  kind = "mesh-gateway"
//	  port = 8443
//	  tagged_addresses {
//	    wan {
//	      address = "198.18.0.1"
//	      port    = 443
//	    }
//	  }
//	  proxy {
//	    config {
//	      connect_timeout_ms = 2500
//	    }
//	  }
//	}
//
// Only what is set is written (the name always); maps whose keys are all plain
// identifiers are written as blocks, others as objects with quoted keys. The text is
// read the same by Consul's HCL 1 parser and by HCL 2 ([ParseHCL]): in strings, the
// sequences "${" and "%{", which the two read differently when escaped, are written as
// "\u0024{" and "\u0025{".
func RenderHCL(r gateway.Registration) ([]byte, error) {
	def, err := definition(r)
	if err != nil {
		return nil, err
	}
	s := def.Service
	f := hclwrite.NewEmptyFile()
	body := f.Body().AppendNewBlock("service", nil).Body()
	body.SetAttributeRaw("name", stringTokens(s.Name))
	setString := func(name, v string) {
		if v != "" {
			body.SetAttributeRaw(name, stringTokens(v))
		}
	}
	setString("id", s.ID)
	setString("kind", string(s.Kind))
	setString("address", s.Address)
	body.SetAttributeValue("port", cty.NumberIntVal(int64(s.Port)))
	if len(s.Tags) > 0 {
		if err := setValue(body, "tags", s.Tags); err != nil {
			return nil, err
		}
	}
	if len(s.TaggedAddresses) > 0 {
		tagged := body.AppendNewBlock("tagged_addresses", nil).Body()
		for _, tag := range slices.Sorted(maps.Keys(s.TaggedAddresses)) {
			a := tagged.AppendNewBlock(tag, nil).Body()
			a.SetAttributeRaw("address", stringTokens(s.TaggedAddresses[tag].Address))
			a.SetAttributeValue("port", cty.NumberIntVal(int64(s.TaggedAddresses[tag].Port)))
		}
	}
	if len(s.Meta) > 0 {
		if err := setValue(body, "meta", s.Meta); err != nil {
			return nil, err
		}
	}
	setString("partition", s.Partition)
	if s.Proxy != nil {
		proxy := body.AppendNewBlock("proxy", nil).Body()
		if err := setValue(proxy, "config", s.Proxy.Config); err != nil {
			return nil, err
		}
	}
	return f.Bytes(), nil
}

// setValue writes v as attribute name of body, or as a block when v is a map whose keys
// are all identifiers.
func setValue(body *hclwrite.Body, name string, v any) error {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() == reflect.Map && rv.Len() > 0 && allIdentifiers(rv) {
		block := body.AppendNewBlock(name, nil).Body()
		for _, k := range sortedKeys(rv) {
			toks, err := valueTokens(mapIndex(rv, k))
			if err != nil {
				return fmt.Errorf("servicedef: %s.%s: %w", name, k, err)
			}
			block.SetAttributeRaw(k, toks)
		}
		return nil
	}
	toks, err := valueTokens(v)
	if err != nil {
		return fmt.Errorf("servicedef: %s: %w", name, err)
	}
	body.SetAttributeRaw(name, toks)
	return nil
}

// identifier matches the names HCL 1 and HCL 2 both read as bare identifiers.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// isIdentifier reports whether s can be written unquoted as an attribute or object key.
// HCL's literal and keyword names are quoted.
func isIdentifier(s string) bool {
	switch s {
	case "true", "false", "null", "for", "in", "if":
		return false
	}
	return identifier.MatchString(s)
}

func allIdentifiers(m reflect.Value) bool {
	for _, k := range m.MapKeys() {
		if !isIdentifier(k.String()) {
			return false
		}
	}
	return true
}

// mapIndex returns the value of key k in map m, whose key type is a string type.
func mapIndex(m reflect.Value, k string) any {
	return m.MapIndex(reflect.ValueOf(k).Convert(m.Type().Key())).Interface()
}

func sortedKeys(m reflect.Value) []string {
	keys := make([]string, 0, m.Len())
	for _, k := range m.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	return keys
}

// valueTokens returns the HCL tokens of a JSON-like value: a string, bool, number, or a
// slice, array or string-keyed map of those, as Registration.Validate allows in
// Proxy.Config.
func valueTokens(v any) (hclwrite.Tokens, error) {
	if n, ok := v.(json.Number); ok {
		f, ok := new(big.Float).SetString(n.String())
		if !ok {
			return nil, fmt.Errorf("bad number %q", n)
		}
		return hclwrite.TokensForValue(cty.NumberVal(f)), nil
	}
	rv := reflect.Indirect(reflect.ValueOf(v))
	switch rv.Kind() {
	case reflect.String:
		return stringTokens(rv.String()), nil
	case reflect.Bool:
		return hclwrite.TokensForValue(cty.BoolVal(rv.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return hclwrite.TokensForValue(cty.NumberIntVal(rv.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return hclwrite.TokensForValue(cty.NumberUIntVal(rv.Uint())), nil
	case reflect.Float32, reflect.Float64:
		return hclwrite.TokensForValue(cty.NumberFloatVal(rv.Float())), nil
	case reflect.Slice, reflect.Array:
		elems := make([]hclwrite.Tokens, rv.Len())
		for i := range elems {
			toks, err := valueTokens(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			elems[i] = toks
		}
		return hclwrite.TokensForTuple(elems), nil
	}
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, fmt.Errorf("values of type %T are not supported", v)
	}
	attrs := make([]hclwrite.ObjectAttrTokens, 0, rv.Len())
	for _, k := range sortedKeys(rv) {
		toks, err := valueTokens(mapIndex(rv, k))
		if err != nil {
			return nil, err
		}
		name := stringTokens(k)
		if isIdentifier(k) {
			name = hclwrite.TokensForIdentifier(k)
		}
		attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: name, Value: toks})
	}
	return hclwrite.TokensForObject(attrs), nil
}

// stringTokens returns s as a quoted HCL string that HCL 1 and HCL 2 both read as s.
// hclwrite escapes a literal "${" as "$${" and "%{" as "%%{", which HCL 1 (Consul's
// parser) would keep doubled; "\u0024{" and "\u0025{" read as "${" and "%{" in both.
func stringTokens(s string) hclwrite.Tokens {
	toks := hclwrite.TokensForValue(cty.StringVal(s))
	for _, t := range toks {
		if t.Type == hclsyntax.TokenQuotedLit {
			t.Bytes = bytes.ReplaceAll(t.Bytes, []byte("$${"), []byte(`\u0024{`))
			t.Bytes = bytes.ReplaceAll(t.Bytes, []byte("%%{"), []byte(`\u0025{`))
		}
	}
	return toks
}

// ParseHCL reads an HCL service definition for a mesh gateway, as [RenderHCL] writes
// it. Blocks and object attributes are interchangeable (tagged_addresses { ... } and
// tagged_addresses = { ... } read the same), and keys match in any letter case, as in
// Consul. Keys a Registration cannot represent (checks, namespace, several services,
// tagged addresses other than lan and wan, proxy settings other than config) are
// [*gateway.ValidationError] values wrapping [gateway.ErrDefinition], so that nothing is
// dropped silently; so are values of the wrong type and Proxy.Config values
// [gateway.ParseOptions] rejects. Proxy.Config keys the gateway package does not know go
// to Options.Extra.
//
// Consul reads HCL 1, which keeps "${...}" in a string as written; HCL 2 reads it as a
// template, which ParseHCL refuses. Write such a string as "$${...}" or "\u0024{...}".
// ParseHCL does not validate the registration; call [gateway.Registration.Validate].
func ParseHCL(src []byte, filename string) (gateway.Registration, error) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return gateway.Registration{}, invalid(filename, "", fmt.Errorf("%w: %w", gateway.ErrDefinition, diags))
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return gateway.Registration{}, invalid(filename, "", fmt.Errorf("%w: not native HCL syntax", gateway.ErrDefinition))
	}
	doc, err := bodyMap(body, "")
	if err != nil {
		return gateway.Registration{}, err
	}
	return decodeDefinition(doc)
}

// bodyMap converts an HCL body to a map: attributes to their values, blocks to maps.
func bodyMap(body *hclsyntax.Body, path string) (map[string]any, error) {
	m := make(map[string]any, len(body.Attributes)+len(body.Blocks))
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(body.Attributes)) {
		field := joinPath(path, name)
		val, diags := body.Attributes[name].Expr.Value(nil)
		if diags.HasErrors() {
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: %w", gateway.ErrDefinition, diags)))
			continue
		}
		g, err := fromCty(val)
		if err != nil {
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: %w", gateway.ErrDefinition, err)))
			continue
		}
		m[name] = g
	}
	for _, b := range body.Blocks {
		field := joinPath(path, b.Type)
		if _, dup := m[b.Type]; dup {
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: given twice", gateway.ErrDefinition)))
			continue
		}
		if len(b.Labels) > 0 {
			errs = append(errs, invalid(field, "", fmt.Errorf("%w: block labels are not supported", gateway.ErrDefinition)))
			continue
		}
		nested, err := bodyMap(b.Body, field)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m[b.Type] = nested
	}
	if errs != nil {
		return nil, errors.Join(errs...)
	}
	return m, nil
}
