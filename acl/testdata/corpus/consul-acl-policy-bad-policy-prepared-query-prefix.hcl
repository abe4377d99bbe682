query_prefix "foo" { policy = "nope" }
