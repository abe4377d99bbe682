package xds

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
)

// typeCache holds one gateway's resources of one type and the watches of the streams
// waiting for them to change. It plays the part of go-control-plane's LinearCache, with
// two differences that matter to a fleet of gateways:
//
//   - every version is a content hash, the state-of-the-world version of a type too, so
//     replicas given the same resources answer with the same versions, and an Envoy that
//     reconnects to another replica with the version it holds receives nothing again;
//   - an update costs each waiting stream the names that changed, not every name it
//     holds: a watch waits only while its stream is current, so only the changed names
//     can make it stale. A delta stream's acknowledgement is as cheap (see revKey).
type typeCache struct {
	typeURL   string
	fullState bool   // state-of-the-world responses carry every resource (clusters, listeners)
	id        string // tells this cache's revision tags from any other's

	mu      sync.Mutex
	entries map[string]*entry
	sum     uint64 // sum of the entries' keys: the type's content version
	rev     uint64 // updates applied
	log     [logSize][]string
	watches map[watcher]struct{}
}

// logSize is how many updates a typeCache remembers the names of, for streams that
// acknowledge a response after later updates.
const logSize = 64

// revKey is the key under which a typeCache notes, in a delta stream's map of the
// versions it holds, the revision at which that map was last known to be current. The
// map belongs to the stream (go-control-plane keeps it in the stream's subscription
// and passes it back with every request), so the note lives and dies with the stream.
// A resource name is never empty, so the key is never a resource's; it is never sent.
const revKey = ""

var cacheIDs atomic.Uint64

func newTypeCache(typeURL string) *typeCache {
	return &typeCache{
		typeURL:   typeURL,
		fullState: cachev3.ResourceRequiresFullStateInSotw(typeURL),
		id:        strconv.FormatUint(cacheIDs.Add(1), 36),
		entries:   map[string]*entry{},
		watches:   map[watcher]struct{}{},
	}
}

// version is the type's content version, the state-of-the-world version_info.
func (c *typeCache) version() string { return versionString(c.sum) }

// revTag is the value of revKey for a map current at the cache's revision.
func (c *typeCache) revTag() string { return c.id + ":" + strconv.FormatUint(c.rev, 10) }

// set replaces every resource.
func (c *typeCache) set(items []item) error {
	entries, err := newEntries(c.typeURL, items)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var gone []string
	for name := range c.entries {
		if entries[name] == nil {
			gone = append(gone, name)
		}
	}
	c.apply(entries, gone)
	return nil
}

// update adds or replaces the resources of upd and deletes those named in del.
func (c *typeCache) update(upd []item, del []string) error {
	entries, err := newEntries(c.typeURL, upd)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apply(entries, del)
	return nil
}

// apply changes the entries, logs the names whose content changed and tells the
// watches. It runs with c.mu held.
func (c *typeCache) apply(upd map[string]*entry, del []string) {
	changed := make([]string, 0, len(upd)+len(del))
	for name, e := range upd {
		old := c.entries[name]
		if old != nil && old.version == e.version {
			continue
		}
		if old != nil {
			c.sum -= old.key
		}
		c.entries[name] = e
		c.sum += e.key
		changed = append(changed, name)
	}
	for _, name := range del {
		if old := c.entries[name]; old != nil {
			c.sum -= old.key
			delete(c.entries, name)
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return
	}
	slices.Sort(changed)
	c.rev++
	c.log[c.rev%logSize] = changed
	for w := range c.watches {
		if w.respond(c, changed, false) {
			delete(c.watches, w)
		}
	}
}

// since returns the names changed after the revision noted in known, or nil when they
// are not known: no note, another cache's, or older than the log.
func (c *typeCache) since(known map[string]string) []string {
	id, revText, ok := strings.Cut(known[revKey], ":")
	rev, err := strconv.ParseUint(revText, 10, 64)
	if !ok || err != nil || id != c.id || rev > c.rev || c.rev-rev >= logSize {
		return nil
	}
	if rev == c.rev {
		return []string{}
	}
	if c.rev-rev == 1 {
		return c.log[c.rev%logSize]
	}
	var names []string
	for r := rev + 1; r <= c.rev; r++ {
		names = append(names, c.log[r%logSize]...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// track makes w wait for a change and returns the function that ends the wait.
func (c *typeCache) track(w watcher) func() {
	c.watches[w] = struct{}{}
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.watches, w)
	}
}

// wants reports whether sub asks for the resource name.
func wants(sub cachev3.Subscription, name string) bool {
	if sub.IsWildcard() {
		return true
	}
	_, ok := sub.SubscribedResources()[name]
	return ok
}

// diff returns the entries among names (every name sub asks for when names is nil)
// whose version sub does not hold, and the names it holds that are gone; in the order
// of names when given (the cache's names are sorted), else in no order.
func (c *typeCache) diff(sub cachev3.Subscription, names []string) (changed []*entry, removed []string) {
	known := sub.ReturnedResources()
	check := func(name string) {
		if name == revKey {
			return
		}
		e := c.entries[name]
		v, held := known[name]
		switch {
		case e != nil && (!held || v != e.version):
			changed = append(changed, e)
		case e == nil && held:
			removed = append(removed, name)
		}
	}
	switch {
	case names != nil:
		for _, name := range names {
			if wants(sub, name) {
				check(name)
			}
		}
	case sub.IsWildcard():
		for name := range c.entries {
			check(name)
		}
		for name := range known {
			if name != revKey && c.entries[name] == nil {
				removed = append(removed, name)
			}
		}
	default:
		for name := range sub.SubscribedResources() {
			check(name)
		}
	}
	return changed, removed
}

// wanted returns every entry sub asks for, by name: a full state-of-the-world answer.
func (c *typeCache) wanted(sub cachev3.Subscription) []*entry {
	var out []*entry
	if sub.IsWildcard() {
		out = make([]*entry, 0, len(c.entries))
		for _, e := range c.entries {
			out = append(out, e)
		}
	} else {
		for name := range sub.SubscribedResources() {
			if e := c.entries[name]; e != nil {
				out = append(out, e)
			}
		}
	}
	return out
}

// decodeAll returns the resources of c, sorted by name, decoded from their encodings:
// the cache keeps no message, only what it sends.
func decodeAll[M interface {
	proto.Message
	*T
}, T any](c *typeCache) ([]M, error) {
	c.mu.Lock()
	entries := make([]*entry, 0, len(c.entries))
	for _, e := range c.entries {
		entries = append(entries, e)
	}
	c.mu.Unlock()
	slices.SortFunc(entries, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	if err := encodeEntries(entries); err != nil {
		return nil, err
	}
	out := make([]M, len(entries))
	for i, e := range entries {
		out[i] = M(new(T))
		if err := proto.Unmarshal(e.any.GetValue(), out[i]); err != nil {
			return nil, fmt.Errorf("xds: decode %s %q: %w", c.typeURL, e.name, err)
		}
	}
	return out, nil
}

// versions returns the version of each resource, by name.
func (c *typeCache) versions() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.entries))
	for name, e := range c.entries {
		out[name] = e.version
	}
	return out
}

// waiting returns the number of watches waiting for a change.
func (c *typeCache) waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.watches)
}

// entryKey is what an entry adds to its type's content version.
func entryKey(name, version string) uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(name)
	_, _ = d.WriteString("\x00")
	_, _ = d.WriteString(version)
	return d.Sum64()
}
