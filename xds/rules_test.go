package xds_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
	"github.com/peeringgw/peeringgw/xds"
)

// TestRules runs the library's own cases under testdata/rules: each state.json gives
// want.json (the resource dump) and diagnostics.txt (one diagnostic a line), built for
// the Consul version of the case's consul-version file. want.json and diagnostics.txt
// are golden files: go test ./xds -update rewrites them.
//
// A case with a KNOWN_FAILURE file (saying what Build gets wrong) holds the expected
// output that Build does not produce yet: it is skipped, never rewritten, and fails once
// Build produces that output, so that the file is deleted.
func TestRules(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "rules", "*", "state.json"))
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, statePath := range cases {
		dir := filepath.Dir(statePath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, diags := xds.Build(readState(t, statePath), xds.WithConsulVersion(caseVersion(t, dir)))
			require.NoError(t, res.Validate())
			got, err := json.Marshal(res)
			require.NoError(t, err)
			got = append(got, '\n')
			if reason, err := os.ReadFile(filepath.Join(dir, "KNOWN_FAILURE")); err == nil {
				expectFailure(t, dir, got, diagnosticLines(diags), reason)
				return
			}
			golden.Assert(t, filepath.Join(dir, "want.json"), got)
			golden.Assert(t, filepath.Join(dir, "diagnostics.txt"), []byte(diagnosticLines(diags)))
		})
	}
}

// expectFailure skips a known-failure case while its output differs from the expected
// files, and fails once it matches them.
func expectFailure(t *testing.T, dir string, got []byte, diags string, reason []byte) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(dir, "want.json"))
	require.NoError(t, err)
	wantDiags, err := os.ReadFile(filepath.Join(dir, "diagnostics.txt"))
	require.NoError(t, err)
	if bytes.Equal(got, want) && diags == string(wantDiags) {
		t.Fatalf("%s now gives the expected output: delete its KNOWN_FAILURE", dir)
	}
	t.Skipf("known failure: %s", bytes.TrimSpace(reason))
}

func diagnosticLines(diags []xds.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
