package testconsul

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRepoRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "scripts"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "a", "go.mod"), []byte("module a\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module r\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", "consul.sh"), nil, 0o755))

	got, err := repoRoot(deep)
	require.NoError(t, err)
	assert.Equal(t, root, got, "got root %s, want %s (a go.mod without the script is skipped)", got, root)

	_, err = repoRoot(t.TempDir())
	require.ErrorIs(t, err, errNoRepoRoot)
}

func TestBinary(t *testing.T) {
	bin := Binary(t)
	fi, err := os.Stat(bin)
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0, "got mode %s for %s, want an executable file", fi.Mode(), bin)
}

func TestScriptVersion(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, err := repoRoot(wd)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(script)))
	require.NoError(t, err)
	assert.Contains(t, string(b), "\nversion="+Version+"\n", "got %s without version=%s, want it to build the version Version names", script, Version)
}

func TestRunScript(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "consul")
	require.NoError(t, os.WriteFile(bin, nil, 0o755))
	tests := []struct {
		name    string
		script  string
		want    string
		wantErr error
	}{
		{name: "prints the binary", script: "echo building >&2\necho " + bin + "\n", want: bin},
		{name: "build fails", script: "echo broken >&2\nexit 1\n", wantErr: &exec.ExitError{}},
		{name: "prints no file", script: "echo " + filepath.Join(dir, "missing") + "\n", wantErr: errNoBinary},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strconv.Itoa(i)+".sh")
			require.NoError(t, os.WriteFile(path, []byte(tt.script), 0o755))
			got, err := runScript(path)
			var exitErr *exec.ExitError
			switch {
			case tt.wantErr == nil:
				require.NoError(t, err)
			case errors.As(tt.wantErr, &exitErr):
				require.ErrorAs(t, err, &exitErr)
				assert.Contains(t, err.Error(), "broken", "got error %q without the script's output", err)
			default:
				require.ErrorIs(t, err, tt.wantErr)
			}
			assert.Equal(t, tt.want, got, "got path %q, want %q", got, tt.want)
		})
	}
}
