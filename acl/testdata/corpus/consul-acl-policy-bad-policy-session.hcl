session "foo" { policy = "nope" }
