package consulerr_test

import (
	"errors"
	"testing"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/internal/consulerr"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
)

// TestOneValue checks that every package exports the same permission error, so that one
// errors.Is test covers the errors of all of them.
func TestOneValue(t *testing.T) {
	for name, err := range map[string]error{
		"acl": acl.ErrPermissionDenied, "meshconfig": meshconfig.ErrPermissionDenied, "peering": peering.ErrPermissionDenied,
	} {
		if !errors.Is(err, consulerr.ErrPermissionDenied) || err != consulerr.ErrPermissionDenied {
			t.Errorf("%s.ErrPermissionDenied is %v, want the shared value", name, err)
		}
	}
}
