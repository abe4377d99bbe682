service = []
peering = "read"
