key "foo" { policy = "nope" }
