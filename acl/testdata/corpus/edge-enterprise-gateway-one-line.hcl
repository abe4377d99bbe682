partition_prefix "" { peering = "read" }
partition "default" { namespace "default" { service "mesh-gateway" { policy = "write" } } namespace_prefix "" { service_prefix "" { policy = "read" } node_prefix "" { policy = "read" } } }
