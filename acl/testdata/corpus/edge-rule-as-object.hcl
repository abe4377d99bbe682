service = { "web" = { policy = "read" } }
