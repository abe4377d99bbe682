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

func TestLaunchExit(t *testing.T) {
	tests := []struct {
		name        string
		script      string
		wantPortErr bool
	}{
		{
			name:        "port taken",
			script:      "echo 'Error starting agent: listen tcp 127.0.0.1:1: bind: address already in use'\nexit 1\n",
			wantPortErr: true,
		},
		{name: "other failure", script: "echo 'Error: bad config' >&2\nexit 1\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "consul"+strconv.Itoa(i))
			require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"+tt.script), 0o755))
			a := &Agent{bin: bin, opts: newOptions(nil), HTTPAddr: "127.0.0.1:1"}
			a.logs.WriteString("address already in use (an earlier run, ignored)\n")

			err := a.launch()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr)
			assert.Equal(t, tt.wantPortErr, errors.Is(err, errPortInUse), "got error %v, want port in use %t", err, tt.wantPortErr)
			assert.Nil(t, a.proc, "got a process for a failed launch, want none")
		})
	}
}
