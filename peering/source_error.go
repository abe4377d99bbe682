package peering

import (
	"errors"
	"fmt"

	"github.com/peeringgw/peeringgw/internal/consulerr"
)

// Errors of the sources and the [Watcher].
var (
	// ErrPermissionDenied is matched by every [*PermissionError]: Consul refused the
	// request's ACL token (HTTP 403), or filtered the answer by ACLs. It is the same
	// value as acl.ErrPermissionDenied and meshconfig.ErrPermissionDenied.
	ErrPermissionDenied = consulerr.ErrPermissionDenied
	// ErrUnreachable is wrapped when a request did not reach Consul or got no answer:
	// connection refused, reset, or timed out.
	ErrUnreachable = errors.New("peering: consul unreachable")
	// ErrGatewayNotFound is wrapped when the agent has no service instance with the
	// gateway's ID.
	ErrGatewayNotFound = errors.New("peering: gateway service not registered with the agent")
	// ErrBadConfig is wrapped when a [Watcher] or [Sources] is not usable as configured.
	ErrBadConfig = errors.New("peering: bad configuration")
)

// The values of [PermissionError.Resource] for the parts of a State; the gateway service
// is "gateway service <id>".
const (
	ResourceAgentSelf  = "agent self"
	ResourceCARoots    = "CA roots"
	ResourceMeshConfig = "mesh config entry"
	ResourceServers    = "servers"
	ResourcePeerings   = "peerings"
	// ResourceServiceDefaults is the gateway service's service-defaults entry.
	ResourceServiceDefaults = "service-defaults entry"
)

// PermissionError reports that Consul refused to give a part of the State to the
// request's ACL token, and names the rule the token needs. errors.Is(err,
// ErrPermissionDenied) holds for it.
type PermissionError struct {
	// Resource is what was read: one of the Resource constants, or "gateway service <id>".
	Resource string
	// Rule is the permission the read needs, as Consul names permissions:
	// "peering:read", "agent:read", "service:<gateway>:read", "mesh:read", or
	// "service:consul:read and node:read" for the servers. It is empty when Consul
	// refused the token itself ("ACL not found": the token does not exist or expired).
	Rule string
	// Err is the error Consul answered with; when Consul filtered the answer instead, it
	// is nil or says why the answer looks filtered.
	Err error
}

// Error describes the refused read, the rule it needs and Consul's answer.
func (e *PermissionError) Error() string {
	msg := "peering: permission denied reading " + e.Resource
	if e.Rule != "" {
		msg += ": the token needs " + e.Rule
	}
	if e.Err != nil {
		msg = fmt.Sprintf("%s: %v", msg, e.Err)
	}
	return msg
}

// Is reports whether target is [ErrPermissionDenied].
func (e *PermissionError) Is(target error) bool { return target == ErrPermissionDenied }

// Unwrap returns Err.
func (e *PermissionError) Unwrap() error { return e.Err }
