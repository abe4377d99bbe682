service = { policy = "read" }
