node "foo" { policy = "nope" }
