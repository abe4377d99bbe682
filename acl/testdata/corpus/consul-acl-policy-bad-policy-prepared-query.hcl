query "foo" { policy = "nope" }
