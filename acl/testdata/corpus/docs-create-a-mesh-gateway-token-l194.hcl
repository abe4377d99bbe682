mesh = "write"
partition_prefix "" {
  peering = "read"
}
partition "default" {
  namespace "default" {
    service "mesh-gateway" {
       policy = "write"
    }
    agent_prefix "" {
       policy = "read"
    }
  }
  namespace_prefix "" {
    node_prefix "" {
    	policy = "read"
    }
    service_prefix "" {
       policy = "read"
    }
  }
}
