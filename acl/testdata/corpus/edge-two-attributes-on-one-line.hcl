service "web" { policy = "read" intentions = "read" }
