package meshconfig_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/meshconfig"
)

// doc is one document written in the three formats.
type doc struct {
	hcl, json, yaml string
}

func (d doc) in(ext string) string {
	switch ext {
	case "hcl":
		return d.hcl
	case "json":
		return d.json
	}
	return d.yaml
}

// TestParseKeys checks the keys `consul config write` accepts: CamelCase, snake_case
// aliases, field names in any letter case, Name = "mesh", the read-only indexes, and
// weakly typed values.
func TestParseKeys(t *testing.T) {
	tests := []struct {
		name string
		doc  doc
		want *api.MeshConfigEntry
	}{
		{
			name: "snake case",
			doc: doc{
				hcl: "kind = \"mesh\"\npeering {\n  peer_through_mesh_gateways = true\n}\ntransparent_proxy {\n  mesh_destinations_only = true\n}\n" +
					"allow_enabling_permissive_mutual_tls = true\nvalidate_clusters = true\nmeta = {\n  peer_through_mesh_gateways = \"kept\"\n}\n",
				json: `{"kind": "mesh", "peering": {"peer_through_mesh_gateways": true}, "transparent_proxy": {"mesh_destinations_only": true},
					"allow_enabling_permissive_mutual_tls": true, "validate_clusters": true, "meta": {"peer_through_mesh_gateways": "kept"}}`,
				yaml: "kind: mesh\npeering:\n  peer_through_mesh_gateways: true\ntransparent_proxy:\n  mesh_destinations_only: true\n" +
					"allow_enabling_permissive_mutual_tls: true\nvalidate_clusters: true\nmeta:\n  peer_through_mesh_gateways: kept\n",
			},
			want: &api.MeshConfigEntry{
				Peering:                          &api.PeeringMeshConfig{PeerThroughMeshGateways: true},
				TransparentProxy:                 api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
				AllowEnablingPermissiveMutualTLS: true,
				ValidateClusters:                 true,
				Meta:                             map[string]string{"peer_through_mesh_gateways": "kept"},
			},
		},
		{
			name: "snake case nested",
			doc: doc{
				hcl: "kind = \"mesh\"\ntls {\n  incoming {\n    tls_min_version = \"TLSv1_2\"\n    cipher_suites = [\"A\"]\n  }\n}\n" +
					"http {\n  sanitize_x_forwarded_client_cert = true\n  incoming {\n    request_normalization {\n      merge_slashes = true\n    }\n  }\n}\n",
				json: `{"kind": "mesh", "tls": {"incoming": {"tls_min_version": "TLSv1_2", "cipher_suites": ["A"]}},
					"http": {"sanitize_x_forwarded_client_cert": true, "incoming": {"request_normalization": {"merge_slashes": true}}}}`,
				yaml: "kind: mesh\ntls:\n  incoming:\n    tls_min_version: TLSv1_2\n    cipher_suites: [A]\n" +
					"http:\n  sanitize_x_forwarded_client_cert: true\n  incoming:\n    request_normalization:\n      merge_slashes: true\n",
			},
			want: &api.MeshConfigEntry{
				TLS: &api.MeshTLSConfig{Incoming: &api.MeshDirectionalTLSConfig{TLSMinVersion: "TLSv1_2", CipherSuites: []string{"A"}}},
				HTTP: &api.MeshHTTPConfig{SanitizeXForwardedClientCert: true, Incoming: &api.MeshDirectionalHTTPConfig{
					RequestNormalization: &api.RequestNormalizationMeshConfig{MergeSlashes: true}}},
			},
		},
		{
			name: "any letter case",
			doc: doc{
				hcl:  "Kind = \"mesh\"\nPEERING {\n  peerthroughmeshgateways = true\n}\n",
				json: `{"Kind": "mesh", "PEERING": {"peerthroughmeshgateways": true}}`,
				yaml: "Kind: mesh\nPEERING:\n  peerthroughmeshgateways: true\n",
			},
			want: meshconfig.New(true),
		},
		{
			name: "name mesh and indexes",
			doc: doc{
				hcl:  "Kind = \"mesh\"\nName = \"mesh\"\nCreateIndex = 5\nModifyIndex = 6\n",
				json: `{"Kind": "mesh", "Name": "mesh", "CreateIndex": 5, "ModifyIndex": 6}`,
				yaml: "Kind: mesh\nName: mesh\nCreateIndex: 5\nModifyIndex: 6\n",
			},
			want: &api.MeshConfigEntry{CreateIndex: 5, ModifyIndex: 6},
		},
		{
			name: "weakly typed boolean",
			doc: doc{
				hcl:  "Kind = \"mesh\"\nPeering {\n  PeerThroughMeshGateways = \"true\"\n}\n",
				json: `{"Kind": "mesh", "Peering": {"PeerThroughMeshGateways": "true"}}`,
				yaml: "Kind: mesh\nPeering:\n  PeerThroughMeshGateways: \"true\"\n",
			},
			want: meshconfig.New(true),
		},
		{
			name: "object attribute and null",
			doc: doc{
				hcl:  "Kind = \"mesh\"\nPeering = {\n  PeerThroughMeshGateways = true\n}\nTLS = null\n",
				json: `{"Kind": "mesh", "Peering": {"PeerThroughMeshGateways": true}, "TLS": null}`,
				yaml: "Kind: mesh\nPeering: {PeerThroughMeshGateways: true}\nTLS:\n",
			},
			want: meshconfig.New(true),
		},
	}
	for _, tt := range tests {
		for _, f := range formats {
			t.Run(tt.name+"."+f.ext, func(t *testing.T) {
				got, err := f.parse([]byte(tt.doc.in(f.ext)), "in."+f.ext)
				require.NoError(t, err)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("got entry differing from want (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestParseErrors checks the errors every format reports; the lines are checked in the
// format's own tests.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		doc   doc
		want  error
		count int // number of *ParseError values joined in the error
	}{
		{name: "empty", doc: doc{hcl: "", json: "{}", yaml: ""}, want: meshconfig.ErrMissingKind, count: 1},
		{name: "missing kind", doc: doc{
			hcl: "Peering {\n  PeerThroughMeshGateways = true\n}\n", json: `{"Peering": {"PeerThroughMeshGateways": true}}`,
			yaml: "Peering:\n  PeerThroughMeshGateways: true\n",
		}, want: meshconfig.ErrMissingKind, count: 1},
		{name: "other kind", doc: doc{
			hcl: "Kind = \"service-defaults\"\n", json: `{"Kind": "service-defaults"}`, yaml: "Kind: service-defaults\n",
		}, want: meshconfig.ErrWrongKind, count: 1},
		{name: "kind in capitals", doc: doc{hcl: "Kind = \"Mesh\"\n", json: `{"Kind": "Mesh"}`, yaml: "Kind: Mesh\n"},
			want: meshconfig.ErrWrongKind, count: 1},
		{name: "kind not a string", doc: doc{hcl: "Kind = true\n", json: `{"Kind": true}`, yaml: "Kind: true\n"},
			want: meshconfig.ErrWrongKind, count: 1},
		{name: "kind twice", doc: doc{
			hcl: "Kind = \"mesh\"\nkind = \"mesh\"\n", json: `{"Kind": "mesh", "kind": "mesh"}`, yaml: "Kind: mesh\nkind: mesh\n",
		}, want: meshconfig.ErrDuplicateKey, count: 1},
		{name: "other name", doc: doc{
			hcl: "Kind = \"mesh\"\nName = \"global\"\n", json: `{"Kind": "mesh", "Name": "global"}`, yaml: "Kind: mesh\nName: global\n",
		}, want: meshconfig.ErrWrongName, count: 1},
		{name: "unknown keys", doc: doc{
			hcl:  "Kind = \"mesh\"\nMode = \"local\"\nPeering {\n  Enabled = true\n}\n",
			json: `{"Kind": "mesh", "Mode": "local", "Peering": {"Enabled": true}}`,
			yaml: "Kind: mesh\nMode: local\nPeering:\n  Enabled: true\n",
		}, want: meshconfig.ErrUnknownKey, count: 2},
		{name: "same field twice", doc: doc{
			hcl:  "Kind = \"mesh\"\nPeering {\n}\npeering {\n}\n",
			json: `{"Kind": "mesh", "Peering": {}, "peering": {}}`,
			yaml: "Kind: mesh\nPeering: {}\npeering: {}\n",
		}, want: meshconfig.ErrDuplicateKey, count: 1},
		{name: "alias and name", doc: doc{
			hcl:  "Kind = \"mesh\"\nPeering {\n  PeerThroughMeshGateways = true\n  peer_through_mesh_gateways = false\n}\n",
			json: `{"Kind": "mesh", "Peering": {"PeerThroughMeshGateways": true, "peer_through_mesh_gateways": false}}`,
			yaml: "Kind: mesh\nPeering:\n  PeerThroughMeshGateways: true\n  peer_through_mesh_gateways: false\n",
		}, want: meshconfig.ErrDuplicateKey, count: 1},
		{name: "block not an object", doc: doc{
			hcl: "Kind = \"mesh\"\nPeering = \"yes\"\n", json: `{"Kind": "mesh", "Peering": "yes"}`, yaml: "Kind: mesh\nPeering: yes\n",
		}, want: meshconfig.ErrInvalidValue, count: 1},
		{name: "not a boolean", doc: doc{
			hcl:  "Kind = \"mesh\"\nPeering {\n  PeerThroughMeshGateways = \"nope\"\n}\n",
			json: `{"Kind": "mesh", "Peering": {"PeerThroughMeshGateways": "nope"}}`,
			yaml: "Kind: mesh\nPeering:\n  PeerThroughMeshGateways: nope\n",
		}, want: meshconfig.ErrInvalidValue, count: 1},
		{name: "nested meta", doc: doc{
			hcl:  "Kind = \"mesh\"\nMeta = {\n  a = {\n    b = \"c\"\n  }\n}\n",
			json: `{"Kind": "mesh", "Meta": {"a": {"b": "c"}}}`,
			yaml: "Kind: mesh\nMeta:\n  a:\n    b: c\n",
		}, want: meshconfig.ErrInvalidValue, count: 1},
	}
	for _, tt := range tests {
		for _, f := range formats {
			t.Run(tt.name+"."+f.ext, func(t *testing.T) {
				got, err := f.parse([]byte(tt.doc.in(f.ext)), "in."+f.ext)
				require.ErrorIs(t, err, tt.want)
				assert.Nil(t, got)
				errs := unjoin(err)
				assert.Len(t, errs, tt.count, "got %d errors, want %d: %v", len(errs), tt.count, err)
				for _, e := range errs {
					var perr *meshconfig.ParseError
					require.ErrorAs(t, e, &perr)
					assert.Equal(t, "in."+f.ext, perr.Filename, "got input %q, want %q", perr.Filename, "in."+f.ext)
				}
			})
		}
	}
}

// lineCase is a parse error expected at a line.
type lineCase struct {
	name string
	in   string
	want error
	line int
}

// checkLines runs parse on each case and checks the sentinel and the line of the first
// *ParseError.
func checkLines(t *testing.T, parse func([]byte, string) (*api.MeshConfigEntry, error), cases []lineCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.in), "entry")
			require.ErrorIs(t, err, tt.want)
			var perr *meshconfig.ParseError
			require.True(t, errors.As(err, &perr), "got %T, want a *meshconfig.ParseError", err)
			assert.Equal(t, tt.line, perr.Line, "got line %d, want %d (%v)", perr.Line, tt.line, err)
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := meshconfig.ParseHCL([]byte("Kind = \"mesh\"\nPeering {\n  Enabled = true\n}\n"), "mesh.hcl")
	require.EqualError(t, err, `meshconfig: mesh.hcl:3: unknown key "Peering.Enabled"`)
	_, err = meshconfig.ParseJSON([]byte(`{"Peering": {}}`), "mesh.json")
	require.EqualError(t, err, `meshconfig: mesh.json: missing Kind`)
}

// FuzzParse feeds arbitrary text to every parser: each returns an entry or an error made of
// *ParseError values, and never panics.
func FuzzParse(f *testing.F) {
	for _, c := range goldenCases {
		for _, format := range formats {
			text, err := format.render(c.entry)
			require.NoError(f, err)
			f.Add(text)
		}
	}
	f.Add([]byte("kind = \"mesh\"\npeering { peer_through_mesh_gateways = true }\nMeta = { a = { b = 1 } }\n"))
	f.Add([]byte("Kind: mesh\nPeering: &a {PeerThroughMeshGateways: true}\nTLS: *a\n<<: {x: 1}\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		for _, format := range formats {
			entry, err := format.parse(text, "fuzz")
			if err == nil {
				require.NotNil(t, entry)
				continue
			}
			for _, e := range unjoin(err) {
				var perr *meshconfig.ParseError
				require.ErrorAs(t, e, &perr, "%s: got %T %v, want a *ParseError", format.ext, e, e)
			}
		}
	})
}
