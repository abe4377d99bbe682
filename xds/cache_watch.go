package xds

import (
	"maps"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// watcher is a stream's wait for one type's resources to change.
type watcher interface {
	// respond sends the stream what changed among names (every name it asks for when
	// names is nil), if anything did or force is set, and reports whether it sent. It
	// runs with the typeCache's lock held.
	respond(c *typeCache, names []string, force bool) bool
}

// sotwWatch is a state-of-the-world stream's watch.
type sotwWatch struct {
	req *cachev3.Request
	sub cachev3.Subscription
	out chan cachev3.Response
}

// createSotw answers a state-of-the-world request now if the stream lacks something,
// else makes it wait. A new wildcard stream (clusters and listeners, as Envoy asks for
// them) whose version_info is the type's current content version already holds every
// resource of the type, from this process or from another replica, so it waits. A
// stream that names its resources gets them again: a version cannot say whether it holds
// a name it has just added to its request.
func (c *typeCache) createSotw(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	known, version := sub.ReturnedResources(), c.version()
	fresh := len(known) == 0
	if fresh && known != nil && sub.IsWildcard() && req.GetVersionInfo() == version {
		for _, e := range c.entries {
			known[e.name] = e.version
		}
	}
	force := req.GetVersionInfo() == "" || (fresh && req.GetVersionInfo() != version)
	w := &sotwWatch{req: req, sub: sub, out: out}
	if w.respond(c, nil, force) {
		return func() {}
	}
	return c.track(w)
}

func (w *sotwWatch) respond(c *typeCache, names []string, force bool) bool {
	changed, removed := c.diff(w.sub, names)
	if len(changed) == 0 && !force && (len(removed) == 0 || !c.fullState) {
		return false // state of the world cannot say that a non-full-state resource is gone
	}
	// A copy: go-control-plane's state-of-the-world server drops a response still queued
	// when its stream sends a new request of the type, and then the stream must still
	// hold what it held.
	known := record(maps.Clone(w.sub.ReturnedResources()), changed, removed)
	send := changed
	if c.fullState {
		send = c.wanted(w.sub)
	}
	w.out <- &sotwResponse{req: w.req, entries: send, version: c.version(), returned: known}
	return true
}

// deltaWatch is a delta stream's watch.
type deltaWatch struct {
	req *cachev3.DeltaRequest
	sub cachev3.Subscription
	out chan cachev3.DeltaResponse
}

// createDelta answers a delta request now if the stream lacks something, else makes it
// wait. The first request of a wildcard subscription is always answered: Envoy waits
// for that answer to finish its initialisation. An acknowledgement that changes no
// subscription costs the names changed since the stream's last response (see revKey).
func (c *typeCache) createDelta(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	if req.GetResponseNonce() != "" && len(req.GetResourceNamesSubscribe())+len(req.GetResourceNamesUnsubscribe()) == 0 {
		names = c.since(sub.ReturnedResources())
	}
	force := sub.IsWildcard() && req.GetResponseNonce() == ""
	w := &deltaWatch{req: req, sub: sub, out: out}
	if w.respond(c, names, force) {
		return func() {}
	}
	if known := sub.ReturnedResources(); known != nil {
		known[revKey] = c.revTag()
	}
	return c.track(w)
}

// respond sends what changed. The versions the stream holds are updated in the map it
// already has (its own, which go-control-plane stores back as the next map), so a
// response costs what it carries, not a copy of everything the stream holds. This is
// safe because go-control-plane's delta server sends every queued response before it
// reads the stream's next request.
func (w *deltaWatch) respond(c *typeCache, names []string, force bool) bool {
	changed, removed := c.diff(w.sub, names)
	if len(changed)+len(removed) == 0 && !force {
		return false
	}
	known := record(w.sub.ReturnedResources(), changed, removed)
	known[revKey] = c.revTag()
	w.out <- &deltaResponse{req: w.req, entries: changed, removed: removed, version: c.version(), next: known}
	return true
}

// record notes in known, the versions a stream holds, that it receives changed and
// drops removed, and returns it (a new map when known is nil).
func record(known map[string]string, changed []*entry, removed []string) map[string]string {
	if known == nil {
		known = make(map[string]string, len(changed))
	}
	for _, e := range changed {
		known[e.name] = e.version
	}
	for _, name := range removed {
		delete(known, name)
	}
	return known
}
