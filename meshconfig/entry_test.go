package meshconfig_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/meshconfig"
)

func TestNew(t *testing.T) {
	for _, enable := range []bool{true, false} {
		e := meshconfig.New(enable)
		require.NotNil(t, e.Peering)
		assert.Equal(t, enable, e.Peering.PeerThroughMeshGateways, "got %v, want %v", e.Peering.PeerThroughMeshGateways, enable)
		assert.Equal(t, api.MeshConfig, e.GetKind())
		assert.Equal(t, api.MeshConfigMesh, e.GetName())
		assert.Equal(t, enable, meshconfig.Enabled(e))
	}
}

func TestEnabled(t *testing.T) {
	tests := []struct {
		name  string
		entry *api.MeshConfigEntry
		want  bool
	}{
		{name: "no entry", entry: nil, want: false},
		{name: "no peering block", entry: &api.MeshConfigEntry{}, want: false},
		{name: "flag off", entry: meshconfig.New(false), want: false},
		{name: "flag on", entry: meshconfig.New(true), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := meshconfig.Enabled(tt.entry)
			assert.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestSetPeerThroughMeshGateways(t *testing.T) {
	tests := []struct {
		name   string
		entry  *api.MeshConfigEntry
		enable bool
		want   *api.MeshConfigEntry
	}{
		{name: "nil enables", entry: nil, enable: true, want: meshconfig.New(true)},
		{name: "nil disables", entry: nil, enable: false, want: meshconfig.New(false)},
		{name: "adds peering block", entry: &api.MeshConfigEntry{ModifyIndex: 9}, enable: true,
			want: &api.MeshConfigEntry{ModifyIndex: 9, Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}}},
		{name: "turns off", entry: meshconfig.New(true), enable: false, want: meshconfig.New(false)},
		{name: "keeps other fields", entry: fullEntry(), enable: false, want: func() *api.MeshConfigEntry {
			e := fullEntry()
			e.Peering.PeerThroughMeshGateways = false
			return e
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := meshconfig.SetPeerThroughMeshGateways(tt.entry, tt.enable)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("got entry differing from want (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetPeerThroughMeshGatewaysCopies checks that the result shares no memory with its
// input: overwriting every field of the copy leaves the original as it was.
func TestSetPeerThroughMeshGatewaysCopies(t *testing.T) {
	original := filled(t, "x")
	got := meshconfig.SetPeerThroughMeshGateways(original, false)
	overwrite(t, reflect.ValueOf(got).Elem())
	if diff := cmp.Diff(filled(t, "x"), original); diff != "" {
		t.Errorf("changing the copy changed the original (-want +got):\n%s", diff)
	}
}

// overwrite changes every string, bool, slice element and map value reachable from v in
// place, without replacing pointers, slices or maps.
func overwrite(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("changed")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Pointer:
		if !v.IsNil() {
			overwrite(t, v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				overwrite(t, v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			overwrite(t, v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			v.SetMapIndex(k, reflect.ValueOf("changed").Convert(v.Type().Elem()))
		}
	default:
		t.Fatalf("overwrite: unhandled kind %s", v.Kind())
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		entry  *api.MeshConfigEntry
		want   []error // sentinels, in order; nil for a valid entry
		fields []string
	}{
		{name: "flag on", entry: meshconfig.New(true)},
		{name: "flag off", entry: meshconfig.New(false)},
		{name: "default partition and namespace spelled out", entry: &api.MeshConfigEntry{
			Partition: "default", Namespace: "default", Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}}},
		{name: "other partition without the flag", entry: &api.MeshConfigEntry{
			Partition: "ap1", TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true}}},
		{name: "other partition with the flag off", entry: &api.MeshConfigEntry{
			Partition: "ap1", Peering: &api.PeeringMeshConfig{}}},
		{name: "nil entry", entry: nil, want: []error{meshconfig.ErrNilEntry}},
		{name: "flag in other partition", entry: &api.MeshConfigEntry{
			Partition: "ap1", Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
			want: []error{meshconfig.ErrPartition}, fields: []string{"Partition"}},
		{name: "other namespace", entry: &api.MeshConfigEntry{Namespace: "team-a"},
			want: []error{meshconfig.ErrNamespace}, fields: []string{"Namespace"}},
		{name: "both", entry: &api.MeshConfigEntry{
			Namespace: "team-a", Partition: "ap1", Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
			want: []error{meshconfig.ErrNamespace, meshconfig.ErrPartition}, fields: []string{"Namespace", "Partition"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := meshconfig.Validate(tt.entry)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			for _, want := range tt.want {
				require.ErrorIs(t, err, want)
			}
			var got []string
			for _, e := range unjoin(err) {
				var verr *meshconfig.ValidationError
				if errors.As(e, &verr) {
					got = append(got, verr.Field)
				}
			}
			assert.Equal(t, tt.fields, got, "got fields %v, want %v", got, tt.fields)
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	err := meshconfig.Validate(&api.MeshConfigEntry{Partition: "ap1", Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}})
	want := `meshconfig: invalid Partition "ap1": PeerThroughMeshGateways is only valid in the "default" partition`
	require.EqualError(t, err, want)
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
