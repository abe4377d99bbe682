node_prefix "Node" { policy = "read" }
