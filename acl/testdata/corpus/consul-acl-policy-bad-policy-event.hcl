event "foo" { policy = "nope" }
