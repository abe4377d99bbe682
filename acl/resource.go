package acl

// Resource is a kind of thing a rule grants access to, as Consul names it in
// permission strings such as service:read.
type Resource string

// Resources, named as in Consul's rules.
const (
	// ResourceACL is the ACL API (acl).
	ResourceACL Resource = "acl"
	// ResourceAgent is the agent API, per node (agent, agent_prefix).
	ResourceAgent Resource = "agent"
	// ResourceEvent is user events (event, event_prefix).
	ResourceEvent Resource = "event"
	// ResourceKey is the KV store (key, key_prefix).
	ResourceKey Resource = "key"
	// ResourceKeyring is the gossip keyring (keyring).
	ResourceKeyring Resource = "keyring"
	// ResourceMesh is mesh config entries and gateways (mesh).
	ResourceMesh Resource = "mesh"
	// ResourceNode is catalog nodes (node, node_prefix).
	ResourceNode Resource = "node"
	// ResourceOperator is cluster operations (operator).
	ResourceOperator Resource = "operator"
	// ResourcePeering is cluster peerings (peering).
	ResourcePeering Resource = "peering"
	// ResourceQuery is prepared queries (query, query_prefix).
	ResourceQuery Resource = "query"
	// ResourceService is catalog services (service, service_prefix).
	ResourceService Resource = "service"
	// ResourceSession is sessions (session, session_prefix).
	ResourceSession Resource = "session"
)
