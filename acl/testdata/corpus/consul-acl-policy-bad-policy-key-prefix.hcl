key_prefix "foo" { policy = "nope" }
