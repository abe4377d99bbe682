package peering

import (
	"context"

	"github.com/hashicorp/consul/api"
)

// staticVersion is the Version a static source returns: not the zero Version, so that a
// [Watcher] waits on it instead of polling.
var staticVersion = Version{Index: 1}

// Static returns a Source whose data never changes: the first read returns v at once,
// and a read after that Version waits until its context ends. Use it for the parts of a
// State that a host program knows up front.
func Static[T any](v T) Source[T] {
	return SourceFunc[T](func(ctx context.Context, after Version) (T, Version, error) {
		if after.IsZero() {
			return v, staticVersion, nil
		}
		<-ctx.Done()
		return v, staticVersion, ctx.Err()
	})
}

// StaticSources returns Sources that give every part of s, unchanging; a host program
// replaces the parts it reads from elsewhere, such as Peerings. s and what it references
// must not be modified afterwards.
func StaticSources(s *State) Sources {
	if s == nil {
		s = &State{}
	}
	return Sources{
		Datacenter:  Static(s.Datacenter),
		TrustDomain: Static(s.TrustDomain),
		Gateway:     Static[*api.AgentService](s.Gateway),
		MeshConfig:  Static[*api.MeshConfigEntry](s.MeshConfig),
		Servers:     Static[[]*api.ServiceEntry](s.Servers),
		Peerings:    Static[[]Peering](s.Peerings),

		ServiceDefaults: Static[*api.ServiceConfigEntry](s.ServiceDefaults),
		Agent:           Static(s.Agent),
	}
}
