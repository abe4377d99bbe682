package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/peeringgw/peeringgw/internal/consulsim"
	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
)

// BenchmarkServeChange measures "peergw serve" from outside the process, as an operator
// sees it: the binary reads an HTTP server that answers like Consul 1.14.8
// (internal/consulsim) and serves a delta xDS client subscribed to every resource, as
// Envoy is. One op: one peering's addresses change in Consul, until the client has
// received the new endpoints. It reports the CPU time the serve process spent per op
// (user and system, from /proc; the wall time includes serve's default 100 ms quiet
// period) and its peak resident memory.
func BenchmarkServeChange(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs /proc")
	}
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			sim := consulsim.New(b, n)
			p := startServe(b, nil, "-http-addr", sim.URL(), "-gateway-id", consulsim.GatewayID)
			client, err := xdsclient.Dial(b.Context(), p.dialXDS(b), consulsim.GatewayID)
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			names := make([]string, 0, n+1)
			for i := range n {
				names = append(names, load.PeerServerName(i))
			}
			for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
				if err := client.Subscribe(typ); err != nil {
					b.Fatal(err)
				}
			}
			if err := client.Subscribe(resourcev3.EndpointType, names...); err != nil {
				b.Fatal(err)
			}
			got := received{}
			recvUntil(b, client, got, func(r received) bool { return len(r[resourcev3.EndpointType]) == n })
			cpu0 := procCPU(b, p.cmd.Process.Pid)
			i := 0
			for b.Loop() {
				peer := i % n
				name := load.PeerServerName(peer)
				before := got[resourcev3.EndpointType][name].GetVersion()
				sim.SetPeeringAddresses(peer, (i/n)%2 == 0)
				recvUntil(b, client, got, func(r received) bool { return r[resourcev3.EndpointType][name].GetVersion() != before })
				i++
			}
			b.ReportMetric(float64(procCPU(b, p.cmd.Process.Pid)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(procPeakRSS(b, p.cmd.Process.Pid))/(1<<20), "peak-RSS-MB")
		})
	}
}

// procCPU returns the user and system CPU time process pid has used.
func procCPU(tb testing.TB, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The fields after the command name, which is in parentheses: utime and stime are
	// the 14th and 15th fields of the line, in clock ticks (100 per second on Linux).
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	ticks := 0
	for _, f := range fields[11:13] {
		n, err := strconv.Atoi(f)
		if err != nil {
			tb.Fatal(err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// procPeakRSS returns the peak resident memory of process pid (VmHWM).
func procPeakRSS(tb testing.TB, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM")
	return 0
}
