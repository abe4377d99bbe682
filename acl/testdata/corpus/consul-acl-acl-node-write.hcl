node_prefix "" { policy = "write" }
