key "a" { policy = "list" }
key_prefix "" { policy = "list" }
