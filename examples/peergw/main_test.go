package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
)

// binary is the peergw binary TestMain builds, with the race detector when the tests
// run with it.
var binary string

// raceEnabled is set by race_test.go when the tests run with -race.
var raceEnabled bool

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "peergw-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "peergw")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build peergw:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

// invocation is one run of the binary.
type invocation struct {
	args  []string
	env   []string // added to the environment, which has no CONSUL_ variable otherwise
	stdin string
}

// peergw runs the binary with args and no Consul environment.
func peergw(t *testing.T, args ...string) result {
	t.Helper()
	return invocation{args: args}.run(t)
}

func (inv invocation) run(t *testing.T) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, inv.args...)
	cmd.Env = append(cleanEnv(), inv.env...)
	cmd.Stdin = strings.NewReader(inv.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		res.code = exit.ExitCode()
	} else {
		require.NoError(t, err, "run peergw %v", inv.args)
	}
	return res
}

// cleanEnv is the test's environment without the variables the consul CLI reads. A
// binary built with the race detector exits at once instead of sleeping a second (its
// default), and still exits with status 66 when it found a race.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONSUL_") && !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	return append(env, "GORACE=atexit_sleep_ms=0")
}

// requireCode checks the exit status, showing the output when it differs.
func requireCode(t *testing.T, res result, want int) {
	t.Helper()
	require.Equal(t, want, res.code, "got exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, want, res.stdout, res.stderr)
}

// startConsul starts a Consul agent for a test that needs one; -short skips it.
func startConsul(t *testing.T, opts ...testconsul.Option) *testconsul.Agent {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Consul agents")
	}
	return testconsul.Start(t, opts...)
}

// deadAddr is an address where no Consul listens.
const deadAddr = "127.0.0.1:1"

func TestTopLevelUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, exitUsage, "Usage: peergw <command>"},
		{"-h", []string{"-h"}, exitOK, "Commands:"},
		{"help", []string{"help"}, exitOK, "Commands:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"render without subcommand", []string{"render"}, exitUsage, "want a subcommand"},
		{"render unknown subcommand", []string{"render", "policy"}, exitUsage, "render gateway"},
		{"render -h", []string{"render", "-h"}, exitOK, "Subcommands:"},
		{"token -h", []string{"token", "-h"}, exitOK, "token inspect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, tt.args...)
			requireCode(t, res, tt.wantCode)
			assert.Empty(t, res.stdout, "got stdout %q, want nothing", res.stdout)
			assert.Contains(t, res.stderr, tt.wantErr)
		})
	}
}

// TestHelp asks every subcommand for -h: exit status 0 and its usage on stderr, as the
// flag package does.
func TestHelp(t *testing.T) {
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			t.Parallel()
			for _, h := range []string{"-h", "--help"} {
				res := peergw(t, append(strings.Fields(cmd.name), h)...)
				requireCode(t, res, exitOK)
				assert.Empty(t, res.stdout)
				assert.Contains(t, res.stderr, "Usage: peergw "+cmd.name)
				assert.Contains(t, res.stderr, "Flags:")
			}
		})
	}
}

// TestBadFlags gives every subcommand a flag it does not have, and an argument where it
// takes none: exit status 2, the error and the usage on stderr, nothing on stdout.
func TestBadFlags(t *testing.T) {
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			t.Parallel()
			res := peergw(t, append(strings.Fields(cmd.name), "-no-such-flag")...)
			requireCode(t, res, exitUsage)
			assert.Empty(t, res.stdout)
			assert.Contains(t, res.stderr, "flag provided but not defined: -no-such-flag")
			assert.Contains(t, res.stderr, "Usage: peergw "+cmd.name)

			if cmd.name == "token inspect" {
				return // takes an argument
			}
			res = peergw(t, append(strings.Fields(cmd.name), "extra")...)
			requireCode(t, res, exitUsage)
			assert.Contains(t, res.stderr, `unexpected argument "extra"`)
			assert.Contains(t, res.stderr, "Usage: peergw "+cmd.name)
		})
	}
}

// TestUnreachableConsul runs every command that talks to Consul against an address where
// nothing listens: exit status 1 and a message naming the address.
func TestUnreachableConsul(t *testing.T) {
	addr := deadAddr
	tests := []struct {
		name string
		inv  invocation
	}{
		{"capture flag", invocation{args: []string{"capture", "-http-addr", addr}}},
		{"capture env", invocation{args: []string{"capture"}, env: []string{"CONSUL_HTTP_ADDR=" + addr}}},
		{"xds", invocation{args: []string{"xds", "-http-addr", addr}}},
		{"doctor", invocation{args: []string{"doctor", "-http-addr", addr}}},
		{"token inspect -issuer", invocation{args: []string{"token", "inspect", "-issuer", "-http-addr", addr, "-"}, stdin: testToken(t, "s3cr3t")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.inv.run(t)
			requireCode(t, res, exitFailure)
			assert.Contains(t, res.stderr, "cannot reach Consul at http://"+addr)
		})
	}
}
