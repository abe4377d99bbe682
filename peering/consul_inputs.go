package peering

import (
	"context"

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
// one entry, still has an index when the entry does not exist. Entries of other
// services that the token may not read are filtered out by Consul, which is no error.
func (s *consulServiceDefaults) Read(ctx context.Context, after Version) (*api.ServiceConfigEntry, Version, error) {
	gw, _, err := (&consulGateway{s.consul}).Read(ctx, Version{})
	if err != nil {
		return nil, Version{}, err
	}
	q, err := s.query(ctx, after)
	if err != nil {
		return nil, Version{}, err
	}
	q.Partition, q.Namespace = gw.Partition, gw.Namespace
	entries, qm, err := s.client.ConfigEntries().List(api.ServiceDefaults, q)
	if err != nil {
		return nil, Version{}, s.fail(ctx, ResourceServiceDefaults, ruleServiceDefaults, err)
	}
	for _, e := range entries {
		if sd, ok := e.(*api.ServiceConfigEntry); ok && sd.Name == gw.Service {
			return sd, indexVersion(after, qm), nil
		}
	}
	return nil, indexVersion(after, qm), nil
}
