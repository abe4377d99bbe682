service "bar" { policy = "write" }
