package xds

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ConsulVersion is a Consul release that generation targets, such as 1.22.0. It is a
// comparable value; the zero value is not a supported version.
type ConsulVersion struct {
	Major, Minor, Patch int
	// Pre is the pre-release label, such as "rc1"; empty for a release. A pre-release
	// comes before its release: 1.22.0-rc1 does not have what 1.22.0 added.
	Pre string
}

// The range of Consul versions generation can target, and the default target.
var (
	// MinConsulVersion is the oldest Consul version generation targets.
	MinConsulVersion = ConsulVersion{Major: 1, Minor: 14}
	// MaxConsulVersion bounds the newest: every 1.22 release is supported, nothing later.
	MaxConsulVersion = ConsulVersion{Major: 1, Minor: 22}
	// DefaultConsulVersion is the version generation targets when neither
	// [WithConsulVersion] nor the State's agent names one: the newest supported.
	DefaultConsulVersion = ConsulVersion{Major: 1, Minor: 22, Patch: 0}
)

// ErrConsulVersion is wrapped by the errors [ParseConsulVersion] returns and by the
// diagnostics of an agent version that is malformed or not supported.
var ErrConsulVersion = errors.New("xds: bad Consul version")

// ConsulVersionError reports a Consul version that is malformed or outside
// [MinConsulVersion] to [MaxConsulVersion] (every 1.14 and 1.22 release included).
type ConsulVersionError struct {
	// Input is the version as given.
	Input string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *ConsulVersionError) Error() string {
	return fmt.Sprintf("%v %q: %s", ErrConsulVersion, e.Input, e.Reason)
}

// Unwrap returns [ErrConsulVersion].
func (e *ConsulVersionError) Unwrap() error { return ErrConsulVersion }

// ParseConsulVersion reads a Consul version: "1.22.0", "v1.14.8", "1.18.2+ent" (build
// metadata such as "+ent" is dropped) or "1.21.3-rc1" (kept as Pre). A missing patch
// ("1.22") is 0. Errors are a [*ConsulVersionError] wrapping [ErrConsulVersion], for a
// malformed version or one outside 1.14 to 1.22.
func ParseConsulVersion(s string) (ConsulVersion, error) {
	bad := func(reason string) (ConsulVersion, error) {
		return ConsulVersion{}, &ConsulVersionError{Input: s, Reason: reason}
	}
	rest := strings.TrimPrefix(strings.TrimSpace(s), "v")
	rest, _, _ = strings.Cut(rest, "+")
	rest, pre, hasPre := strings.Cut(rest, "-")
	if hasPre && pre == "" {
		return bad("empty pre-release label")
	}
	parts := strings.Split(rest, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return bad("want MAJOR.MINOR.PATCH")
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return bad(fmt.Sprintf("%q is not a version number", p))
		}
		nums[i] = n
	}
	v := ConsulVersion{Major: nums[0], Minor: nums[1], Patch: nums[2], Pre: pre}
	if !v.Supported() {
		return bad(fmt.Sprintf("not supported: generation targets %s to %d.%d.x", MinConsulVersion.line(), MaxConsulVersion.Major, MaxConsulVersion.Minor))
	}
	return v, nil
}

// String returns the version as "1.22.0", or "1.21.3-rc1" for a pre-release.
func (v ConsulVersion) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// line returns "MAJOR.MINOR".
func (v ConsulVersion) line() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Compare orders versions as releases: -1 when v comes before o, +1 after, 0 when
// equal. A pre-release comes before its release; pre-release labels compare as
// strings.
func (v ConsulVersion) Compare(o ConsulVersion) int {
	if c := cmp.Or(cmp.Compare(v.Major, o.Major), cmp.Compare(v.Minor, o.Minor), cmp.Compare(v.Patch, o.Patch)); c != 0 {
		return c
	}
	switch {
	case v.Pre == o.Pre:
		return 0
	case v.Pre == "":
		return 1
	case o.Pre == "":
		return -1
	}
	return strings.Compare(v.Pre, o.Pre)
}

// Supported reports whether generation can target v: a 1.14 to 1.22 release.
func (v ConsulVersion) Supported() bool {
	line := ConsulVersion{Major: v.Major, Minor: v.Minor}
	return line.Compare(MinConsulVersion) >= 0 && line.Compare(MaxConsulVersion) <= 0
}
