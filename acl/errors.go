package acl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/peeringgw/peeringgw/internal/consulerr"
)

// Sentinel errors. Parse and validation errors wrap one of these, so callers can tell
// the cases apart with errors.Is.
var (
	// ErrSyntax reports policy text that HCL 1, the grammar Consul reads policies with,
	// cannot read as HCL or JSON.
	ErrSyntax = errors.New("acl: syntax error")
	// ErrUnknownRule reports a rule keyword that Consul does not define at that place.
	// Consul ignores such keys, so the parsers report them as warnings (see
	// WithWarnings), or as errors with Strict.
	ErrUnknownRule = errors.New("acl: unknown rule")
	// ErrRuleShape reports a rule of the wrong shape: a block where a value is expected
	// or the other way round, or a value that is neither a string nor a whole number.
	// As a warning, it reports labels Consul ignores or a block without a label.
	ErrRuleShape = errors.New("acl: wrong rule shape")
	// ErrRuleNotAllowed reports a rule Consul defines but not at that place, such as
	// mesh or peering inside a namespace block.
	ErrRuleNotAllowed = errors.New("acl: rule not allowed here")
	// ErrInvalidAccess reports an access level that is not read, write or deny (or list,
	// for key and key_prefix rules).
	ErrInvalidAccess = errors.New("acl: invalid access level")
	// ErrMissingPolicy reports a named rule without its policy attribute.
	ErrMissingPolicy = errors.New("acl: missing policy")
	// ErrDuplicateRule reports a single-value rule set twice in one block. Consul keeps
	// the last value, so the parsers report it as a warning (see WithWarnings).
	ErrDuplicateRule = errors.New("acl: duplicate rule")
	// ErrNotHCLSafe reports a name or value that HCL cannot carry unchanged to Consul:
	// hclwrite escapes "${" and "%{", which Consul's HCL parser reads literally. Such a
	// policy can still be written as JSON.
	ErrNotHCLSafe = errors.New("acl: not representable in HCL")
	// ErrUnknownEdition reports an Edition value other than the defined constants.
	ErrUnknownEdition = errors.New("acl: unknown edition")
	// ErrInvalidArgument reports an argument no call can succeed with: an empty gateway
	// service name, an ACL policy name Consul rejects, a nil client or policy.
	ErrInvalidArgument = errors.New("acl: invalid argument")
	// ErrPermissionDenied reports a Consul API call refused with HTTP 403: the token used
	// lacks the permission the call needs (acl:read or acl:write for policies).
	// It is the same value as peering.ErrPermissionDenied and
	// meshconfig.ErrPermissionDenied.
	ErrPermissionDenied = consulerr.ErrPermissionDenied
)

// ParseError is an error in policy text: the file, the line, the rule it concerns and
// the underlying sentinel error.
type ParseError struct {
	// Filename is the name given to the parser.
	Filename string
	// Line is the 1-based line of the offending rule or value.
	Line int
	// Rule names the rule, including its enclosing blocks, e.g.
	// `partition "default" > namespace "web" > service "api" > policy`.
	Rule string
	// Err is the cause; it wraps one of the package's sentinel errors.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("acl: %s:%d: %s", e.Filename, e.Line, cause(e.Err))
	}
	return fmt.Sprintf("acl: %s:%d: %s: %s", e.Filename, e.Line, e.Rule, cause(e.Err))
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// ValidationError is a rule of a Policy value that Consul would reject.
type ValidationError struct {
	// Field names the rule, as ParseError.Rule does.
	Field string
	// Value is the offending value as text; it may be empty.
	Value string
	// Err is the cause; it wraps one of the package's sentinel errors.
	Err error
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("acl: %s: %s", e.Field, cause(e.Err))
	}
	return fmt.Sprintf("acl: %s %q: %s", e.Field, e.Value, cause(e.Err))
}

// Unwrap returns the cause.
func (e *ValidationError) Unwrap() error { return e.Err }

// cause is err's message without the package prefix, for nesting in another message.
func cause(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.TrimPrefix(err.Error(), "acl: ")
}
