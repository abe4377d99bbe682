package meshconfig

import (
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/hashicorp/consul/api"
)

// The renderers share one ordered model of the entry, built by walking the api types with
// reflection so that a field added to api.MeshConfigEntry is rendered (and parsed) without
// changes here.
//
// A node is one key and its value:
//   - string, bool, int64, uint64, float64: a scalar attribute;
//   - []any: a list attribute (elements are scalars);
//   - map[string]string (sorted on output): a map attribute, such as Meta;
//   - []node: a nested object (an HCL block), from a struct field.
type node struct {
	key   string
	value any
}

// readOnly lists the fields Consul sets itself; they are never rendered.
var readOnly = map[string]bool{"CreateIndex": true, "ModifyIndex": true}

var (
	entryType   = reflect.TypeFor[api.MeshConfigEntry]()
	peeringType = reflect.TypeFor[api.PeeringMeshConfig]()
)

// entryTree returns the document for e: Kind first, then every set field in the order
// api.MeshConfigEntry declares it (the order of Consul's own JSON encoding of the type).
// Zero scalars, nil pointers and empty maps and lists are left out; a non-nil pointer to a
// struct is kept even when the struct is empty, and a Peering block always shows
// PeerThroughMeshGateways, so that "flag off" is written down rather than implied.
func entryTree(e *api.MeshConfigEntry) ([]node, error) {
	if e == nil {
		return nil, ErrNilEntry
	}
	fields, err := objectNodes(reflect.ValueOf(e).Elem(), "")
	if err != nil {
		return nil, err
	}
	return append([]node{{key: "Kind", value: api.MeshConfig}}, fields...), nil
}

// objectNodes returns the set fields of the struct v.
func objectNodes(v reflect.Value, path string) ([]node, error) {
	t := v.Type()
	keepZero := t == peeringType
	var out []node
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || readOnly[f.Name] {
			continue
		}
		value, ok, err := nodeValue(v.Field(i), path+f.Name)
		if err != nil {
			return nil, err
		}
		if ok || (keepZero && f.Type.Kind() == reflect.Bool) {
			out = append(out, node{key: f.Name, value: value})
		}
	}
	return out, nil
}

// nodeValue converts one field value; ok is false for a value that is left out.
func nodeValue(v reflect.Value, path string) (value any, ok bool, err error) {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return nil, false, fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidValue, path)
		}
		return v.String(), v.String() != "", nil
	case reflect.Bool:
		return v.Bool(), v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), v.Int() != 0, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), v.Uint() != 0, nil
	case reflect.Float32, reflect.Float64:
		return v.Float(), v.Float() != 0, nil
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false, nil
		}
		if v.Elem().Kind() != reflect.Struct {
			return nodeValue(v.Elem(), path)
		}
		fields, err := objectNodes(v.Elem(), path+".")
		return fields, err == nil, err
	case reflect.Struct:
		fields, err := objectNodes(v, path+".")
		return fields, len(fields) > 0, err
	case reflect.Slice:
		return listValue(v, path)
	case reflect.Map:
		return mapValue(v, path)
	default:
		return nil, false, fmt.Errorf("%w: cannot render %s of kind %s", ErrInvalidValue, path, v.Kind())
	}
}

func listValue(v reflect.Value, path string) (any, bool, error) {
	if v.Len() == 0 {
		return nil, false, nil
	}
	out := make([]any, v.Len())
	for i := range out {
		elem, _, err := nodeValue(v.Index(i), path)
		if err != nil {
			return nil, false, err
		}
		if _, nested := elem.([]node); nested {
			return nil, false, fmt.Errorf("%w: cannot render %s: a list of objects", ErrInvalidValue, path)
		}
		out[i] = elem
	}
	return out, true, nil
}

func mapValue(v reflect.Value, path string) (any, bool, error) {
	if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
		return nil, false, fmt.Errorf("%w: cannot render %s of type %s", ErrInvalidValue, path, v.Type())
	}
	if v.Len() == 0 {
		return nil, false, nil
	}
	out := make(map[string]string, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		k, value := iter.Key().String(), iter.Value().String()
		if !utf8.ValidString(k) || !utf8.ValidString(value) {
			return nil, false, fmt.Errorf("%w: %s holds a key or value that is not valid UTF-8", ErrInvalidValue, path)
		}
		out[k] = value
	}
	return out, true, nil
}
