node "bar" { policy = "write" }
