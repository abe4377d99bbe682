package testconsul

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Version is the Consul version the agents run.
const Version = "1.14.8"

// script is the repository path of the script that builds and caches the
// consul binary.
const script = "scripts/consul.sh"

// errNoRepoRoot reports that no directory above the working directory holds
// go.mod and the build script.
var errNoRepoRoot = errors.New("testconsul: repository root not found")

// errNoBinary reports that the build script printed no path of a file.
var errNoBinary = errors.New("testconsul: build script printed no binary path")

// binaryPath runs the build script once per test binary; a failure is kept
// so that later tests fail fast instead of rebuilding.
var binaryPath = sync.OnceValues(func() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testconsul: %w", err)
	}
	root, err := repoRoot(wd)
	if err != nil {
		return "", err
	}
	return runScript(filepath.Join(root, filepath.FromSlash(script)))
})

// Binary returns the path of the consul binary, building it with
// scripts/consul.sh when the cache lacks it; the first build on a machine
// takes a few minutes. The PEERINGGW_CONSUL and PEERINGGW_CACHE environment
// variables work as the script documents. Binary fails the test when it
// cannot provide a binary.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := binaryPath()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// repoRoot returns the nearest directory at or above dir that holds go.mod
// and the build script.
func repoRoot(dir string) (string, error) {
	for d := dir; ; {
		if isFile(filepath.Join(d, "go.mod")) && isFile(filepath.Join(d, filepath.FromSlash(script))) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w: no go.mod and %s above %s", errNoRepoRoot, script, dir)
		}
		d = parent
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// runScript runs the build script and returns the path it prints.
func runScript(path string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", path)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testconsul: %s failed: %w\n%s", path, err, stderr.Bytes())
	}
	bin := strings.TrimSpace(stdout.String())
	if !isFile(bin) {
		return "", fmt.Errorf("%w: %s printed %q\n%s", errNoBinary, path, bin, stderr.Bytes())
	}
	return bin, nil
}
