package golden

import (
	"os"
	"path/filepath"
	"testing"
)

type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(string, ...any)          { r.failed = true }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = true }

func TestAssertMissingGoldenFails(t *testing.T) {
	if Updating() {
		t.Skip("meaningless with -update")
	}
	r := &recorder{TB: t}
	Assert(r, filepath.Join(t.TempDir(), "missing.golden"), []byte("x"))
	if !r.failed {
		t.Fatal("Assert passed for a missing golden file")
	}
}

func TestAssertDifferenceFails(t *testing.T) {
	if Updating() {
		t.Skip("meaningless with -update")
	}
	path := filepath.Join(t.TempDir(), "a.golden")
	if err := os.WriteFile(path, []byte("want"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Assert(r, path, []byte("got"))
	if !r.failed {
		t.Fatal("Assert passed for different content")
	}
	r = &recorder{TB: t}
	Assert(r, path, []byte("want"))
	if r.failed {
		t.Fatal("Assert failed for equal content")
	}
}
