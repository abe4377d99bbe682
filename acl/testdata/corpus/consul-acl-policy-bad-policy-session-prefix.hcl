session_prefix "foo" { policy = "nope" }
