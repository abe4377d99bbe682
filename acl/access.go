package acl

import (
	"fmt"
	"strings"
)

// Access is an access level (Consul calls it a policy disposition): the value of a
// single-value rule such as peering = "read", or of the policy attribute of a named rule.
// The zero value means the rule is not set.
type Access string

// Access levels, as Consul spells them.
const (
	// AccessUnset is the zero value: no rule.
	AccessUnset Access = ""
	// AccessDeny denies every operation, and beats every other level when rules for the
	// same resource are merged.
	AccessDeny Access = "deny"
	// AccessRead allows reading.
	AccessRead Access = "read"
	// AccessList allows listing and reading; only key and key_prefix rules accept it.
	AccessList Access = "list"
	// AccessWrite allows reading, listing and writing.
	AccessWrite Access = "write"
)

// parseAccess converts rule text to an Access. Consul lower-cases the text before
// comparing it, so "READ" is read. allowList says whether list is allowed (key rules).
func parseAccess(s string, allowList bool) (Access, error) {
	a := Access(strings.ToLower(s))
	if err := a.check(allowList); err != nil {
		return AccessUnset, err
	}
	return a, nil
}

// check reports whether a is a level a rule may hold.
func (a Access) check(allowList bool) error {
	switch a {
	case AccessDeny, AccessRead, AccessWrite:
		return nil
	case AccessList:
		if allowList {
			return nil
		}
		return fmt.Errorf("%w %q: list is only valid in key and key_prefix rules", ErrInvalidAccess, string(a))
	}
	return fmt.Errorf("%w %q: want read, write or deny", ErrInvalidAccess, string(a))
}

// checkOptional is check for a rule that may be unset.
func (a Access) checkOptional(allowList bool) error {
	if a == AccessUnset {
		return nil
	}
	return a.check(allowList)
}

// Grants reports whether a rule with level a allows an operation that needs level need,
// as Consul enforces it: write allows everything, list allows list and read, read allows
// read, deny and unset allow nothing.
func (a Access) Grants(need Access) bool {
	switch a {
	case AccessWrite:
		return true
	case AccessList:
		return need == AccessList || need == AccessRead
	case AccessRead:
		return need == AccessRead
	}
	return false
}

// rank orders levels the way Consul merges duplicate rules: deny beats write beats list
// beats read beats unset.
func (a Access) rank() int {
	switch a {
	case AccessDeny:
		return 4
	case AccessWrite:
		return 3
	case AccessList:
		return 2
	case AccessRead:
		return 1
	}
	return 0
}

// merge returns the level that wins when a and b apply to the same resource.
func merge(a, b Access) Access {
	if b.rank() > a.rank() {
		return b
	}
	return a
}
