package faultproxy

import (
	"fmt"
	"net/http"
)

// Fault is what a [Proxy] does with the traffic it receives.
type Fault struct {
	kind kind
	code int
}

type kind int

const (
	kindPass kind = iota
	kindRefuse
	kindReset
	kindHang
	kindStatus
)

// The faults. The zero Fault is Pass.
var (
	// Pass forwards everything, after the latency set with [Proxy.SetLatency].
	Pass = Fault{}
	// Refuse stops listening, so that connections are refused, as when nothing runs at
	// the target's address; open connections are closed.
	Refuse = Fault{kind: kindRefuse}
	// Reset accepts connections and resets them at once; open connections are closed.
	Reset = Fault{kind: kindReset}
	// Hang accepts connections and reads what they send, but forwards nothing either
	// way and answers nothing, as a target that stopped responding. Open connections
	// hang too; leaving Hang closes them.
	Hang = Fault{kind: kindHang}
)

// Status answers every request with HTTP status code and a short text body, without
// forwarding it. Only an HTTP proxy (see [HTTP]) can.
func Status(code int) Fault { return Fault{kind: kindStatus, code: code} }

// Code returns the HTTP status of a Status fault, and 0 for the others.
func (f Fault) Code() int { return f.code }

// String names the fault: "pass", "refuse", "reset", "hang" or "status 500".
func (f Fault) String() string {
	switch f.kind {
	case kindPass:
		return "pass"
	case kindRefuse:
		return "refuse"
	case kindReset:
		return "reset"
	case kindHang:
		return "hang"
	case kindStatus:
		return fmt.Sprintf("status %d", f.code)
	}
	return fmt.Sprintf("Fault(%d)", int(f.kind))
}

// body is the text a Status fault answers with.
func (f Fault) body() string {
	return fmt.Sprintf("faultproxy: injected %d %s", f.code, http.StatusText(f.code))
}
