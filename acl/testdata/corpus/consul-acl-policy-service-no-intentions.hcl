service "foo" { policy = "write" }
