service = [{ web = { policy = "read" } }]
