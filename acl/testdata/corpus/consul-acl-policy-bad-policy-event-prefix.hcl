event_prefix "foo" { policy = "nope" }
