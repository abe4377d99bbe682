peering = {}
