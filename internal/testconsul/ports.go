package testconsul

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Ports are picked in [portMin, portMax), below Linux's default ephemeral
// range (32768-60999), so that outgoing connections do not take an agent's
// port while it restarts.
const (
	portMin = 15000
	portMax = 32000
)

// maxPortProbes bounds the ports freePorts tries.
const maxPortProbes = 1000

// errNoFreePorts reports that freePorts found too few free ports.
var errNoFreePorts = errors.New("testconsul: no free loopback ports")

// FreePorts returns n distinct ports on which 127.0.0.1 accepts TCP and UDP,
// for servers a test starts beside its agents (a data plane's listeners, say).
// They are picked as the agents' ports are: below Linux's ephemeral range,
// so that outgoing connections do not take them before they are bound.
// Another process may still bind one first. It fails the test when too few
// ports are free.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	p, err := freePorts(n)
	if err != nil {
		t.Fatalf("testconsul: %v", err)
	}
	return p
}

// handedOut are the ports freePorts returned in this process: it never returns one
// twice, as a port handed out for a server that binds it later (a data plane's
// listener) is free until then, and an agent started meanwhile could take it.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePorts returns n distinct ports on which 127.0.0.1 accepts both TCP and
// UDP, as serf and DNS need both, none of which it returned before.
func freePorts(n int) ([]int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	tried := make(map[int]bool)
	var free []int
	for probes := 0; len(free) < n; probes++ {
		if probes == maxPortProbes {
			return nil, fmt.Errorf("%w: found %d of %d in %d probes", errNoFreePorts, len(free), n, probes)
		}
		p := portMin + rand.IntN(portMax-portMin)
		if tried[p] || handedOut.ports[p] {
			continue
		}
		tried[p] = true
		if portFree(p) {
			free = append(free, p)
		}
	}
	for _, p := range free {
		handedOut.ports[p] = true
	}
	return free, nil
}

// portFree reports whether TCP and UDP port p on 127.0.0.1 can be bound.
func portFree(p int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	u, err := net.ListenPacket("udp", addr)
	if err == nil {
		err = u.Close()
	}
	return errors.Join(err, l.Close()) == nil
}
