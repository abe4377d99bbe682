agent "foo" { policy = "nope" }
