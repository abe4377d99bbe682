peering = ""
