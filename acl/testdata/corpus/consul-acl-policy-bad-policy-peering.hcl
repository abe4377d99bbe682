peering = "nope"
