package acl_test

import (
	"errors"
	"fmt"

	"github.com/peeringgw/peeringgw/acl"
)

func ExamplePeeringRead() {
	for _, e := range []acl.Edition{acl.EditionCE, acl.EditionEnterprise} {
		p, err := acl.PeeringRead(e)
		if err != nil {
			fmt.Println(err)
			return
		}
		hcl, err := p.RenderCompactHCL()
		if err != nil {
			fmt.Println(err)
			return
		}
		json, err := p.RenderCompactJSON()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s\n%s\n", hcl, json)
	}
	// Output:
	// peering = "read"
	// { "peering": "read" }
	// partition_prefix "" { peering = "read" }
	// { "partition_prefix": { "": { "peering": "read" } } }
}

func ExampleMeshGateway() {
	p, err := acl.MeshGateway(acl.EditionCE, acl.WithGatewayName("gw-east"), acl.WithAgentRead(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	text, err := p.RenderHCL()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(text))
	// Output:
	// mesh    = "write"
	// peering = "read"
	// node_prefix "" {
	//   policy = "read"
	// }
	// service "gw-east" {
	//   policy = "write"
	// }
	// service_prefix "" {
	//   policy = "read"
	// }
}

func ExamplePolicy_RenderHCL() {
	p := &acl.Policy{
		PartitionPrefixes: []acl.PartitionRules{{Name: "", Rules: acl.Rules{Peering: acl.AccessRead}}},
	}
	text, err := p.RenderHCL()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(text))
	// Output:
	// partition_prefix "" {
	//   peering = "read"
	// }
}

func ExamplePolicy_RenderJSON() {
	p := &acl.Policy{Rules: acl.Rules{
		Peering:  acl.AccessRead,
		Services: []acl.ServiceRule{{Name: "web", Policy: acl.AccessWrite}},
	}}
	text, err := p.RenderJSON()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(text))
	// Output:
	// {
	//   "peering": "read",
	//   "service": {
	//     "web": {
	//       "policy": "write"
	//     }
	//   }
	// }
}

func ExampleParse() {
	_, err := acl.Parse([]byte("mesh = \"write\"\npeering = \"reed\"\n"), "gateway.hcl")
	fmt.Println(err)
	// Output:
	// acl: gateway.hcl:2: peering: invalid access level "reed": want read, write or deny
}

func ExampleWithWarnings() {
	// Consul reads HCL 1: one-line blocks with several attributes are fine, and a
	// misspelt rule is ignored, so it grants nothing.
	src := `service "web" { policy = "read" intentions = "read" }
peerings = "read"
`
	var warnings []*acl.ParseError
	p, err := acl.Parse([]byte(src), "gateway.hcl", acl.WithWarnings(&warnings))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range warnings {
		fmt.Println("warning:", w, errors.Is(w, acl.ErrUnknownRule))
	}
	text, err := p.RenderCompactHCL()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(text))

	_, err = acl.Parse([]byte(src), "gateway.hcl", acl.Strict())
	fmt.Println("strict:", err)
	// Output:
	// warning: acl: gateway.hcl:2: peerings: unknown rule "peerings": Consul ignores this rule true
	// service "web" {
	//   policy     = "read"
	//   intentions = "read"
	// }
	// strict: acl: gateway.hcl:2: peerings: unknown rule "peerings": Consul ignores this rule
}

func ExampleCheck() {
	report, err := acl.Check(`
operator = "write"
service "mesh-gateway" { policy = "write" }
service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
key_prefix "" { policy = "read" }
`, acl.EditionCE)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report)
	// Output:
	// mesh gateway "mesh-gateway" (ce): does not grant what a peering gateway needs
	// missing:
	//   agent:*:read
	// more than needed:
	//   operator = "write": operator grants cluster-wide operations; mesh = "write" and peering = "read" are enough
	//   key_prefix "" > policy = "read": a peering gateway needs no key access
}
