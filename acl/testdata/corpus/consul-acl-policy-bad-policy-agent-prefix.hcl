agent_prefix "foo" { policy = "nope" }
