package xds_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
	"github.com/peeringgw/peeringgw/xds"
)

// generationFile pins the output of every conformance and rules case, for the Consul
// version the case pins and for the default version, to the generation name hashed
// into resource versions: one line "<generation> <sha256>".
const generationFile = "testdata/generation.txt"

// TestGenerationPinned fails when the generated output of the known cases changes
// while xds.Generation stays the same, since resource versions would then stay the
// same for different resources, and an Envoy that reconnects to an upgraded control
// plane would keep what it has. Bump the generation in version.go, then run
// go test ./xds -update to pin the new output.
func TestGenerationPinned(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "*", "*", "state.json"))
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	h := sha256.New()
	for _, c := range cases {
		state := readState(t, c)
		for _, opts := range [][]xds.BuildOption{{xds.WithConsulVersion(caseVersion(t, filepath.Dir(c)))}, nil} {
			res, _ := xds.Build(state, opts...)
			out, err := json.Marshal(res)
			require.NoError(t, err)
			h.Write([]byte(c + "\n"))
			h.Write(out)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	pinned := map[string]string{}
	data, err := os.ReadFile(generationFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for sc := bufio.NewScanner(bytes.NewReader(data)); sc.Scan(); {
		if gen, hash, ok := strings.Cut(sc.Text(), " "); ok {
			pinned[gen] = hash
		}
	}
	want, ok := pinned[xds.Generation]
	switch {
	case ok && want != sum:
		t.Fatalf("the output of the known cases changed (sha256 %s), but the generation is still %q: bump it in version.go, then run go test ./xds -update", sum, xds.Generation)
	case !ok && !golden.Updating():
		t.Fatalf("%s has no line for generation %q: run go test ./xds -update", generationFile, xds.Generation)
	case !ok:
		data = append(data, []byte(xds.Generation+" "+sum+"\n")...)
		require.NoError(t, os.WriteFile(generationFile, data, 0o644))
	}
}
