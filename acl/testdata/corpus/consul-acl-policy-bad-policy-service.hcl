service "foo" { policy = "nope" }
