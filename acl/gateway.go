package acl

import (
	"fmt"
)

// Edition selects the Consul edition a policy is built or checked for.
type Edition int

// Editions.
const (
	// EditionCE is Consul Community Edition: peering and mesh are top-level rules.
	EditionCE Edition = iota + 1
	// EditionEnterprise is Consul Enterprise with the gateway in the default partition:
	// peering must be readable in every partition, which takes
	// partition_prefix "" { peering = "read" }.
	EditionEnterprise
	// EditionBoth is a policy that works on either edition, for tools that cannot tell
	// which one they talk to (consul-k8s emits such policies): the CE rules plus the
	// Enterprise partition blocks, which Consul CE ignores.
	EditionBoth
)

// String returns "ce", "enterprise" or "both".
func (e Edition) String() string {
	switch e {
	case EditionCE:
		return "ce"
	case EditionEnterprise:
		return "enterprise"
	case EditionBoth:
		return "both"
	}
	return fmt.Sprintf("Edition(%d)", int(e))
}

func (e Edition) check() error {
	if e < EditionCE || e > EditionBoth {
		return fmt.Errorf("%w %d", ErrUnknownEdition, int(e))
	}
	return nil
}

// ce and enterprise report which editions' forms e includes.
func (e Edition) ce() bool         { return e == EditionCE || e == EditionBoth }
func (e Edition) enterprise() bool { return e == EditionEnterprise || e == EditionBoth }

// DefaultGatewayName is the mesh gateway's service name unless WithGatewayName says
// otherwise; it is the name consul connect envoy -gateway=mesh registers by default.
const DefaultGatewayName = "mesh-gateway"

// defaultPartition is the partition mesh gateways that carry peering traffic must be
// registered in, and the default namespace.
const defaultPartition, defaultNamespace = "default", "default"

// Option configures MeshGateway and Check.
type Option func(*options)

type options struct {
	gatewayName string
	agentRead   bool
}

func newOptions(opts []Option) (options, error) {
	o := options{gatewayName: DefaultGatewayName, agentRead: true}
	for _, opt := range opts {
		opt(&o)
	}
	if o.gatewayName == "" {
		return o, fmt.Errorf("%w: empty gateway service name", ErrInvalidArgument)
	}
	return o, nil
}

// WithGatewayName sets the gateway's service name, which gets service:write. The
// default is DefaultGatewayName ("mesh-gateway").
func WithGatewayName(name string) Option {
	return func(o *options) { o.gatewayName = name }
}

// WithAgentRead sets whether the gateway needs agent:read on every node. It is only
// needed when consul connect envoy starts the gateway and discovers the agent's gRPC
// settings; without it MeshGateway leaves out the agent_prefix rule and Check reports
// agent read access as more than needed. The default is true, as in Consul's recipe.
func WithAgentRead(enabled bool) Option {
	return func(o *options) { o.agentRead = enabled }
}

// PeeringRead returns the peering rule alone, in the form the edition needs (see the
// package documentation):
//
//	EditionCE:          peering = "read"
//	EditionEnterprise:  partition_prefix "" { peering = "read" }
//	EditionBoth:        both rules
func PeeringRead(e Edition) (*Policy, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	p := &Policy{}
	if e.ce() {
		p.Peering = AccessRead
	}
	if e.enterprise() {
		p.PartitionPrefixes = []PartitionRules{{Name: "", Rules: Rules{Peering: AccessRead}}}
	}
	return p, nil
}

// MeshGateway returns the complete policy for a mesh gateway that routes cluster
// peering control-plane traffic, following Consul's "Create a mesh gateway token"
// recipe (website/content/docs/security/acl/tokens/create/create-a-mesh-gateway-token.mdx
// in Consul v1.14.8):
//
// EditionCE:
//
//	mesh = "write"
//	peering = "read"
//	service "<gateway>" { policy = "write" }
//	service_prefix "" { policy = "read" }
//	node_prefix "" { policy = "read" }
//	agent_prefix "" { policy = "read" }   # unless WithAgentRead(false)
//
// EditionEnterprise (the gateway in the default partition and namespace; the recipe's
// section "Consul Enterprise in default partition"):
//
//	mesh = "write"
//	partition_prefix "" { peering = "read" }
//	partition "default" {
//	  namespace "default" {
//	    service "<gateway>" { policy = "write" }
//	    agent_prefix "" { policy = "read" }   # unless WithAgentRead(false)
//	  }
//	  namespace_prefix "" {
//	    node_prefix "" { policy = "read" }
//	    service_prefix "" { policy = "read" }
//	  }
//	}
//
// Consul's cluster peering technical specifications ("ACL requirements" in
// website/content/docs/connect/cluster-peering/tech-specs.mdx) list the same core grants:
// service:write for the gateway, service:read on the partition's services, and
// mesh:write, which lets Consul issue the gateway a leaf certificate.
//
// EditionBoth is the union of the two, which is what consul-k8s's server-acl-init
// (meshGatewayRules) emits for the same reason: it cannot tell the editions apart.
// Consul CE ignores the partition blocks and sees the CE policy; Consul Enterprise sees
// both, the top-level rules applying to the default partition and namespace.
func MeshGateway(e Edition, opts ...Option) (*Policy, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	p := &Policy{Rules: Rules{Mesh: AccessWrite}}
	if e.ce() {
		p.Peering = AccessRead
		p.Services = []ServiceRule{{Name: o.gatewayName, Policy: AccessWrite}}
		p.ServicePrefixes = []ServiceRule{{Name: "", Policy: AccessRead}}
		p.NodePrefixes = []Rule{{Name: "", Policy: AccessRead}}
		p.AgentPrefixes = o.agentPrefixes()
	}
	if e.enterprise() {
		p.PartitionPrefixes = []PartitionRules{{Name: "", Rules: Rules{Peering: AccessRead}}}
		p.Partitions = []PartitionRules{{
			Name: defaultPartition,
			Namespaces: []NamespaceRules{{Name: defaultNamespace, Rules: Rules{
				Services:      []ServiceRule{{Name: o.gatewayName, Policy: AccessWrite}},
				AgentPrefixes: o.agentPrefixes(),
			}}},
			NamespacePrefixes: []NamespaceRules{{Name: "", Rules: Rules{
				ServicePrefixes: []ServiceRule{{Name: "", Policy: AccessRead}},
				NodePrefixes:    []Rule{{Name: "", Policy: AccessRead}},
			}}},
		}}
	}
	return p, nil
}

func (o options) agentPrefixes() []Rule {
	if !o.agentRead {
		return nil
	}
	return []Rule{{Name: "", Policy: AccessRead}}
}
