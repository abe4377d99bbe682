service "a" { policy = "read" }
service = { b = { policy = "write" } }
service "c" { policy = "deny" }
