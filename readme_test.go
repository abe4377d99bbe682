package peeringgw_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestREADMECompiles builds every Go snippet of README.md as a program of this module.
func TestREADMECompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := goBlock.FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks, "README.md has no Go snippets")
	dir, err := os.MkdirTemp(".", ".readme-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	for i, b := range blocks {
		pkg := filepath.Join(dir, "snippet"+string(rune('a'+i)))
		require.NoError(t, os.Mkdir(pkg, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(pkg, "main.go"), b[1], 0o644))
		out, err := exec.Command("go", "vet", "./"+pkg).CombinedOutput()
		require.NoError(t, err, "README snippet %d does not compile:\n%s", i+1, out)
	}
}
