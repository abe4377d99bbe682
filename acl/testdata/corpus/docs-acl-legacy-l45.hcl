node "foo" { policy = "write" }
service "foo" { policy = "write" }
key "foo" { policy = "write" }
