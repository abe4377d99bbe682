package xds_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
	"github.com/peeringgw/peeringgw/xds"
)

// TestRules runs the library's own cases under testdata/rules: each state.json gives
// want.json (the resource dump) and diagnostics.txt (one diagnostic a line). Both are
// golden files: go test ./xds -update rewrites them.
func TestRules(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "rules", "*", "state.json"))
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, statePath := range cases {
		dir := filepath.Dir(statePath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, diags := xds.Build(readState(t, statePath))
			require.NoError(t, res.Validate())
			got, err := json.Marshal(res)
			require.NoError(t, err)
			golden.Assert(t, filepath.Join(dir, "want.json"), append(got, '\n'))
			golden.Assert(t, filepath.Join(dir, "diagnostics.txt"), []byte(diagnosticLines(diags)))
		})
	}
}

func diagnosticLines(diags []xds.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
