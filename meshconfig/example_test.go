package meshconfig_test

import (
	"errors"
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/meshconfig"
)

func ExampleNew() {
	entry := meshconfig.New(true)
	fmt.Println(entry.GetKind(), entry.GetName(), meshconfig.Enabled(entry))
	// Output:
	// mesh mesh true
}

func ExampleRenderHCL() {
	hcl, err := meshconfig.RenderHCL(meshconfig.New(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(hcl))
	// Output:
	// Kind = "mesh"
	// Peering {
	//   PeerThroughMeshGateways = true
	// }
}

func ExampleRenderYAML() {
	yaml, err := meshconfig.RenderYAML(meshconfig.New(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(yaml))
	// Output:
	// Kind: mesh
	// Peering:
	//   PeerThroughMeshGateways: true
}

func ExampleRenderJSON() {
	json, err := meshconfig.RenderJSON(meshconfig.New(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(json))
	// Output:
	// {
	//   "Kind": "mesh",
	//   "Peering": {
	//     "PeerThroughMeshGateways": true
	//   }
	// }
}

func ExampleSetPeerThroughMeshGateways() {
	existing := &api.MeshConfigEntry{
		TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
		Meta:             map[string]string{"owner": "platform"},
	}
	hcl, err := meshconfig.RenderHCL(meshconfig.SetPeerThroughMeshGateways(existing, true))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(hcl))
	// Output:
	// Kind = "mesh"
	// TransparentProxy {
	//   MeshDestinationsOnly = true
	// }
	// Peering {
	//   PeerThroughMeshGateways = true
	// }
	// Meta = {
	//   owner = "platform"
	// }
}

func ExampleParseHCL() {
	src := []byte(`
kind = "mesh"
peering {
  peer_through_mesh_gateways = true
}
transparent_proxy {
  mesh_destinations_only = true
}
`)
	entry, err := meshconfig.ParseHCL(src, "mesh.hcl")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(meshconfig.Enabled(entry), entry.TransparentProxy.MeshDestinationsOnly)
	// Output:
	// true true
}

func ExampleParseYAML() {
	_, err := meshconfig.ParseYAML([]byte("Kind: mesh\nPeering:\n  PeerThroughMeshGateway: true\n"), "mesh.yaml")
	fmt.Println(err)
	fmt.Println(errors.Is(err, meshconfig.ErrUnknownKey))
	// Output:
	// meshconfig: mesh.yaml:3: unknown key "Peering.PeerThroughMeshGateway"
	// true
}

func ExampleValidate() {
	entry := meshconfig.New(true)
	entry.Partition = "ap1"
	err := meshconfig.Validate(entry)
	fmt.Println(err)
	fmt.Println(errors.Is(err, meshconfig.ErrPartition))
	// Output:
	// meshconfig: invalid Partition "ap1": PeerThroughMeshGateways is only valid in the "default" partition
	// true
}

func ExampleNextStep() {
	var entry *api.MeshConfigEntry // the accepting cluster has no mesh config entry yet

	step := meshconfig.NextStep(meshconfig.RoleAccepting, meshconfig.StageBefore, entry)
	fmt.Println(step.Action)

	entry = meshconfig.New(true) // after meshconfig.Apply(ctx, client, true)
	fmt.Println(meshconfig.NextStep(meshconfig.RoleAccepting, meshconfig.StageBefore, entry).Action)
	fmt.Println(meshconfig.NextStep(meshconfig.RoleDialing, meshconfig.StageBefore, entry).Action)
	// Output:
	// apply the mesh config entry
	// generate the peering token
	// establish the peering
}

func ExampleStep_String() {
	fmt.Println(meshconfig.NextStep(meshconfig.RoleDialing, meshconfig.StageBefore, nil))
	// Output:
	// apply the mesh config entry: this cluster has no mesh config entry; apply the mesh config entry with PeerThroughMeshGateways = true (in the default partition) before establishing the connection: without it this cluster's servers dial the accepting cluster's addresses directly instead of going through their local mesh gateways
}
