mesh = "write"
peerings = "read"
