package xds

import (
	"slices"
	"strings"
)

// delta is the per-name difference of two Models, per resource type: the names of the
// resources added or changed, and of those removed. A name is never in both lists of a
// type.
type delta struct {
	clusters, endpoints, listeners                      []string
	removedClusters, removedEndpoints, removedListeners []string
}

func (d *delta) empty() bool {
	return len(d.clusters)+len(d.endpoints)+len(d.listeners)+
		len(d.removedClusters)+len(d.removedEndpoints)+len(d.removedListeners) == 0
}

// cluster records the difference between the old and new cluster of one name; either
// may be nil.
func (d *delta) cluster(o, n *Cluster) {
	switch {
	case o == nil && n == nil:
	case n == nil:
		d.removedClusters = append(d.removedClusters, o.Name)
		if o.hasAssignment() {
			d.removedEndpoints = append(d.removedEndpoints, o.Name)
		}
	case o == nil:
		d.clusters = append(d.clusters, n.Name)
		if n.hasAssignment() {
			d.endpoints = append(d.endpoints, n.Name)
		}
	default:
		if !o.sameResource(n) {
			d.clusters = append(d.clusters, n.Name)
		}
		switch {
		case n.hasAssignment() && !o.sameAssignment(n):
			d.endpoints = append(d.endpoints, n.Name)
		case !n.hasAssignment() && o.hasAssignment():
			d.removedEndpoints = append(d.removedEndpoints, n.Name)
		}
	}
}

// listener records the difference between the old and new listener of one name.
func (d *delta) listener(o, n *Listener) {
	switch {
	case o == nil && n == nil:
	case n == nil:
		d.removedListeners = append(d.removedListeners, o.Name)
	case o == nil || !o.Equal(n):
		d.listeners = append(d.listeners, n.Name)
	}
}

// diffModels records in d the difference from old (nil for none) to m.
func diffModels(old, m *Model, d *delta) {
	if old == nil {
		old = &Model{}
	}
	mergeByName(old.Clusters, m.Clusters, func(c *Cluster) string { return c.Name }, d.cluster)
	mergeByName(old.Listeners, m.Listeners, func(l *Listener) string { return l.Name }, d.listener)
}

// mergeByName walks two lists sorted by name and calls f with the elements of each
// name, nil where a list has none.
func mergeByName[T any](old, cur []T, name func(*T) string, f func(o, n *T)) {
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && name(&old[i]) < name(&cur[j])):
			f(&old[i], nil)
			i++
		case i == len(old) || name(&old[i]) > name(&cur[j]):
			f(nil, &cur[j])
			j++
		default:
			f(&old[i], &cur[j])
			i, j = i+1, j+1
		}
	}
}

// findCluster returns the cluster named name in a list sorted by name, or nil.
func findCluster(cs []Cluster, name string) *Cluster {
	i, ok := slices.BinarySearchFunc(cs, name, func(c Cluster, n string) int { return strings.Compare(c.Name, n) })
	if !ok {
		return nil
	}
	return &cs[i]
}

// patch updates the Model after the candidates changed (r.cands holds the new ones),
// touching only the names they and the local servers affect, and records in d what
// changed.
func (r *resolver) patch(changes []candidateChange, d *delta) {
	var affected []string
	for _, ch := range changes {
		if o := ch.old; o != nil && o.ok {
			lo, hi := groupOf(r.sorted, o.target.ServerName)
			k := lo + slices.Index(r.sorted[lo:hi], o)
			r.sorted = slices.Delete(r.sorted, k, k+1)
			affected = append(affected, o.target.ServerName)
		}
		if n := ch.cur; n != nil && n.ok {
			k, _ := slices.BinarySearchFunc(r.sorted, n, byNameRank)
			r.sorted = slices.Insert(r.sorted, k, n)
			affected = append(affected, n.target.ServerName)
		}
	}
	old := r.model
	accept, hasAccept := acceptCluster(r.gw, r.local)
	oldAccept := findCluster(old.Clusters, r.gw.acceptName)
	if hasAccept != (oldAccept != nil) || (hasAccept && !accept.Equal(oldAccept)) {
		affected = append(affected, r.gw.acceptName)
	}
	slices.Sort(affected)
	affected = slices.Compact(affected)

	m := &Model{Clusters: slices.Clone(old.Clusters), Listeners: old.Listeners}
	peers := old.listenerPeers()
	namesChanged := false
	for _, name := range affected {
		var c *Cluster
		if name == accept.Name && hasAccept {
			c = &accept
		} else if lo, hi := groupOf(r.sorted, name); lo < hi {
			pc := peerCluster(r.gw, r.sorted[lo])
			c = &pc
		}
		o := findCluster(old.Clusters, name)
		if d != nil {
			d.cluster(o, c)
		}
		m.Clusters = setCluster(m.Clusters, name, c)
		if name != r.gw.acceptName && (o == nil) != (c == nil) {
			namesChanged = true
			peers = setName(peers, name, c != nil)
		}
	}
	if namesChanged || hasAccept != (oldAccept != nil) {
		m.Listeners = listeners(r.gw, r.local, peers)
		if d != nil {
			mergeByName(old.Listeners, m.Listeners, func(l *Listener) string { return l.Name }, d.listener)
		}
	}
	r.model = m
}

// listenerPeers returns the peer names the listeners share.
func (m *Model) listenerPeers() []string {
	if len(m.Listeners) == 0 {
		return nil
	}
	return m.Listeners[0].Peers
}

// setCluster puts c (nil to remove) under name in a list sorted by name, in place.
func setCluster(cs []Cluster, name string, c *Cluster) []Cluster {
	i, ok := slices.BinarySearchFunc(cs, name, func(x Cluster, n string) int { return strings.Compare(x.Name, n) })
	switch {
	case ok && c != nil:
		cs[i] = *c
	case ok:
		cs = slices.Delete(cs, i, i+1)
	case c != nil:
		cs = slices.Insert(cs, i, *c)
	}
	return cs
}

// setName returns a copy of the sorted names with name added or removed.
func setName(names []string, name string, present bool) []string {
	i, ok := slices.BinarySearch(names, name)
	switch {
	case ok && !present:
		return slices.Delete(slices.Clone(names), i, i+1)
	case !ok && present:
		return slices.Insert(slices.Clone(names), i, name)
	}
	return names
}
