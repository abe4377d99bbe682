package testconsul

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreePorts(t *testing.T) {
	got, err := freePorts(portCount)
	require.NoError(t, err)
	require.Len(t, got, portCount, "got %d ports, want %d", len(got), portCount)
	seen := map[int]bool{}
	for _, p := range got {
		assert.False(t, seen[p], "got port %d twice, want distinct ports", p)
		seen[p] = true
		assert.True(t, p >= portMin && p < portMax, "got port %d, want it in [%d, %d)", p, portMin, portMax)
		assert.True(t, portFree(p), "got port %d busy, want it free", p)
	}
}

// TestFreePortsNeverTwice: a port handed out is not handed out again in the process,
// though it is still free (a server that will bind it has not yet).
func TestFreePortsNeverTwice(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		got, err := freePorts(portCount)
		require.NoError(t, err)
		for _, p := range got {
			require.False(t, seen[p], "got port %d handed out twice", p)
			seen[p] = true
		}
	}
}

func TestFreePortsExported(t *testing.T) {
	got := FreePorts(t, 3)
	require.Len(t, got, 3, "got %d ports, want 3", len(got))
	for _, p := range got {
		assert.True(t, portFree(p), "got port %d busy, want it free", p)
	}
}

func TestPortFree(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tcp.Close()) })
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, udp.Close()) })

	tests := []struct {
		name string
		port int
	}{
		{name: "tcp taken", port: tcp.Addr().(*net.TCPAddr).Port},
		{name: "udp taken", port: udp.LocalAddr().(*net.UDPAddr).Port},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.False(t, portFree(tt.port), "got port %s free, want busy", strconv.Itoa(tt.port))
		})
	}
}
