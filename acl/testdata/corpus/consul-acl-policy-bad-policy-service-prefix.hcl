service_prefix "foo" { policy = "nope" }
