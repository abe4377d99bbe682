package dataplane

import (
	"errors"
	"fmt"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// Causes of a rejected resource, for errors.Is.
var (
	// ErrNotImplemented: the resource sets a field, an extension or a value this data
	// plane does not execute. Envoy may accept it; we refuse to ignore it.
	ErrNotImplemented = errors.New("dataplane: not implemented")
	// ErrInvalid: the resource is one Envoy itself rejects (a protoc-gen-validate rule, an
	// overlapping filter chain match, a terminal filter not last, ...).
	ErrInvalid = errors.New("dataplane: invalid")
	// ErrClosed: the data plane was closed.
	ErrClosed = errors.New("dataplane: closed")
)

// ResourceError is the rejection of one resource; Err wraps [ErrNotImplemented],
// [ErrInvalid] or a bind error, several joined with errors.Join.
type ResourceError struct {
	// TypeURL is the resource type, e.g. resourcev3.ListenerType.
	TypeURL string
	// Name is the resource name.
	Name string
	// Err is the cause.
	Err error
}

// Error names the resource and its cause.
func (e *ResourceError) Error() string {
	return fmt.Sprintf("dataplane: %s %q: %v", kindOf(e.TypeURL), e.Name, e.Err)
}

// Unwrap returns the cause.
func (e *ResourceError) Unwrap() error { return e.Err }

// notImplemented reports a field or value at path that this data plane does not execute.
func notImplemented(path, format string, args ...any) error {
	return fmt.Errorf("%s: %w", where(path, format, args), ErrNotImplemented)
}

// invalid reports a field or value at path that Envoy rejects.
func invalid(path, format string, args ...any) error {
	return fmt.Errorf("%s: %w", where(path, format, args), ErrInvalid)
}

func where(path, format string, args []any) string {
	msg := fmt.Sprintf(format, args...)
	switch {
	case path == "":
		return msg
	case msg == "":
		return path
	}
	return path + ": " + msg
}

// kindOf names a resource type in messages.
func kindOf(typeURL string) string {
	switch typeURL {
	case resourcev3.ClusterType:
		return "cluster"
	case resourcev3.EndpointType:
		return "endpoints"
	case resourcev3.ListenerType:
		return "listener"
	}
	return typeURL
}
