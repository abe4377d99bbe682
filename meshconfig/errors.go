package meshconfig

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/peeringgw/peeringgw/internal/consulerr"
)

const errPrefix = "meshconfig: "

// Validation errors, returned wrapped in a *ValidationError.
var (
	// ErrNilEntry is returned for a nil *api.MeshConfigEntry where an entry is required.
	ErrNilEntry = errors.New("meshconfig: nil entry")
	// ErrPartition is returned when PeerThroughMeshGateways is set on an entry outside the
	// default admin partition. Consul reads the flag only from the default partition, which
	// owns the traffic routed through mesh gateways to the Consul servers.
	ErrPartition = errors.New(`meshconfig: PeerThroughMeshGateways is only valid in the "default" partition`)
	// ErrNamespace is returned for an entry outside the default namespace: the mesh config
	// entry can only be created there (it applies to all namespaces).
	ErrNamespace = errors.New(`meshconfig: the mesh config entry is only valid in the "default" namespace`)
)

// Parse errors, returned wrapped in a *ParseError.
var (
	// ErrSyntax is returned for input that is not well-formed HCL, JSON or YAML.
	ErrSyntax = errors.New("meshconfig: syntax error")
	// ErrMissingKind is returned for a document without a top-level Kind (or kind) key.
	ErrMissingKind = errors.New("meshconfig: missing Kind")
	// ErrWrongKind is returned for a document whose Kind is not "mesh".
	ErrWrongKind = errors.New(`meshconfig: Kind is not "mesh"`)
	// ErrWrongName is returned for a document with a Name other than "mesh".
	ErrWrongName = errors.New(`meshconfig: Name is not "mesh"`)
	// ErrUnknownKey is returned for a key that is not a field of the mesh config entry.
	ErrUnknownKey = errors.New("meshconfig: unknown key")
	// ErrDuplicateKey is returned when a field is given twice (for example as Peering and
	// peering, or as two Peering blocks).
	ErrDuplicateKey = errors.New("meshconfig: duplicate key")
	// ErrInvalidValue is returned for a value of the wrong type, such as a list where an
	// object is expected or a string that is not a boolean.
	ErrInvalidValue = errors.New("meshconfig: invalid value")
)

// Errors of the functions that talk to Consul.
var (
	// ErrPermissionDenied is returned when Consul answers 403: writing the mesh config entry
	// needs mesh:write (or operator:write).
	// It is the same value as acl.ErrPermissionDenied and peering.ErrPermissionDenied.
	ErrPermissionDenied = consulerr.ErrPermissionDenied
	// ErrConflict is returned when every check-and-set write lost against a concurrent writer.
	ErrConflict = errors.New("meshconfig: concurrent modification")
	// ErrNilClient is returned by Read and Apply for a nil *api.Client.
	ErrNilClient = errors.New("meshconfig: nil client")
)

// ValidationError reports an invalid field of a mesh config entry.
type ValidationError struct {
	// Field is the entry's field, as Consul spells it (Partition, Namespace...).
	Field string
	// Value is the offending value as text; it may be empty.
	Value string
	// Err is the rule that failed, one of the ErrXxx sentinels.
	Err error
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Value == "" {
		return errPrefix + "invalid " + e.Field + ": " + trimPrefix(e.Err)
	}
	return errPrefix + "invalid " + e.Field + " " + strconv.Quote(e.Value) + ": " + trimPrefix(e.Err)
}

// Unwrap returns the rule that failed.
func (e *ValidationError) Unwrap() error { return e.Err }

// ParseError reports a document that cannot be read as a mesh config entry.
type ParseError struct {
	// Filename names the document, as given to the ParseXxx function.
	Filename string
	// Line is the 1-based line of the problem, or 0 when the format does not give one.
	Line int
	// Err is what went wrong; it wraps one of the ErrXxx sentinels.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	where := e.Filename
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	return errPrefix + where + ": " + trimPrefix(e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// trimPrefix returns err's message without the package prefix, so that wrapping types print
// it once.
func trimPrefix(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.TrimPrefix(err.Error(), errPrefix)
}

// keyError returns err (a sentinel) with the key path appended, as in
// `unknown key "Peering.Foo"`.
func keyError(sentinel error, path string) error {
	return fmt.Errorf("%w %q", sentinel, path)
}
