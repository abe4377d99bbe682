node_prefix "" { policy = "read" }
