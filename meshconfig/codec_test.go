package meshconfig_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
	"github.com/peeringgw/peeringgw/meshconfig"
)

// format is one of the three text forms of the entry.
type format struct {
	ext    string
	render func(*api.MeshConfigEntry) ([]byte, error)
	parse  func(src []byte, name string) (*api.MeshConfigEntry, error)
}

var formats = []format{
	{ext: "hcl", render: meshconfig.RenderHCL, parse: meshconfig.ParseHCL},
	{ext: "json", render: meshconfig.RenderJSON, parse: meshconfig.ParseJSON},
	{ext: "yaml", render: meshconfig.RenderYAML, parse: meshconfig.ParseYAML},
}

// goldenCases are the entries with golden files, testdata/<name>.<ext>.golden.
var goldenCases = []struct {
	name  string
	entry *api.MeshConfigEntry
}{
	{name: "enabled", entry: meshconfig.New(true)},
	{name: "disabled", entry: meshconfig.New(false)},
	{name: "no_peering", entry: &api.MeshConfigEntry{}},
	{name: "partition", entry: &api.MeshConfigEntry{
		Partition: "default",
		Namespace: "default",
		Peering:   &api.PeeringMeshConfig{PeerThroughMeshGateways: true},
	}},
	{name: "other_partition", entry: &api.MeshConfigEntry{
		Partition:        "ap1",
		TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
	}},
	{name: "full", entry: fullEntry()},
}

// fullEntry sets every field Consul documents for the mesh config entry.
func fullEntry() *api.MeshConfigEntry {
	return &api.MeshConfigEntry{
		TransparentProxy:                 api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
		AllowEnablingPermissiveMutualTLS: true,
		ValidateClusters:                 true,
		TLS: &api.MeshTLSConfig{
			Incoming: &api.MeshDirectionalTLSConfig{
				TLSMinVersion: "TLSv1_2",
				TLSMaxVersion: "TLSv1_3",
				CipherSuites:  []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			},
			Outgoing: &api.MeshDirectionalTLSConfig{
				TLSMinVersion: "TLSv1_2",
				TLSMaxVersion: "TLSv1_2",
				CipherSuites:  []string{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
			},
		},
		HTTP: &api.MeshHTTPConfig{
			SanitizeXForwardedClientCert: true,
			Incoming: &api.MeshDirectionalHTTPConfig{RequestNormalization: &api.RequestNormalizationMeshConfig{
				InsecureDisablePathNormalization: true,
				MergeSlashes:                     true,
				PathWithEscapedSlashesAction:     "UNESCAPE_AND_FORWARD",
				HeadersWithUnderscoresAction:     "REJECT_REQUEST",
			}},
		},
		Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true},
		Meta:    map[string]string{"team": "platform", "consul.hashicorp.com/source": "peeringgw"},
	}
}

func TestRenderGolden(t *testing.T) {
	for _, c := range goldenCases {
		for _, f := range formats {
			t.Run(c.name+"."+f.ext, func(t *testing.T) {
				got, err := f.render(c.entry)
				require.NoError(t, err)
				golden.Assert(t, filepath.Join("testdata", c.name+"."+f.ext+".golden"), got)
			})
		}
	}
}

// TestRenderSeed checks the flag's documented form byte for byte (the seed's "Modes"
// snippets and the mesh config entry reference).
func TestRenderSeed(t *testing.T) {
	want := map[string]string{
		"hcl":  "Kind = \"mesh\"\nPeering {\n  PeerThroughMeshGateways = true\n}\n",
		"json": "{\n  \"Kind\": \"mesh\",\n  \"Peering\": {\n    \"PeerThroughMeshGateways\": true\n  }\n}\n",
		"yaml": "Kind: mesh\nPeering:\n  PeerThroughMeshGateways: true\n",
	}
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			got, err := f.render(meshconfig.New(true))
			require.NoError(t, err)
			require.Equal(t, want[f.ext], string(got), "got %q, want %q", got, want[f.ext])
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name  string
		entry *api.MeshConfigEntry
		want  error
	}{
		{name: "nil entry", entry: nil, want: meshconfig.ErrNilEntry},
		{name: "invalid UTF-8 string", entry: &api.MeshConfigEntry{Partition: "\xff"}, want: meshconfig.ErrInvalidValue},
		{name: "invalid UTF-8 list element", entry: &api.MeshConfigEntry{
			TLS: &api.MeshTLSConfig{Outgoing: &api.MeshDirectionalTLSConfig{CipherSuites: []string{"\xfe"}}}}, want: meshconfig.ErrInvalidValue},
		{name: "invalid UTF-8 meta key", entry: &api.MeshConfigEntry{Meta: map[string]string{"\xff": "v"}}, want: meshconfig.ErrInvalidValue},
		{name: "invalid UTF-8 meta value", entry: &api.MeshConfigEntry{Meta: map[string]string{"k": "\xff"}}, want: meshconfig.ErrInvalidValue},
	}
	for _, tt := range tests {
		for _, f := range formats {
			t.Run(tt.name+"."+f.ext, func(t *testing.T) {
				got, err := f.render(tt.entry)
				require.ErrorIs(t, err, tt.want)
				assert.Nil(t, got)
			})
		}
	}
}

// TestRoundTrip parses what each renderer writes back to the same entry: the golden
// cases, every field of api.MeshConfigEntry (found by reflection, so a field added to the
// api type is covered), and strings that each syntax must escape.
func TestRoundTrip(t *testing.T) {
	cases := map[string]*api.MeshConfigEntry{
		"all fields":   filled(t, "x"),
		"tricky":       filled(t, "true"),
		"escapes":      filled(t, "a \"quoted\" ${var} %{if} \\ back\nnew line: # not a comment"),
		"unicode":      filled(t, "ünïcödé ☃"),
		"number-like":  filled(t, "0x1F"),
		"empty blocks": {TLS: &api.MeshTLSConfig{}, HTTP: &api.MeshHTTPConfig{}, Peering: &api.PeeringMeshConfig{}},
	}
	for _, c := range goldenCases {
		cases[c.name] = c.entry
	}
	for name, entry := range cases {
		for _, f := range formats {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				text, err := f.render(entry)
				require.NoError(t, err)
				got, err := f.parse(text, "in."+f.ext)
				require.NoError(t, err, "text:\n%s", text)
				if diff := cmp.Diff(entry, got); diff != "" {
					t.Errorf("round trip differs (-want +got):\n%s\ntext:\n%s", diff, text)
				}
			})
		}
	}
}

// filled returns an entry with every exported field set from s, except the read-only
// indexes, which are not rendered.
func filled(t *testing.T, s string) *api.MeshConfigEntry {
	t.Helper()
	e := &api.MeshConfigEntry{}
	fill(t, reflect.ValueOf(e).Elem(), s)
	e.CreateIndex, e.ModifyIndex = 0, 0
	return e
}

func fill(t *testing.T, v reflect.Value, s string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint64:
		v.SetUint(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), s)
			}
		}
	case reflect.Slice:
		list := reflect.MakeSlice(v.Type(), 2, 2)
		fill(t, list.Index(0), s+"1")
		fill(t, list.Index(1), s+"2")
		v.Set(list)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{s, "plain", "dotted.key/with-slash"} {
			key, value := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(t, key, k)
			fill(t, value, s+"-value")
			m.SetMapIndex(key, value)
		}
		v.Set(m)
	default:
		t.Fatalf("fill: unhandled kind %s: extend the test and the renderers", v.Kind())
	}
}

// FuzzRoundTrip renders an entry built from arbitrary strings in each format and parses it
// back: the result must be the same entry, or rendering must fail with ErrInvalidValue.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "x", "true", "null", "${x}", "%{x}", "a\nb", "\t\r\x00\x7f", "\u2028", "- a", "'\"", "\xff"} {
		f.Add(s, s+"k", true)
	}
	f.Fuzz(func(t *testing.T, s, key string, enable bool) {
		entry := &api.MeshConfigEntry{
			Partition:        s,
			TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: enable},
			TLS:              &api.MeshTLSConfig{Incoming: &api.MeshDirectionalTLSConfig{TLSMinVersion: s, CipherSuites: []string{s, key}}},
			Peering:          &api.PeeringMeshConfig{PeerThroughMeshGateways: enable},
			Meta:             map[string]string{key: s},
			ValidateClusters: enable,
			HTTP: &api.MeshHTTPConfig{Incoming: &api.MeshDirectionalHTTPConfig{RequestNormalization: &api.RequestNormalizationMeshConfig{
				InsecureDisablePathNormalization: enable,
				PathWithEscapedSlashesAction:     s,
				HeadersWithUnderscoresAction:     key,
			}}},
		}
		for _, format := range formats {
			text, err := format.render(entry)
			if err != nil {
				require.ErrorIs(t, err, meshconfig.ErrInvalidValue)
				continue
			}
			got, err := format.parse(text, "fuzz."+format.ext)
			require.NoError(t, err, "text:\n%s", text)
			if diff := cmp.Diff(entry, got); diff != "" {
				t.Fatalf("%s round trip differs (-want +got):\n%s\ntext:\n%s", format.ext, diff, text)
			}
		}
	})
}
