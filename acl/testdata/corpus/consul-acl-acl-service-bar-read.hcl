service "bar" { policy = "read" }
