package xds_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

const conformanceDir = "testdata/conformance"

// TestConformance compares Build with Consul's own output for every case, each built
// for the Consul version its consul-version file names.
func TestConformance(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(conformanceDir, "*", "state.json"))
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, statePath := range cases {
		dir := filepath.Dir(statePath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			state := readState(t, statePath)
			res, _ := xds.Build(state, xds.WithConsulVersion(caseVersion(t, dir)))
			require.NoError(t, res.Validate())
			got, err := json.Marshal(res)
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join(dir, "want.json"))
			require.NoError(t, err)
			if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, got)); diff != "" {
				t.Errorf("resources differ from Consul's (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConformanceCopiesCurrent checks that the cases kept here are the shared corpus's,
// where that corpus is present next to the repository.
func TestConformanceCopiesCurrent(t *testing.T) {
	shared := filepath.Join("..", "..", "shared", "conformance", "cases")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("no shared corpus at %s", shared)
	}
	files, err := filepath.Glob(filepath.Join(shared, "*", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		rel, err := filepath.Rel(shared, f)
		require.NoError(t, err)
		want, err := os.ReadFile(f)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(conformanceDir, rel))
		require.NoError(t, err, "case file %s is missing here", rel)
		require.True(t, bytes.Equal(want, got), "%s differs from the shared corpus", rel)
	}
}

// caseVersion reads the Consul version a case directory pins in its consul-version
// file; a case without one fails, so that every case says which Consul it follows.
func caseVersion(t *testing.T, dir string) xds.ConsulVersion {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "consul-version"))
	require.NoError(t, err, "every case pins its Consul version in a consul-version file")
	v, err := xds.ParseConsulVersion(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	return v
}

func readState(t *testing.T, path string) *peering.State {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s, err := peering.DecodeState(f)
	require.NoError(t, err)
	return s
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}
