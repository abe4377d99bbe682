service "foo" { policy = "write" intentions = "foo" }
