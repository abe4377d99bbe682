node_prefix "Node" { policy = "write" }
