service "foo" { policy = "write" intentions = "read" }
