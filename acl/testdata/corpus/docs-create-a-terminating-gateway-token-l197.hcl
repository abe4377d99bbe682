partition "ptn1" {
  namespace "ns1" {
    service "terminating-gateway" {
       policy = "write"
    }
    node_prefix "" {
      policy = "read"
    }
    service "external-service-2" {
      policy = "write"
    }
  }
  namespace "default" {
    service "external-service-1" {
      policy = "write"
    }
    node_prefix "" {
      policy = "read"
    }
    agent_prefix "" {
      policy = "read"
    }
  }
}
