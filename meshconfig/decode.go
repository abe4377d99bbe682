package meshconfig

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"
)

// document is a parsed HCL, JSON or YAML text on its way to an *api.MeshConfigEntry: the
// three parsers turn their text into a generic map (map[string]any, lists as []any) and
// record the line of every key they know one for; decode then reads the map the way
// `consul config write` does.
type document struct {
	name string
	// lines holds the 1-based line of each key, by path as spelled in the input
	// ("peering.peer_through_mesh_gateways"). Formats without positions leave it empty.
	lines map[string]int
	// leaves collects every non-struct field canonical finds, to locate a value that
	// api.DecodeConfigEntry rejects.
	leaves []leaf
}

// leaf is one non-struct field of the document.
type leaf struct {
	field []string // field names from the entry down, as the api type spells them
	path  string   // the key path as spelled in the input
	typ   reflect.Type
	value any
}

// errorAt returns a *ParseError for the key at path, with the line of the key or, when that
// is unknown (a key inside an HCL object attribute), of the nearest enclosing key.
func (d *document) errorAt(path string, err error) error {
	line := d.lines[path]
	for p := path; line == 0 && strings.Contains(p, "."); {
		p = p[:strings.LastIndex(p, ".")]
		line = d.lines[p]
	}
	return &ParseError{Filename: d.name, Line: line, Err: err}
}

// decode checks Kind and Name, resolves every other key to the api.MeshConfigEntry field it
// names and decodes the result with api.DecodeConfigEntry.
//
// Keys are matched as Consul's `consul config write` and HTTP API match them
// (command/helpers.ParseConfigEntry and agent/structs.DecodeConfigEntry: mapstructure with
// lib/decode.HookTranslateKeys): a field's name in any letter case, or one of its
// snake_case `alias` tags (peer_through_mesh_gateways, transparent_proxy...). Like Consul,
// a key that names no field is an error (Consul: `invalid config key "X"`); Consul also
// rejects Name, which the api type does not have, while decode accepts Name = "mesh" (the
// entry's fixed name, which tools such as Terraform and Kubernetes carry) and rejects any
// other name with ErrWrongName. Values are converted as api.DecodeConfigEntry (and Consul)
// convert them, with weak typing: "true" is a valid boolean.
func (d *document) decode(raw map[string]any) (*api.MeshConfigEntry, error) {
	rest, err := d.header(raw)
	if err != nil {
		return nil, err
	}
	canon, errs := d.canonical(rest, entryType, "", nil)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	canon["Kind"] = api.MeshConfig
	decoded, err := api.DecodeConfigEntry(canon)
	if err != nil {
		if located := d.locate(); located != nil {
			return nil, located
		}
		return nil, &ParseError{Filename: d.name, Err: fmt.Errorf("%w: %w", ErrInvalidValue, err)}
	}
	e, ok := decoded.(*api.MeshConfigEntry)
	if !ok {
		return nil, &ParseError{Filename: d.name, Err: fmt.Errorf("%w: decoded %T", ErrWrongKind, decoded)}
	}
	return e, nil
}

// header checks the top-level Kind and Name keys and returns the other keys.
func (d *document) header(raw map[string]any) (map[string]any, error) {
	rest := make(map[string]any, len(raw))
	for k, v := range raw {
		rest[k] = v
	}
	kindKey, err := d.fixedKey(rest, "Kind", "kind")
	if err != nil {
		return nil, err
	}
	if kindKey == "" {
		return nil, &ParseError{Filename: d.name, Err: ErrMissingKind}
	}
	if kind, ok := rest[kindKey].(string); !ok || kind != api.MeshConfig {
		return nil, d.errorAt(kindKey, fmt.Errorf("%w (got %#v)", ErrWrongKind, rest[kindKey]))
	}
	nameKey, err := d.fixedKey(rest, "Name", "name")
	if err != nil {
		return nil, err
	}
	if nameKey != "" {
		if name, ok := rest[nameKey].(string); !ok || name != api.MeshConfigMesh {
			return nil, d.errorAt(nameKey, fmt.Errorf("%w (got %#v)", ErrWrongName, rest[nameKey]))
		}
	}
	delete(rest, kindKey)
	delete(rest, nameKey)
	return rest, nil
}

// fixedKey returns which of the two spellings of a top-level key raw uses ("" for
// neither), and an error when it uses both.
func (d *document) fixedKey(raw map[string]any, upper, lower string) (string, error) {
	_, hasUpper := raw[upper]
	_, hasLower := raw[lower]
	switch {
	case hasUpper && hasLower:
		return "", d.errorAt(lower, keyError(ErrDuplicateKey, lower))
	case hasUpper:
		return upper, nil
	case hasLower:
		return lower, nil
	}
	return "", nil
}

// canonical returns raw with every key replaced by the name of the field of struct type t
// it selects, recursing into nested structs. It returns an error for each key that
// selects no field, selects a field already given, or holds a non-object where a struct
// belongs.
func (d *document) canonical(raw map[string]any, t reflect.Type, prefix string, parents []string) (map[string]any, []error) {
	fields := fieldIndex(t)
	out := make(map[string]any, len(raw))
	var errs []error
	for _, k := range d.inOrder(raw, prefix) {
		path := prefix + k
		f, ok := fields[strings.ToLower(k)]
		if !ok {
			errs = append(errs, d.errorAt(path, keyError(ErrUnknownKey, path)))
			continue
		}
		if _, dup := out[f.Name]; dup {
			errs = append(errs, d.errorAt(path, keyError(ErrDuplicateKey, path)))
			continue
		}
		v := raw[k]
		field := append(slices.Clone(parents), f.Name)
		st := structType(f.Type)
		switch {
		case st == nil || v == nil:
			d.leaves = append(d.leaves, leaf{field: field, path: path, typ: f.Type, value: v})
		case isObject(v):
			var nested []error
			v, nested = d.canonical(v.(map[string]any), st, path+".", field)
			errs = append(errs, nested...)
		default:
			errs = append(errs, d.errorAt(path, fmt.Errorf("%w: %q must be an object", ErrInvalidValue, path)))
			continue
		}
		out[f.Name] = v
	}
	return out, errs
}

// locate decodes each leaf on its own and returns an error, with the key's line, for each
// value api.DecodeConfigEntry rejects; nil if none is rejected alone.
func (d *document) locate() error {
	var errs []error
	for _, l := range d.leaves {
		raw := map[string]any{"Kind": api.MeshConfig}
		m := raw
		for _, name := range l.field[:len(l.field)-1] {
			next := map[string]any{}
			m[name] = next
			m = next
		}
		m[l.field[len(l.field)-1]] = l.value
		if _, err := api.DecodeConfigEntry(raw); err != nil {
			errs = append(errs, d.errorAt(l.path, fmt.Errorf("%w: %q cannot hold %#v (want %s)", ErrInvalidValue, l.path, l.value, l.typ)))
		}
	}
	return errors.Join(errs...)
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// inOrder returns the keys of raw in document order where lines are known, then by name,
// so that errors are reported in a stable order.
func (d *document) inOrder(raw map[string]any, prefix string) []string {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(d.lines[prefix+a], d.lines[prefix+b]), strings.Compare(a, b))
	})
	return keys
}

// fieldIndex maps the lower-case name and every alias of each exported field of t to the
// field.
func fieldIndex(t reflect.Type) map[string]reflect.StructField {
	index := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		index[strings.ToLower(f.Name)] = f
		if aliases, ok := f.Tag.Lookup("alias"); ok {
			for _, a := range strings.Split(aliases, ",") {
				index[strings.ToLower(a)] = f
			}
		}
	}
	return index
}

// structType returns the struct type t is or points to, or nil.
func structType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		return t
	}
	return nil
}
