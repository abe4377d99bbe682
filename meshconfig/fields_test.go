package meshconfig_test

import (
	"reflect"
	"testing"
)

// notInFull are the fields of api.MeshConfigEntry the full case leaves unset: the
// read-only indexes (never rendered) and the tenancy, which the partition cases set.
var notInFull = map[string]bool{"CreateIndex": true, "ModifyIndex": true, "Partition": true, "Namespace": true}

// TestFullEntrySetsEveryField fails when the consul/api module gains a mesh config
// entry field that the full golden case, and so every round trip, does not cover.
func TestFullEntrySetsEveryField(t *testing.T) {
	for _, path := range unsetFields(reflect.ValueOf(fullEntry()).Elem(), "") {
		t.Errorf("got %s unset in fullEntry, want every field of api.MeshConfigEntry set (a new field?)", path)
	}
}

// unsetFields returns the paths of the zero leaf fields under v, following pointers
// and nested structs.
func unsetFields(v reflect.Value, prefix string) []string {
	var out []string
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if prefix == "" && notInFull[name] {
			continue
		}
		path := prefix + name
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		if f.Kind() == reflect.Struct {
			out = append(out, unsetFields(f, path+".")...)
			continue
		}
		if f.IsZero() {
			out = append(out, path)
		}
	}
	return out
}
