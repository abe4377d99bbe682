node "bar" { policy = "read" }
