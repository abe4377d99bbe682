peering: read
