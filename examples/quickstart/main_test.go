package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/golden"
)

func TestQuickstartGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"default", nil},
		{"enterprise-json", []string{"-edition", "enterprise", "-format", "json"}},
		{"both", []string{"-edition", "both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.NoError(t, run(tt.args, &out, &errOut))
			require.Empty(t, errOut.String())
			require.NotContains(t, out.String(), "diagnostic:", "the built-in scenario must build cleanly")
			golden.Assert(t, filepath.Join("testdata", tt.name+".golden"), out.Bytes())
		})
	}
}

func TestQuickstartStepsInOrder(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(nil, &out, &bytes.Buffer{}))
	last := -1
	for _, h := range []string{"Step 1.", "Step 2.", "Step 3.", "Step 4.", "Step 5.", "Step 6."} {
		i := strings.Index(out.String(), "== "+h)
		require.Greater(t, i, last, "%s missing or out of order", h)
		last = i
	}
	// The seed's four peering rule snippets appear verbatim.
	for _, snippet := range []string{
		`peering = "read"`,
		`{ "peering": "read" }`,
		`partition_prefix "" { peering = "read" }`,
		`{ "partition_prefix": { "": { "peering": "read" } } }`,
	} {
		require.Contains(t, out.String(), snippet+"\n")
	}
}

func TestQuickstartBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"Accepting": {"Datacenter": "dc1"}}`), 0o644))
	tests := []struct {
		name  string
		args  []string
		usage bool
	}{
		{"unknown edition", []string{"-edition", "oss"}, true},
		{"unknown format", []string{"-format", "yaml"}, true},
		{"unknown flag", []string{"-x"}, true},
		{"extra argument", []string{"now"}, true},
		{"missing scenario file", []string{"-scenario", filepath.Join(t.TempDir(), "none.json")}, false},
		{"incomplete scenario", []string{"-scenario", bad}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.args, &bytes.Buffer{}, &bytes.Buffer{})
			require.Error(t, err)
			require.Equal(t, tt.usage, errors.Is(err, errUsage), "usage error: %v", err)
		})
	}
}
