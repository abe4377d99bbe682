package peering_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

func ExampleWriteCapture() {
	s := &peering.State{
		Datacenter:  "dc1",
		TrustDomain: "11111111-2222-3333-4444-555555555555.consul",
		MeshConfig:  &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
		Peerings: []peering.Peering{{
			Peering:               api.Peering{Name: "dc2", State: api.PeeringStateActive, PeerServerName: "server.dc2.peering.td2.consul"},
			ManualServerAddresses: []string{"gw.dc2.example.com:443"},
		}},
	}
	if err := peering.WriteCapture(os.Stdout, s); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {
	//   "Datacenter": "dc1",
	//   "TrustDomain": "11111111-2222-3333-4444-555555555555.consul",
	//   "Gateway": null,
	//   "MeshConfig": {
	//     "Kind": "mesh",
	//     "TransparentProxy": {
	//       "MeshDestinationsOnly": false
	//     },
	//     "Peering": {
	//       "PeerThroughMeshGateways": true
	//     },
	//     "CreateIndex": 0,
	//     "ModifyIndex": 0
	//   },
	//   "Servers": null,
	//   "Peerings": [
	//     {
	//       "ID": "",
	//       "Name": "dc2",
	//       "State": "ACTIVE",
	//       "PeerServerName": "server.dc2.peering.td2.consul",
	//       "StreamStatus": {
	//         "ImportedServices": null,
	//         "ExportedServices": null,
	//         "LastHeartbeat": null,
	//         "LastReceive": null,
	//         "LastSend": null
	//       },
	//       "CreateIndex": 0,
	//       "ModifyIndex": 0,
	//       "Remote": {
	//         "Partition": "",
	//         "Datacenter": ""
	//       },
	//       "ManualServerAddresses": [
	//         "gw.dc2.example.com:443"
	//       ]
	//     }
	//   ]
	// }
}

// A Watcher with sources of a host program's own; ConsulSources gives them all from
// Consul instead.
func ExampleWatcher() {
	static := func(v string) peering.SourceFunc[string] {
		return func(context.Context, peering.Version) (string, peering.Version, error) {
			return v, peering.Version{}, nil // the zero Version: polled, not blocking
		}
	}
	src := peering.Sources{
		Datacenter:  static("dc1"),
		TrustDomain: static("td.consul"),
		Gateway: peering.SourceFunc[*api.AgentService](func(context.Context, peering.Version) (*api.AgentService, peering.Version, error) {
			return &api.AgentService{Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Port: 8443}, peering.Version{}, nil
		}),
		MeshConfig: peering.SourceFunc[*api.MeshConfigEntry](func(context.Context, peering.Version) (*api.MeshConfigEntry, peering.Version, error) {
			return nil, peering.Version{}, nil // no mesh entry
		}),
		Servers: peering.SourceFunc[[]*api.ServiceEntry](func(context.Context, peering.Version) ([]*api.ServiceEntry, peering.Version, error) {
			return nil, peering.Version{}, nil
		}),
		Peerings: peering.SourceFunc[[]peering.Peering](func(context.Context, peering.Version) ([]peering.Peering, peering.Version, error) {
			return []peering.Peering{{Peering: api.Peering{Name: "dc2", PeerServerAddresses: []string{"10.1.0.1:8443"}}}}, peering.Version{}, nil
		}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	sink := peering.SinkFunc(func(_ context.Context, s *peering.State) {
		fmt.Printf("%s gateway %s, %d peering(s), mesh entry: %v\n", s.Datacenter, s.Gateway.ID, len(s.Peerings), s.MeshConfig != nil)
		cancel() // one State is enough here
	})
	w, err := peering.NewWatcher(src, sink, peering.WithQuietPeriod(0))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Run(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// dc1 gateway mesh-gateway, 1 peering(s), mesh entry: false
}

func ExamplePermissionError() {
	// As ReadState or a Watcher's error handler might report it:
	err := fmt.Errorf("start: %w", &peering.PermissionError{Resource: "peerings", Rule: "peering:read"})

	var pe *peering.PermissionError
	if errors.As(err, &pe) {
		fmt.Println("grant the gateway token", pe.Rule)
	}
	fmt.Println(errors.Is(err, peering.ErrPermissionDenied))
	// Output:
	// grant the gateway token peering:read
	// true
}

// The optional parts: the gateway service's service-defaults entry, whose upstream
// limits Consul 1.18.2 and later apply to the gateway's clusters, and what the agent
// says of itself, whose version chooses the Consul release generation reproduces.
func ExampleAgentConfig() {
	maxConns := 100
	s := &peering.State{
		Datacenter: "dc1",
		ServiceDefaults: &api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "mesh-gateway",
			UpstreamConfig: &api.UpstreamConfiguration{Defaults: &api.UpstreamConfig{
				Limits: &api.UpstreamLimits{MaxConnections: &maxConns},
			}}},
		Agent: peering.AgentConfig{Version: "1.22.0", BindAddr: "2001:db8::1"},
	}
	read, err := peering.StaticSources(s).Read(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(read.Agent.Version, read.Agent.BindAddr)
	fmt.Println(read.ServiceDefaults.Name, *read.ServiceDefaults.UpstreamConfig.Defaults.Limits.MaxConnections)
	// Output:
	// 1.22.0 2001:db8::1
	// mesh-gateway 100
}
