package peering

import (
	"context"
	"strconv"

	"github.com/hashicorp/consul/api"
)

// ruleServiceDefaults is what reading the gateway's service-defaults entry needs.
const ruleServiceDefaults = "service:<gateway service>:read"

type consulAgent struct{ *consul }

var _ Source[AgentConfig] = (*consulAgent)(nil)

// Read returns the agent's version and bind address. It never blocks and returns the
// zero Version: the Watcher polls it (an agent's version changes only when it restarts).
func (s *consulAgent) Read(ctx context.Context, _ Version) (AgentConfig, Version, error) {
	q, err := s.query(ctx, Version{})
	if err != nil {
		return AgentConfig{}, Version{}, err
	}
	var self struct{ Config AgentConfig }
	if _, err := s.client.Raw().Query("/v1/agent/self", &self, q); err != nil {
		return AgentConfig{}, Version{}, s.fail(ctx, ResourceAgentSelf, ruleAgentRead, err)
	}
	return self.Config, Version{}, nil
}

type consulServiceDefaults struct{ *consul }

var _ Source[*api.ServiceConfigEntry] = (*consulServiceDefaults)(nil)

// Read returns the service-defaults entry named after the gateway's service, in its
// partition and namespace, or nil when there is none. It looks the gateway up first
// (without blocking), then lists the kind, which blocks on the index and, unlike GET of
// one entry, still has an index when the entry does not exist. It asks Consul to list
// only that entry (a filter that Consul 1.16 and later apply, and earlier ones ignore)
// and keeps blocking while other entries of the kind change: the Version's Hash is the
// service name and the entry's ModifyIndex, so a changed entry, a deleted one and a
// gateway whose service was renamed are all a new Version (a rename is seen when the
// query next returns, within the wait time). Entries of other services that the token
// may not read are filtered out by Consul, which is no error.
func (s *consulServiceDefaults) Read(ctx context.Context, after Version) (*api.ServiceConfigEntry, Version, error) {
	gw, _, err := (&consulGateway{s.consul}).Read(ctx, Version{})
	if err != nil {
		return nil, Version{}, err
	}
	for {
		sd, next, err := s.list(ctx, gw, after)
		if err != nil || after.IsZero() || next.Hash != after.Hash || next.Index == after.Index {
			return sd, next, err
		}
		after = next // another entry of the kind changed: wait again
	}
}

// list reads the entry of gw's service once, blocking on after's index.
func (s *consulServiceDefaults) list(ctx context.Context, gw *api.AgentService, after Version) (*api.ServiceConfigEntry, Version, error) {
	q, err := s.query(ctx, Version{Index: after.Index})
	if err != nil {
		return nil, Version{}, err
	}
	q.Partition, q.Namespace = gw.Partition, gw.Namespace
	q.Filter = "Name == " + strconv.Quote(gw.Service)
	entries, qm, err := s.client.ConfigEntries().List(api.ServiceDefaults, q)
	if err != nil {
		return nil, Version{}, s.fail(ctx, ResourceServiceDefaults, ruleServiceDefaults, err)
	}
	v := indexVersion(after, qm)
	for _, e := range entries {
		if sd, ok := e.(*api.ServiceConfigEntry); ok && sd.Name == gw.Service {
			v.Hash = gw.Service + "@" + strconv.FormatUint(sd.ModifyIndex, 10)
			return sd, v, nil
		}
	}
	v.Hash = gw.Service + "@none"
	return nil, v, nil
}
