package dataplane

import (
	"errors"
	"slices"
	"sync"
)

// batch collects the checked resources of one type from one update, and the
// rejections.
type batch[S any] struct {
	typeURL  string
	specs    map[string]S
	versions map[string]string
	errs     []error
}

func newBatch[S any](typeURL string) *batch[S] {
	return &batch[S]{typeURL: typeURL, specs: map[string]S{}, versions: map[string]string{}}
}

// add compiles resource r, named name in the update and inner inside itself, and keeps
// its spec or records its rejection.
func add[R any, S any](b *batch[S], name, version, inner string, compile func(R) (S, error), r R) {
	var err error
	var spec S
	switch {
	case name == "":
		err = invalid("name", "a resource name is required")
	case name != inner:
		err = invalid("name", "%q differs from the resource name", inner)
	default:
		if _, dup := b.specs[name]; dup {
			err = invalid("name", "duplicate resource")
		} else {
			spec, err = compile(r)
		}
	}
	if err != nil {
		b.reject(name, err)
		return
	}
	b.specs[name] = spec
	b.versions[name] = version
}

// reject records the rejection of resource name.
func (b *batch[S]) reject(name string, err error) {
	delete(b.specs, name)
	delete(b.versions, name)
	b.errs = append(b.errs, &ResourceError{TypeURL: b.typeURL, Name: name, Err: err})
}

// err joins the rejections, or is nil.
func (b *batch[S]) err() error { return errors.Join(b.errs...) }

// names returns the accepted names, sorted.
func (b *batch[S]) names() []string {
	out := make([]string, 0, len(b.specs))
	for n := range b.specs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// keys returns the keys of a map guarded by mu, sorted.
func keys[V any](mu *sync.RWMutex, m map[string]V) []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
