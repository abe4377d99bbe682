node_prefix "foo" { policy = "nope" }
